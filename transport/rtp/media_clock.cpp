#include "transport/rtp/media_clock.hpp"

#include <algorithm>
#include <utility>

namespace gobi::rtp {

// --- tick_schedule -------------------------------------------------------------------------

std::optional<media_tick> tick_schedule::fire(time_point now) noexcept {
  if (now < deadline()) return std::nullopt;
  // Lateness of the wake-up: the first call for it still has the owed tick in next_.
  if (now - deadline() > max_lateness_) max_lateness_ = now - deadline();
  const auto due = static_cast<std::uint64_t>((now - start_) / period_);
  media_tick t;
  if (due >= next_ + window_) {
    // Ticks next_ .. due - window_ are superseded by newer ticks of the same phase.
    t.skipped = static_cast<std::uint32_t>(due - window_ + 1 - next_);
    skipped_ += t.skipped;
    ++late_;
    next_ = due - window_ + 1;
  }
  t.index = next_;
  t.deadline = deadline();
  t.now = now;
  ++next_;
  ++ticks_;
  return t;
}

// --- stream_list ---------------------------------------------------------------------------

stream_list::~stream_list() {
  clear();
}

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

// --- phased_streams ------------------------------------------------------------------------

phased_streams::phased_streams(unsigned phases)
    : lists_(phases == 0 ? 1 : phases)
    , next_(lists_.size(), 0) {}

bool phased_streams::add(std::shared_ptr<clocked_stream> s) {
  auto emptiest = std::min_element(lists_.begin(), lists_.end(), [](const auto& a, const auto& b) {
    return a.size() < b.size();
  });
  return emptiest->add(std::move(s));
}

bool phased_streams::remove(const clocked_stream& s) {
  for (auto& l : lists_)
    if (l.remove(s)) return true;
  return false;
}

void phased_streams::tick(const media_tick& sub) {
  const auto n = lists_.size();
  const auto phase = static_cast<std::size_t>(sub.index % n);
  media_tick t = sub;
  t.index = sub.index / n;
  auto& next = next_[phase];
  t.skipped = static_cast<std::uint32_t>(t.index > next ? t.index - next : 0);
  next = t.index + 1;
  lists_[phase].tick(t);
}

std::size_t phased_streams::size() const noexcept {
  std::size_t n = 0;
  for (const auto& l : lists_)
    n += l.size();
  return n;
}

void phased_streams::clear() {
  for (auto& l : lists_)
    l.clear();
}

} // namespace gobi::rtp
