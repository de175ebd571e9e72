#pragma once

/// Sample-rate conversion for mono 16-bit PCM (speexdsp underneath; its header stays in the
/// .cpp). One resampler per direction per call, created at chain build: it keeps filter
/// history between blocks, so a 20 ms block in gives exactly 20 ms out (160 <-> 320 <-> 960
/// samples for 8, 16 and 48 kHz). Quality 0-10 trades CPU for stop-band attenuation; 3 is
/// plenty for telephone speech.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace gobi::media {

class resampler {
public:
  /// Check `ok()`: speexdsp refuses zero rates or a quality outside 0-10.
  resampler(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, int quality);
  ~resampler();
  resampler(resampler&&) noexcept;
  resampler& operator=(resampler&&) noexcept;

  bool ok() const noexcept { return state_ != nullptr; }
  std::uint32_t in_rate_hz() const noexcept { return in_rate_; }
  std::uint32_t out_rate_hz() const noexcept { return out_rate_; }

  /// Converts `in`; returns the samples written to `out` (in.size() * out/in when `out` is
  /// large enough).
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) noexcept;

  /// Delay the filter adds, in output samples.
  int output_latency() const noexcept;

  /// Forgets the filter history (a new stream).
  void reset() noexcept;

private:
  struct state;
  struct deleter {
    void operator()(state* s) const noexcept;
  };
  std::unique_ptr<state, deleter> state_;
  std::uint32_t in_rate_ = 0;
  std::uint32_t out_rate_ = 0;
};

} // namespace gobi::media
