#include "domain/media/wav.hpp"

#include "domain/media/bytes.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace gobi::media {

bool memory_byte_sink::write(std::span<const std::uint8_t> d) {
  if (data_.size() < pos_ + d.size()) data_.resize(pos_ + d.size());
  std::copy(d.begin(), d.end(), data_.begin() + static_cast<std::ptrdiff_t>(pos_));
  pos_ += d.size();
  return true;
}

bool memory_byte_sink::seek(std::uint64_t offset) {
  if (offset > data_.size()) return false;
  pos_ = static_cast<std::size_t>(offset);
  return true;
}

namespace {
// RIFF sizes are 32 bits: the data chunk may hold 4 GiB less the rest of the header.
constexpr std::uint64_t max_data_bytes = 0xffffffffull - (wav_header_bytes - 8);
} // namespace

wav_writer::wav_writer(byte_sink& sink, std::uint32_t sample_rate_hz, std::uint16_t channels)
    : sink_(sink)
    , rate_(sample_rate_hz)
    , channels_(channels) {
  std::array<std::uint8_t, wav_header_bytes> h{};
  std::memcpy(&h[0], "RIFF", 4);
  bytes::store_le32(&h[4], 0); // fixed at close: 36 + data bytes
  std::memcpy(&h[8], "WAVE", 4);
  std::memcpy(&h[12], "fmt ", 4);
  bytes::store_le32(&h[16], 16); // PCM format chunk size
  bytes::store_le16(&h[20], 1);  // PCM
  bytes::store_le16(&h[22], channels);
  bytes::store_le32(&h[24], sample_rate_hz);
  bytes::store_le32(&h[28], sample_rate_hz * channels * 2u);            // byte rate
  bytes::store_le16(&h[32], static_cast<std::uint16_t>(channels * 2u)); // block align
  bytes::store_le16(&h[34], 16);                                        // bits per sample
  std::memcpy(&h[36], "data", 4);
  bytes::store_le32(&h[40], 0); // fixed at close
  ok_ = sink_.write(h);
}

bool wav_writer::write(std::span<const std::int16_t> interleaved) {
  if (!ok_ || closed_) return false;
  if (data_bytes_ + interleaved.size() * 2 > max_data_bytes) return ok_ = false;
  if constexpr (std::endian::native == std::endian::little) { // the file's order already
    const std::span<const std::uint8_t> raw{
        reinterpret_cast<const std::uint8_t*>(interleaved.data()), interleaved.size() * 2};
    if (!sink_.write(raw)) return ok_ = false;
    data_bytes_ += raw.size();
    return true;
  }
  // Little-endian on the wire whatever the host: convert through a small stack buffer.
  std::array<std::uint8_t, 2048> buf;
  for (std::size_t i = 0; i < interleaved.size();) {
    const std::size_t n = std::min(interleaved.size() - i, buf.size() / 2);
    for (std::size_t k = 0; k < n; ++k)
      bytes::store_le16(&buf[2 * k], static_cast<std::uint16_t>(interleaved[i + k]));
    if (!sink_.write(std::span<const std::uint8_t>{buf.data(), 2 * n})) return ok_ = false;
    i += n;
  }
  data_bytes_ += interleaved.size() * 2;
  return true;
}

bool wav_writer::close() {
  if (closed_) return ok_;
  closed_ = true;
  if (!ok_) return false;
  std::array<std::uint8_t, 4> v{};
  bytes::store_le32(v.data(), static_cast<std::uint32_t>(data_bytes_ + wav_header_bytes - 8));
  ok_ = sink_.seek(4) && sink_.write(v);
  bytes::store_le32(v.data(), static_cast<std::uint32_t>(data_bytes_));
  ok_ = ok_ && sink_.seek(40) && sink_.write(v) && sink_.seek(wav_header_bytes + data_bytes_);
  return ok_;
}

} // namespace gobi::media
