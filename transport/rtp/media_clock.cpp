#include "transport/rtp/media_clock.hpp"

#include <utility>

namespace gobi::rtp {

// --- tick_schedule -------------------------------------------------------------------------

std::optional<media_tick> tick_schedule::fire(time_point now) noexcept {
  const auto due_at = deadline();
  if (now < due_at) return std::nullopt;
  const auto lateness = now - due_at;
  if (lateness > max_lateness_) max_lateness_ = lateness;
  media_tick t;
  t.index = next_;
  if (lateness >= period_) {
    // A period or more late: run the tick now due, skip the ones in between.
    t.index = static_cast<std::uint64_t>((now - start_) / period_);
    t.skipped = static_cast<std::uint32_t>(t.index - next_);
    skipped_ += t.skipped;
    ++late_;
  }
  t.deadline = start_ + period_ * static_cast<long>(t.index);
  t.now = now;
  next_ = t.index + 1;
  ++ticks_;
  return t;
}

// --- stream_list ---------------------------------------------------------------------------

stream_list::~stream_list() { clear(); }

bool stream_list::contains(const clocked_stream& s) const noexcept {
  return s.slot_ < streams_.size() && streams_[s.slot_].get() == &s;
}

bool stream_list::add(std::shared_ptr<clocked_stream> s) {
  if (!s || s->slot_ != clocked_stream::no_slot) return false;
  s->slot_ = streams_.size();
  streams_.push_back(std::move(s));
  return true;
}

bool stream_list::remove(const clocked_stream& s) {
  if (!contains(s)) return false;
  const auto slot = s.slot_;
  auto victim = std::move(streams_[slot]);
  victim->slot_ = clocked_stream::no_slot;
  if (ticking_) {
    // Keep positions stable while the tick walks the vector: leave a hole, free it afterwards
    // (the victim may be the stream whose on_tick is running).
    ++holes_;
    removed_.push_back(std::move(victim));
    return true;
  }
  if (slot + 1 != streams_.size()) {
    streams_[slot] = std::move(streams_.back());
    streams_[slot]->slot_ = slot;
  }
  streams_.pop_back();
  return true; // victim released here, after the list is consistent again
}

void stream_list::tick(const media_tick& t) {
  ticking_ = true;
  const auto n = streams_.size(); // streams added during the tick wait for the next one
  for (std::size_t i = 0; i < n; ++i)
    if (auto* s = streams_[i].get()) s->on_tick(t);
  ticking_ = false;
  if (holes_ > 0) compact();
  removed_.clear();
}

void stream_list::compact() {
  std::size_t w = 0;
  for (std::size_t r = 0; r < streams_.size(); ++r) {
    if (!streams_[r]) continue;
    if (w != r) {
      streams_[w] = std::move(streams_[r]);
      streams_[w]->slot_ = w;
    }
    ++w;
  }
  streams_.resize(w);
  holes_ = 0;
}

void stream_list::clear() {
  auto all = std::move(streams_);
  streams_.clear();
  holes_ = 0;
  for (auto& s : all)
    if (s) s->slot_ = clocked_stream::no_slot;
  // `all` released here: destructors see an empty, consistent list.
}

} // namespace gobi::rtp
