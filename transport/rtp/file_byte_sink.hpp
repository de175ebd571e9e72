#pragma once

/// The file-backed `media::byte_sink` (domain/media/wav.hpp) that call recordings are written
/// to: a stdio stream with a large buffer, so a call's recorder (64 KB of stereo 16 kHz audio a
/// second) costs about one write(2) a second on its transport thread.

#include "domain/media/wav.hpp"
#include "domain/result.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace gobi::rtp {

/// Owned by one call's media session; single-threaded (the port's transport thread after
/// setup). Closing flushes and closes the file; the destructor closes too.
class file_byte_sink final : public media::byte_sink {
public:
  /// Creates (truncates) `path`. errc::internal with the OS reason when it cannot.
  static result<std::unique_ptr<file_byte_sink>> create(const std::string& path,
                                                        std::size_t buffer_bytes = 64 * 1024);
  file_byte_sink(const file_byte_sink&) = delete;
  file_byte_sink& operator=(const file_byte_sink&) = delete;
  ~file_byte_sink() override;

  bool write(std::span<const std::uint8_t> data) override;
  bool seek(std::uint64_t offset) override;
  /// Flushes and closes; false if anything failed since creation. Idempotent.
  bool close();
  bool ok() const noexcept { return ok_; }
  const std::string& path() const noexcept { return path_; }

private:
  file_byte_sink(std::FILE* f, std::string path) noexcept
      : file_(f)
      , path_(std::move(path)) {}

  std::FILE* file_;
  std::string path_;
  bool ok_ = true;
};

} // namespace gobi::rtp
