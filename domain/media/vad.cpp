#include "domain/media/vad.hpp"

#include <algorithm>
#include <cmath>

namespace gobi::media {

double energy_dbfs(std::span<const std::int16_t> samples) noexcept {
  if (samples.empty()) return -100.0;
  std::int64_t sum = 0;
  for (const std::int16_t s : samples)
    sum += std::int64_t{s} * s;
  if (sum == 0) return -100.0;
  const double mean_square = static_cast<double>(sum) / static_cast<double>(samples.size());
  return std::max(-100.0, 10.0 * std::log10(mean_square / (32768.0 * 32768.0)));
}

namespace {
/// Per-frame smoothing factor of a first-order filter with time constant `tau`.
double alpha(std::chrono::milliseconds tau) noexcept {
  if (tau.count() <= 0) return 1.0;
  return 1.0 - std::exp(-static_cast<double>(frame_ms) / static_cast<double>(tau.count()));
}
} // namespace

energy_vad::energy_vad(const vad_options& o)
    : opts_(o)
    , rise_alpha_(alpha(o.floor_rise))
    , rise_speaking_alpha_(alpha(o.floor_rise_speaking))
    , fall_alpha_(alpha(o.floor_fall))
    , hangover_frames_(std::max<int>(1, static_cast<int>(o.hangover.count() / frame_ms))) {}

void energy_vad::reset() noexcept {
  *this = energy_vad{opts_};
}

vad_result energy_vad::process(const frame_view& f) noexcept {
  const double e = energy_dbfs(f.samples);
  last_db_ = e;
  if (!have_floor_) {
    floor_db_ = std::clamp(e, opts_.min_floor_dbfs, opts_.max_floor_dbfs);
    have_floor_ = true;
  }
  // Thresholds against the floor before this frame moves it.
  const bool loud = e >= floor_db_ + opts_.start_margin_db && e >= opts_.min_speech_dbfs;
  const bool quiet = e < floor_db_ + opts_.stop_margin_db || e < opts_.min_speech_dbfs;

  const double a = e < floor_db_ ? fall_alpha_ : (speaking_ ? rise_speaking_alpha_ : rise_alpha_);
  floor_db_ =
      std::clamp(floor_db_ + (e - floor_db_) * a, opts_.min_floor_dbfs, opts_.max_floor_dbfs);

  vad_result r;
  if (!speaking_) {
    if (loud) {
      if (loud_run_++ == 0) loud_since_ = f.time;
      if (loud_run_ >= opts_.start_frames) {
        speaking_ = true;
        quiet_run_ = 0;
        r = {vad_transition::speech_started, loud_since_};
      }
    } else {
      loud_run_ = 0;
    }
  } else {
    if (quiet) {
      if (quiet_run_++ == 0) quiet_since_ = f.time;
      if (quiet_run_ >= hangover_frames_) {
        speaking_ = false;
        loud_run_ = 0;
        r = {vad_transition::speech_ended, quiet_since_};
      }
    } else {
      quiet_run_ = 0;
    }
  }
  return r;
}

} // namespace gobi::media
