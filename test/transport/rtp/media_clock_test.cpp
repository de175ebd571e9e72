#include "transport/rtp/media_clock.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <vector>

using namespace gobi::rtp;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{} + 1000s;

/// Records its ticks; runs an optional action inside on_tick.
struct probe : clocked_stream {
  std::vector<std::uint64_t> ticks;
  std::function<void()> action;
  void on_tick(const media_tick& t) override {
    ticks.push_back(t.index);
    if (action) action();
  }
};

} // namespace

TEST_CASE("clock schedule: absolute deadlines never drift, whatever the wake-up latency") {
  tick_schedule s(t0, 20ms);
  std::mt19937 rng(7);
  for (std::uint64_t k = 0; k < 100000; ++k) {
    REQUIRE(s.deadline() == t0 + static_cast<long>(k) * 20ms);
    const auto wake = s.deadline() + std::chrono::microseconds(rng() % 15000); // up to 15 ms
    const auto t = s.fire(wake);
    REQUIRE(t);
    CHECK(t->index == k);
    CHECK(t->deadline == t0 + static_cast<long>(k) * 20ms);
    CHECK(t->now == wake);
    CHECK(t->skipped == 0);
  }
  CHECK(s.ticks() == 100000);
  CHECK(s.skipped() == 0);
  CHECK(s.max_lateness() < 15ms);
  // 100000 ticks later, the next deadline is still exactly on the grid: 2000 s after start.
  CHECK(s.deadline() == t0 + 2000s);
}

TEST_CASE("clock schedule: a late wake-up runs one tick and skips the missed ones, no burst") {
  tick_schedule s(t0, 20ms);
  CHECK_FALSE(s.fire(t0 - 1ms)); // early: nothing, still waiting for tick 0
  REQUIRE(s.fire(t0));
  // Tick 1 is due at 20 ms; we wake at 65 ms: ticks 1 and 2 are skipped, tick 3 runs.
  const auto t = s.fire(t0 + 65ms);
  REQUIRE(t);
  CHECK(t->index == 3);
  CHECK(t->skipped == 2);
  CHECK(t->deadline == t0 + 60ms);
  CHECK(s.deadline() == t0 + 80ms);
  CHECK(s.skipped() == 2);
  CHECK(s.late() == 1);
  CHECK(s.max_lateness() == 45ms);
  // Exactly one period late counts as late too.
  const auto u = s.fire(t0 + 100ms);
  REQUIRE(u);
  CHECK(u->index == 5);
  CHECK(u->skipped == 1);
  // Back on time.
  const auto v = s.fire(t0 + 120ms + 1ms);
  REQUIRE(v);
  CHECK(v->index == 6);
  CHECK(v->skipped == 0);
  CHECK(s.ticks() == 4);
}

TEST_CASE("clock stream_list: O(1) add and remove, each stream ticked once per tick") {
  stream_list list;
  std::vector<std::shared_ptr<probe>> ps;
  for (int i = 0; i < 10; ++i) {
    ps.push_back(std::make_shared<probe>());
    CHECK(list.add(ps.back()));
  }
  CHECK_FALSE(list.add(ps[0])); // already in a list
  CHECK_FALSE(list.add(nullptr));
  CHECK(list.size() == 10);
  CHECK(list.remove(*ps[3]));
  CHECK_FALSE(list.remove(*ps[3]));
  CHECK(list.remove(*ps[9])); // the last one
  CHECK(list.size() == 8);
  list.tick(media_tick{0, t0, t0, 0});
  for (int i = 0; i < 10; ++i) CHECK(ps[i]->ticks.size() == (i == 3 || i == 9 ? 0u : 1u));
  CHECK(list.add(ps[3])); // removed streams can come back
  list.tick(media_tick{1, t0, t0, 0});
  CHECK(ps[3]->ticks == std::vector<std::uint64_t>{1});

  stream_list other;
  CHECK_FALSE(other.add(ps[0])); // a stream is in one list at a time
  CHECK_FALSE(other.remove(*ps[0]));
}

TEST_CASE("clock stream_list: streams removing and adding streams from on_tick") {
  stream_list list;
  auto a = std::make_shared<probe>(), b = std::make_shared<probe>(), c = std::make_shared<probe>(),
       d = std::make_shared<probe>(), late = std::make_shared<probe>();
  std::weak_ptr<probe> weak_b = b;
  list.add(a);
  list.add(b);
  list.add(c);
  list.add(d);
  // a removes c (not yet ticked this round) and adds `late`; b removes itself.
  a->action = [&] {
    list.remove(*c);
    list.add(late);
    a->action = nullptr;
  };
  b->action = [&, raw = b.get()] { list.remove(*raw); };
  b.reset(); // the list holds the only reference: b must survive its own removal
  list.tick(media_tick{0, t0, t0, 0});
  CHECK(a->ticks.size() == 1);
  CHECK(c->ticks.empty());          // removed before its turn
  CHECK(d->ticks.size() == 1);      // not skipped because of the removals
  CHECK(late->ticks.empty());       // added during the tick: next tick
  CHECK(weak_b.expired());          // released after the tick
  CHECK(list.size() == 3);          // a, d, late
  list.tick(media_tick{1, t0, t0, 0});
  CHECK(a->ticks.size() == 2);
  CHECK(d->ticks.size() == 2);
  CHECK(late->ticks == std::vector<std::uint64_t>{1});
  CHECK(list.remove(*d)); // slots were renumbered correctly by the compaction
  CHECK(list.remove(*late));
  CHECK(list.remove(*a));
  CHECK(list.size() == 0);
}
