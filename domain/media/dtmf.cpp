#include "domain/media/dtmf.hpp"

#include "domain/media/bytes.hpp"
#include "domain/media/frame.hpp"

#include <algorithm>
#include <string_view>

namespace gobi::media {

namespace {
constexpr std::string_view digits_by_code = "0123456789*#ABCD";
}

int dtmf_event_code(char digit) noexcept {
  if (digit >= 'a' && digit <= 'd') digit = static_cast<char>(digit - 'a' + 'A');
  const auto pos = digits_by_code.find(digit);
  return pos == std::string_view::npos || digit == '\0' ? -1 : static_cast<int>(pos);
}

char dtmf_digit_of(int code) noexcept {
  return code >= 0 && code < 16 ? digits_by_code[static_cast<std::size_t>(code)] : '\0';
}

std::optional<telephone_event> parse_telephone_event(std::span<const std::uint8_t> p) noexcept {
  if (p.size() < telephone_event_bytes) return std::nullopt;
  telephone_event e;
  e.event = p[0];
  e.end = (p[1] & 0x80) != 0;
  e.volume = p[1] & 0x3f;
  e.duration = bytes::load_be16(&p[2]);
  return e;
}

std::size_t write_telephone_event(const telephone_event& e, std::span<std::uint8_t> out) noexcept {
  if (out.size() < telephone_event_bytes) return 0;
  out[0] = e.event;
  out[1] = static_cast<std::uint8_t>((e.end ? 0x80 : 0) | (e.volume & 0x3f));
  bytes::store_be16(&out[2], e.duration);
  return telephone_event_bytes;
}

// --- sender --------------------------------------------------------------------------------

dtmf_sender::dtmf_sender(const options& o) noexcept
    : opts_(o)
    , units_per_tick_(static_cast<std::uint32_t>(frame_samples_at(o.clock_rate_hz))) {}

bool dtmf_sender::queue(char digit, std::chrono::milliseconds duration) noexcept {
  const int code = dtmf_event_code(digit);
  if (code < 0 || count_ == max_queued) return false;
  const auto ticks = std::max<std::int64_t>(1, (duration.count() + frame_ms - 1) / frame_ms);
  const auto units = std::min<std::int64_t>(ticks * units_per_tick_, 0xffff);
  queue_[(head_ + count_++) % max_queued] = {static_cast<std::uint8_t>(code),
                                             static_cast<std::uint32_t>(units)};
  return true;
}

void dtmf_sender::clear() noexcept {
  count_ = 0;
  // An event already on the wire is finished properly (its end packets still go out).
  if (state_ == state::sending) {
    current_.units = elapsed_;
  }
}

std::optional<dtmf_sender::packet> dtmf_sender::next(std::uint32_t ts) noexcept {
  if (state_ == state::idle) {
    if (gap_left_ > 0) {
      --gap_left_;
      return std::nullopt;
    }
    if (count_ == 0) return std::nullopt;
    current_ = queue_[head_];
    head_ = (head_ + 1) % max_queued;
    --count_;
    state_ = state::sending;
    start_ts_ = ts;
    elapsed_ = 0;
  }
  packet p;
  p.timestamp = start_ts_;
  telephone_event e{current_.event, false, opts_.volume, 0};
  if (state_ == state::sending) {
    p.marker = elapsed_ == 0;
    elapsed_ = std::min<std::uint32_t>(elapsed_ + units_per_tick_, 0xffff);
    if (elapsed_ >= current_.units) {
      state_ = state::ending;
      ends_left_ = opts_.end_repeats;
    }
  }
  e.duration = static_cast<std::uint16_t>(elapsed_);
  if (state_ == state::ending) {
    e.end = true;
    if (--ends_left_ <= 0) {
      state_ = state::idle;
      gap_left_ = opts_.gap_ticks;
    }
  }
  write_telephone_event(e, p.payload);
  return p;
}

// --- detector ------------------------------------------------------------------------------

void dtmf_detector::reset() noexcept {
  *this = dtmf_detector{opts_};
}

dtmf_received dtmf_detector::finish(media_time at) noexcept {
  active_ = false;
  have_reported_ = true;
  reported_ts_ = ts_;
  dtmf_received d;
  d.digit = dtmf_digit_of(current_.event);
  d.rtp_timestamp = ts_;
  d.duration = std::chrono::milliseconds{std::int64_t{current_.duration} * 1000 /
                                         std::max<std::uint32_t>(opts_.clock_rate_hz, 1)};
  d.volume = current_.volume;
  d.at = at;
  return d;
}

dtmf_detector::digits dtmf_detector::on_packet(const rtp_packet& p) noexcept {
  digits out;
  const auto e = parse_telephone_event(p.payload);
  if (!e || e->event > 15) return out; // not a DTMF event (tones, flash...): ignored
  if (have_reported_ && !ts_after(p.timestamp, reported_ts_))
    return out; // a repeated end, or a straggler of an event already reported
  if (active_ && p.timestamp != ts_) {
    if (!ts_after(p.timestamp, ts_)) return out; // older than the event in progress
    out.items[out.count++] = finish(p.arrival);  // its end was lost
  }
  if (!active_) {
    active_ = true;
    ts_ = p.timestamp;
    current_ = *e;
  }
  current_.duration = std::max(current_.duration, e->duration);
  current_.volume = e->volume;
  last_arrival_ = p.arrival;
  if (e->end) out.items[out.count++] = finish(p.arrival);
  return out;
}

dtmf_detector::digits dtmf_detector::tick(media_time now) noexcept {
  digits out;
  if (active_ && now - last_arrival_ >= opts_.end_timeout) out.items[out.count++] = finish(now);
  return out;
}

} // namespace gobi::media
