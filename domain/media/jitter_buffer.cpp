#include "domain/media/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gobi::media {

namespace {
std::int64_t us(std::chrono::microseconds d) noexcept {
  return d.count();
}
} // namespace

jitter_buffer::jitter_buffer(const jitter_options& o, duration_fn duration, rtp_handler* next)
    : opts_(o)
    , duration_(duration)
    , next_(next)
    , frame_units_(static_cast<std::int64_t>(frame_samples_at(o.clock_rate_hz))) {}

std::string jitter_buffer::name() const {
  return join_names("jitter", next_ ? next_->name() : std::string{});
}

std::int64_t jitter_buffer::units(std::int64_t micros) const noexcept {
  return to_rtp_units(std::chrono::microseconds{micros}, opts_.clock_rate_hz);
}

std::int64_t jitter_buffer::transit_us(std::int64_t ext_ts, media_time arrival) const noexcept {
  return us(arrival) - us(from_rtp_units(ext_ts, opts_.clock_rate_hz));
}

std::int64_t jitter_buffer::delay_us(media_time now) const noexcept {
  return transit_us(play_ts_, now) - base_us_;
}

std::chrono::microseconds jitter_buffer::target_delay() const noexcept {
  const double t = peak_us_ + static_cast<double>(us(opts_.margin));
  const auto lo = static_cast<double>(us(opts_.min_delay));
  const auto hi = static_cast<double>(us(opts_.max_delay));
  return std::chrono::microseconds{static_cast<std::int64_t>(std::clamp(t, lo, hi))};
}

std::chrono::microseconds jitter_buffer::playout_delay(media_time now) const noexcept {
  return std::chrono::microseconds{state_ == state::playing ? delay_us(now) : 0};
}

rtp_packet jitter_buffer::view(const slot& s) const noexcept {
  rtp_packet p;
  p.marker = s.marker;
  p.payload_type = s.payload_type;
  p.sequence = s.sequence;
  p.timestamp = s.timestamp;
  p.ssrc = s.ssrc;
  p.payload = std::span<const std::uint8_t>{s.data.data(), s.size};
  p.arrival = s.arrival;
  return p;
}

void jitter_buffer::release(slot& s) noexcept {
  s.used = false;
  --count_;
}

jitter_buffer::slot* jitter_buffer::earliest() noexcept {
  if (count_ == 0) return nullptr;
  slot& expected = slots_[static_cast<std::size_t>(next_seq_) % capacity];
  if (expected.used && expected.ext_seq == next_seq_) return &expected;
  slot* best = nullptr;
  for (auto& s : slots_)
    if (s.used && (!best || s.ext_seq < best->ext_seq)) best = &s;
  return best;
}

void jitter_buffer::resync() noexcept {
  for (auto& s : slots_)
    s.used = false;
  count_ = 0;
  seq_.reset();
  ts_.reset();
  state_ = state::idle;
  have_timeline_ = false;
  covered_ = 0;
  conceal_run_ = 0;
  far_late_run_ = 0;
  have_base_ = false;
  have_newest_ = false;
  ts_shift_ = 0;
}

void jitter_buffer::reset() noexcept {
  resync();
  peak_us_ = 0;
}

void jitter_buffer::update_base(std::int64_t transit, media_time arrival) noexcept {
  const std::int64_t half = us(opts_.base_window) / 2;
  if (!have_base_) {
    have_base_ = true;
    cur_min_us_ = prev_min_us_ = base_us_ = transit;
    bucket_start_ = arrival;
    return;
  }
  if (us(arrival - bucket_start_) >= half) {
    // The window slides by half: the older half's minimum is forgotten.
    prev_min_us_ = cur_min_us_;
    cur_min_us_ = transit;
    bucket_start_ = arrival;
  } else {
    cur_min_us_ = std::min(cur_min_us_, transit);
  }
  base_us_ = std::min(prev_min_us_, cur_min_us_);
}

void jitter_buffer::on_rtp(const rtp_packet& p) {
  const std::uint32_t dur = p.payload.empty() ? 0 : duration_(p.payload);
  if (dur == 0 || p.payload.size() > max_payload_bytes) {
    ++stats_.invalid;
    return;
  }
  const std::int64_t ext_seq = seq_.unwrap(p.sequence);
  std::int64_t ext_ts = ts_.unwrap(p.timestamp) + ts_shift_;
  std::int64_t transit = transit_us(ext_ts, p.arrival);

  if (have_newest_) {
    const bool jumped = std::abs(transit - base_us_) > us(opts_.discontinuity);
    const bool went_back = !jumped && have_timeline_ && ext_ts < play_ts_ &&
                           play_ts_ - ext_ts > units(2 * us(opts_.max_delay)) &&
                           (p.marker || ++far_late_run_ >= 2);
    if (jumped || went_back) {
      // The sender's clock jumped (a restarted or re-mixed stream). Carry on where its
      // timeline left off, as if the new packet had the newest one's transit: what is
      // buffered still plays, and the delay stays what it was.
      const std::int64_t desired = std::max(newest_end_, units(us(p.arrival) - newest_transit_));
      ts_shift_ += desired - ext_ts;
      ext_ts = desired;
      transit = transit_us(ext_ts, p.arrival);
      ++stats_.resyncs;
    }
  }
  update_base(transit, p.arrival);
  peak_us_ = std::max(peak_us_, static_cast<double>(transit - base_us_));
  if (!have_newest_ || ext_ts >= newest_ext_ts_) {
    have_newest_ = true;
    newest_ext_ts_ = ext_ts;
    newest_end_ = ext_ts + dur;
    newest_transit_ = transit;
  }
  if (have_timeline_ && ext_ts < play_ts_) {
    ++stats_.late;
    next_seq_ = std::max(next_seq_, ext_seq + 1);
    return;
  }
  far_late_run_ = 0;

  slot& s = slots_[static_cast<std::size_t>(ext_seq) % capacity];
  if (s.used) {
    if (s.ext_seq == ext_seq) {
      ++stats_.duplicates;
      return;
    }
    ++stats_.overflow;
    if (s.ext_seq > ext_seq) return; // the newcomer is the stale one
    release(s);
  }
  s.used = true;
  s.marker = p.marker;
  s.payload_type = p.payload_type;
  s.size = static_cast<std::uint16_t>(p.payload.size());
  s.sequence = p.sequence;
  s.timestamp = p.timestamp;
  s.ssrc = p.ssrc;
  s.duration = dur;
  s.ext_seq = ext_seq;
  s.ext_ts = ext_ts;
  s.arrival = p.arrival;
  std::copy(p.payload.begin(), p.payload.end(), s.data.begin());
  ++count_;
  ++stats_.inserted;
}

void jitter_buffer::tick(media_time now) {
  if (have_tick_ && opts_.peak_decay.count() > 0) {
    const double dt = static_cast<double>(us(now - last_tick_));
    peak_us_ *= std::exp(-dt / static_cast<double>(us(opts_.peak_decay)));
  }
  have_tick_ = true;
  last_tick_ = now;

  if (covered_ >= frame_units_) {
    covered_ -= frame_units_; // a long packet still covers this tick
    return;
  }
  const std::int64_t remaining = frame_units_ - covered_;
  const std::int64_t target = us(target_delay());
  const std::int64_t frame_us = static_cast<std::int64_t>(frame_ms) * 1000;
  std::int64_t emitted = 0;
  const auto hole = [this](std::int64_t n, gap_kind k, const rtp_packet* after) {
    last_was_silence_ = k == gap_kind::silence;
    next_->on_gap(static_cast<std::uint32_t>(n), k, after);
  };

  // Each pass hands on something that covers time or removes a packet, so the loop ends; the
  // bound is a guard against a bug, not a limit the logic relies on.
  for (std::size_t guard = 0; emitted < remaining && guard < 4 * capacity + 8; ++guard) {
    const std::int64_t want = remaining - emitted;
    slot* s = earliest();

    if (state_ == state::idle) {
      if (s && (transit_us(s->ext_ts, now) - base_us_ >= target || count_ >= capacity / 2)) {
        state_ = state::playing;
        have_timeline_ = true;
        play_ts_ = s->ext_ts;
        next_seq_ = s->ext_seq;
        conceal_run_ = 0;
        continue;
      }
      hole(want, gap_kind::silence, nullptr);
      emitted += want;
      break;
    }

    if (s && s->ext_ts < play_ts_) {
      ++stats_.late; // came in time for the buffer but playout moved past it
      next_seq_ = std::max(next_seq_, s->ext_seq + 1);
      release(*s);
      continue;
    }
    const std::int64_t delay = delay_us(now);

    if (s && s->ext_ts == play_ts_) {
      if (delay + frame_us < target && now - last_stretch_ >= opts_.stretch_interval) {
        // Well below target (jitter rose): hold the timeline for a moment to add delay.
        const auto gap32 = static_cast<std::uint32_t>(want);
        hole(want, last_was_silence_ ? gap_kind::silence : gap_kind::lost, nullptr);
        stats_.stretched += gap32;
        last_stretch_ = now;
        emitted += want;
        continue;
      }
      const bool above = delay > target + 2 * frame_us;
      if (above && count_ >= 2 && now - last_shrink_ >= opts_.shrink_interval) {
        // Well above target with packets to spare: drop one to cut the delay.
        play_ts_ += s->duration;
        next_seq_ = s->ext_seq + 1;
        last_shrink_ = now;
        ++stats_.dropped;
        release(*s);
        continue;
      }
      const rtp_packet p = view(*s);
      play_ts_ += s->duration;
      next_seq_ = s->ext_seq + 1;
      emitted += s->duration;
      conceal_run_ = 0;
      ++stats_.played;
      last_was_silence_ = false;
      next_->on_rtp(p);
      release(*s);
      continue;
    }

    std::int64_t gap = want;
    if (s) gap = std::min(gap, s->ext_ts - play_ts_);
    const auto gap32 = static_cast<std::uint32_t>(gap);

    if (!s) {
      if (conceal_run_ >= units(us(opts_.conceal_limit))) {
        state_ = state::idle; // the sender went quiet (or the network is down)
        hole(want, gap_kind::silence, nullptr);
        emitted += want;
        break;
      }
      hole(gap, gap_kind::lost, nullptr);
      stats_.concealed += gap32;
      conceal_run_ += gap;
      if (delay < target)
        stats_.stretched += gap32; // late rather than lost, perhaps: wait for it
      else
        play_ts_ += gap;
      emitted += gap;
      continue;
    }

    const bool missing = s->ext_seq != next_seq_;
    if (!missing && s->marker && delay > target + frame_us) {
      // A talk spurt starts after silence: play less of the silence to cut the delay.
      const std::int64_t cut = std::min(s->ext_ts - play_ts_, units(delay - target));
      if (cut > 0) {
        play_ts_ += cut;
        stats_.shortened += static_cast<std::uint64_t>(cut);
        continue;
      }
    }
    const bool hold = delay < target;
    if (missing) {
      const rtp_packet after = view(*s);
      const bool adjacent = !hold && play_ts_ + gap == s->ext_ts;
      hole(gap, gap_kind::lost, adjacent ? &after : nullptr);
      stats_.concealed += gap32;
    } else {
      hole(gap, gap_kind::silence, nullptr);
    }
    if (hold)
      stats_.stretched += gap32;
    else
      play_ts_ += gap;
    emitted += gap;
  }
  covered_ = std::max<std::int64_t>(0, emitted - remaining);
}

} // namespace gobi::media
