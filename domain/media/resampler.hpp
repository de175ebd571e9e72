#pragma once

/// Sample-rate conversion for mono 16-bit PCM (speexdsp underneath; its header stays in the
/// .cpp). One resampler per direction per call, created at chain build: it keeps filter
/// history between blocks, so a 20 ms block in gives exactly 20 ms out (160 <-> 320 <-> 960
/// samples for 8, 16 and 48 kHz). Quality 0-10 trades CPU for stop-band attenuation; 3 is
/// plenty for telephone speech.
///
/// Silence is free: once the filter has taken in `quiet_history_samples` zeros in a row (more
/// than any quality's filter spans, so its history holds nothing else), a block of zeros whose
/// length converts to a whole number of output samples gives zeros without running the filter,
/// and leaves the filter's state as running it would have (zeros in, zeros kept). The output is
/// bit for bit what speexdsp gives (resampler_test). Measured: the outbound stream is silent
/// whenever the agent is not speaking, and speexdsp was 31% of the RTP thread's time with 1,000
/// calls (docs/benchmarks.md, "Calls").

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

  /// Zeros in a row after which the filter holds only zeros (speexdsp's longest filter, 256
  /// taps at quality 10, scaled by a 3:1 down-sampling ratio, is below this).
  static constexpr std::size_t quiet_history_samples = 1024;
  /// Blocks answered without running the filter (silence after silence), for tests and stats.
  std::uint64_t skipped_blocks() const noexcept { return skipped_; }
  /// Turns the silence shortcut off (on by default), e.g. to compare against the filter.
  void set_skip_silence(bool on) noexcept { skip_silence_ = on; }

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
  std::size_t quiet_in_ = 0; ///< zeros in a row the filter has taken in (capped)
  std::uint64_t skipped_ = 0;
  bool skip_silence_ = true;
};

} // namespace gobi::media
