#pragma once

/// Opus (RFC 6716, RTP payload RFC 7587) for telephone speech: SDP says `opus/48000/2` and
/// RTP timestamps count 48 kHz, but gobi encodes and decodes mono at its internal 16 kHz
/// (libopus resamples internally and a receiver may always decode at any rate and channel
/// count). libopus's header stays in the .cpp.
///
/// One encoder and one decoder per call, created at chain build, used on the call's media
/// thread. Neither allocates after creation.

#include "domain/media/defaults.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace gobi::media {

struct opus_settings {
  std::uint32_t sample_rate_hz = 16000;         ///< PCM rate in and out (8, 12, 16, 24 or 48 kHz)
  int bitrate_bps = defaults::opus_bitrate_bps; ///< wideband speech: fine at 20-32 kb/s
  int complexity = defaults::opus_complexity;   ///< 0-10: CPU against quality
  bool inband_fec = defaults::opus_inband_fec;  ///< LBRR copies of the previous frame (SILK)
  int expected_loss_percent = defaults::opus_expected_loss_percent; ///< FEC budget
  bool dtx = false; ///< discontinuous transmission (we pace every tick)
};

class opus_encoder {
public:
  /// Check `ok()`.
  explicit opus_encoder(const opus_settings& s);
  ~opus_encoder();
  opus_encoder(opus_encoder&&) noexcept;
  opus_encoder& operator=(opus_encoder&&) noexcept;
  bool ok() const noexcept { return state_ != nullptr; }

  /// Encodes one frame (2.5-60 ms of mono PCM at the configured rate; 20 ms here) into
  /// `out`. Returns the packet's size, or a negative libopus error code.
  int encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> out) noexcept;

  /// Bytes of encoder state (for the memory budget).
  std::size_t state_bytes() const noexcept;

private:
  struct state;
  struct deleter {
    void operator()(state* s) const noexcept;
  };
  std::unique_ptr<state, deleter> state_;
};

class opus_decoder {
public:
  /// Decodes mono at `sample_rate_hz`. Check `ok()`.
  explicit opus_decoder(std::uint32_t sample_rate_hz = 16000);
  ~opus_decoder();
  opus_decoder(opus_decoder&&) noexcept;
  opus_decoder& operator=(opus_decoder&&) noexcept;
  bool ok() const noexcept { return state_ != nullptr; }

  /// Decodes one packet into `out` (room for up to 120 ms). Returns samples, or < 0 on error.
  int decode(std::span<const std::uint8_t> packet, std::span<std::int16_t> out) noexcept;
  /// Packet-loss concealment: fills `out` (a multiple of 2.5 ms) from the decoder's state.
  int conceal(std::span<std::int16_t> out) noexcept;
  /// Recovers the packet before `next` from `next`'s in-band FEC into `out` (the missing
  /// duration, a multiple of 2.5 ms). Falls back to concealment when `next` carries none.
  int recover(std::span<const std::uint8_t> next, std::span<std::int16_t> out) noexcept;

  std::size_t state_bytes() const noexcept;

  /// Samples at 48 kHz (the RTP clock) in a packet, or 0 when it is not valid Opus.
  static std::uint32_t packet_duration_48k(std::span<const std::uint8_t> packet) noexcept;

private:
  struct state;
  struct deleter {
    void operator()(state* s) const noexcept;
  };
  std::unique_ptr<state, deleter> state_;
};

} // namespace gobi::media
