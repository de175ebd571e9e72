#pragma once

/// Streaming WAV (RIFF, 16-bit PCM) writing onto a `byte_sink`, so the domain never touches a
/// file: the transport gives a file-backed sink, tests an in-memory one. The header goes out
/// first with sizes of zero and is fixed up by `close()` (seek back, rewrite the two sizes),
/// so a crash leaves a file whose data is intact and whose sizes a repair tool can recompute.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace gobi::media {

/// Where bytes go: a file, a buffer. `seek` is only used to rewrite the header at close.
class byte_sink {
public:
  virtual ~byte_sink() = default;
  /// Writes at the current position; false on failure.
  virtual bool write(std::span<const std::uint8_t> data) = 0;
  /// Moves the position to `offset` from the start; false on failure.
  virtual bool seek(std::uint64_t offset) = 0;
};

/// A byte sink in memory, for tests and small recordings.
class memory_byte_sink final : public byte_sink {
public:
  bool write(std::span<const std::uint8_t> data) override;
  bool seek(std::uint64_t offset) override;
  const std::vector<std::uint8_t>& data() const noexcept { return data_; }

private:
  std::vector<std::uint8_t> data_;
  std::size_t pos_ = 0;
};

inline constexpr std::size_t wav_header_bytes = 44;

/// Writes interleaved 16-bit PCM as a WAV stream. Not copyable; single-threaded.
class wav_writer {
public:
  /// Writes the header now. Check `ok()`.
  wav_writer(byte_sink& sink, std::uint32_t sample_rate_hz, std::uint16_t channels);
  wav_writer(const wav_writer&) = delete;
  wav_writer& operator=(const wav_writer&) = delete;

  /// Appends interleaved samples (a multiple of the channel count). False on a sink failure
  /// or past the 4 GiB a RIFF size can express.
  bool write(std::span<const std::int16_t> interleaved);
  /// Fixes up the header sizes. Idempotent; false on a sink failure.
  bool close();

  bool ok() const noexcept { return ok_; }
  std::uint64_t data_bytes() const noexcept { return data_bytes_; }

private:
  byte_sink& sink_;
  std::uint32_t rate_;
  std::uint16_t channels_;
  std::uint64_t data_bytes_ = 0;
  bool ok_ = true;
  bool closed_ = false;
};

} // namespace gobi::media
