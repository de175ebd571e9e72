#include "domain/media/recorder.hpp"

#include <algorithm>

namespace gobi::media {

call_recorder::call_recorder(byte_sink& sink, const recorder_options& o)
    : wav_(sink, internal_rate_hz, 2)
    , skew_samples_(std::max<std::int64_t>(o.max_skew.count(), frame_ms) * internal_rate_hz / 1000)
    , sides_{side{this, 0, "recorder(caller)"}, side{this, 1, "recorder(agent)"}} {
  // Room for the allowed skew plus a frame arriving on top of it.
  const auto cap = static_cast<std::size_t>(skew_samples_) + 2 * frame_samples;
  for (auto& t : tracks_)
    t.ring.assign(cap, 0);
}

void call_recorder::add(int index, const frame_view& f) {
  if (closed_) return;
  if (f.sample_rate_hz != internal_rate_hz) {
    dropped_ += f.samples.size();
    return;
  }
  if (!have_origin_) {
    have_origin_ = true;
    origin_ = f.time;
  }
  track& t = tracks_[static_cast<std::size_t>(index)];
  const auto n = static_cast<std::int64_t>(f.samples.size());
  const std::int64_t cap = static_cast<std::int64_t>(t.ring.size());
  // Where the clock says this frame belongs, to the nearest sample.
  const std::int64_t us = (f.time - origin_).count();
  const std::int64_t pos = (us * internal_rate_hz + 500'000) / 1'000'000;
  constexpr auto tolerance = static_cast<std::int64_t>(frame_samples / 2);
  // Within half a frame of where the side's audio ends: append (the tick was early or
  // late). Further ahead, the side paused: silence in between. Further behind, the frame is
  // late: it goes where it belongs, and what was already written of that stretch is dropped.
  std::int64_t start = t.end;
  if (!t.started || pos > t.end + tolerance || pos < t.end - tolerance) start = pos;
  t.started = true;

  std::int64_t skip = 0;
  if (start < flushed_) {
    skip = std::min(n, flushed_ - start); // already written: too late for those samples
    dropped_ += static_cast<std::uint64_t>(skip);
  }
  const std::int64_t end = start + n;
  if (end - flushed_ > cap) flush(end - cap); // never overwrite what is not written yet
  // Copy in at most two runs (the ring may wrap once).
  auto at = static_cast<std::size_t>((start + skip) % cap);
  for (auto i = static_cast<std::size_t>(skip); i < f.samples.size();) {
    const std::size_t run = std::min(f.samples.size() - i, t.ring.size() - at);
    std::copy_n(f.samples.begin() + static_cast<std::ptrdiff_t>(i), run,
                t.ring.begin() + static_cast<std::ptrdiff_t>(at));
    i += run;
    at = 0;
  }
  t.end = end;

  const std::int64_t lo = std::min(tracks_[0].end, tracks_[1].end);
  const std::int64_t hi = std::max(tracks_[0].end, tracks_[1].end);
  flush(std::max(lo, hi - skew_samples_));
}

void call_recorder::flush(std::int64_t upto) {
  std::array<std::int16_t, 2 * frame_samples> stereo;
  const std::size_t cap = tracks_[0].ring.size();
  while (flushed_ < upto) {
    // A run that neither crosses the ring's end nor overflows the stereo buffer.
    const auto slot = static_cast<std::size_t>(flushed_ % static_cast<std::int64_t>(cap));
    const std::size_t n =
        std::min({static_cast<std::size_t>(upto - flushed_), frame_samples, cap - slot});
    const std::int16_t* l = tracks_[0].ring.data() + slot;
    const std::int16_t* r = tracks_[1].ring.data() + slot;
    for (std::size_t i = 0; i < n; ++i) {
      stereo[2 * i] = l[i];
      stereo[2 * i + 1] = r[i];
    }
    // Written samples become silence, so a stretch nobody fills next time round is quiet.
    for (auto& t : tracks_)
      std::fill_n(t.ring.begin() + static_cast<std::ptrdiff_t>(slot), n, std::int16_t{0});
    wav_.write(std::span<const std::int16_t>{stereo.data(), 2 * n});
    flushed_ += static_cast<std::int64_t>(n);
  }
  for (auto& t : tracks_)
    t.end = std::max(t.end, flushed_);
}

bool call_recorder::close() {
  if (!closed_) {
    flush(std::max(tracks_[0].end, tracks_[1].end));
    closed_ = true;
  }
  return wav_.close();
}

} // namespace gobi::media
