#include "domain/media/resampler.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <limits>

namespace gobi::media {

// speexdsp's state is an opaque C struct; this type only names it for the unique_ptr.
struct resampler::state {};

namespace {
SpeexResamplerState* raw(void* s) noexcept {
  return static_cast<SpeexResamplerState*>(s);
}
} // namespace

void resampler::deleter::operator()(state* s) const noexcept {
  speex_resampler_destroy(raw(s));
}

resampler::resampler(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, int quality)
    : in_rate_(in_rate_hz)
    , out_rate_(out_rate_hz) {
  int err = 0;
  if (in_rate_hz == 0 || out_rate_hz == 0) return;
  SpeexResamplerState* s = speex_resampler_init(1, in_rate_hz, out_rate_hz, quality, &err);
  if (s && err == RESAMPLER_ERR_SUCCESS)
    state_.reset(reinterpret_cast<state*>(s));
  else if (s)
    speex_resampler_destroy(s);
}

resampler::~resampler() = default;
resampler::resampler(resampler&&) noexcept = default;
resampler& resampler::operator=(resampler&&) noexcept = default;

std::size_t resampler::process(std::span<const std::int16_t> in,
                               std::span<std::int16_t> out) noexcept {
  if (!state_) return 0;
  const bool silent =
      std::all_of(in.begin(), in.end(), [](std::int16_t v) { return v == 0; });
  if (silent && skip_silence_ && quiet_in_ >= quiet_history_samples) {
    const std::uint64_t wide = std::uint64_t{in.size()} * out_rate_;
    if (wide % in_rate_ == 0 && wide / in_rate_ <= out.size()) {
      const auto n = static_cast<std::size_t>(wide / in_rate_);
      std::fill_n(out.begin(), n, std::int16_t{0});
      ++skipped_;
      return n;
    }
  }
  quiet_in_ = silent ? std::min(quiet_in_ + in.size(), quiet_history_samples) : 0;
  constexpr auto max = std::numeric_limits<spx_uint32_t>::max();
  auto in_len = static_cast<spx_uint32_t>(std::min<std::size_t>(in.size(), max));
  auto out_len = static_cast<spx_uint32_t>(std::min<std::size_t>(out.size(), max));
  speex_resampler_process_int(raw(state_.get()), 0, in.data(), &in_len, out.data(), &out_len);
  return out_len;
}

int resampler::output_latency() const noexcept {
  return state_ ? speex_resampler_get_output_latency(raw(state_.get())) : 0;
}

void resampler::reset() noexcept {
  if (state_) speex_resampler_reset_mem(raw(state_.get()));
  quiet_in_ = 0;
}

} // namespace gobi::media
