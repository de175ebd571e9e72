#include "transport/rtp/file_byte_sink.hpp"

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace gobi::rtp {

result<std::unique_ptr<file_byte_sink>> file_byte_sink::create(const std::string& path,
                                                               std::size_t buffer_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return make_error(errc::internal,
                      "cannot create recording '" + path + "': " + std::strerror(errno));
  // A full buffer is written in one go; stdio owns it (a null buffer: allocated by setvbuf).
  std::setvbuf(f, nullptr, _IOFBF, buffer_bytes);
  return std::unique_ptr<file_byte_sink>(new file_byte_sink(f, path));
}

file_byte_sink::~file_byte_sink() {
  close();
}

bool file_byte_sink::write(std::span<const std::uint8_t> data) {
  if (!file_) return false;
  if (data.empty()) return ok_;
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) ok_ = false;
  return ok_;
}

bool file_byte_sink::seek(std::uint64_t offset) {
  if (!file_ || offset > static_cast<std::uint64_t>(std::numeric_limits<long>::max())) return false;
  if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0) ok_ = false;
  return ok_;
}

bool file_byte_sink::close() {
  if (!file_) return ok_;
  if (std::fclose(std::exchange(file_, nullptr)) != 0) ok_ = false;
  return ok_;
}

} // namespace gobi::rtp
