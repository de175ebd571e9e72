#include "transport/rtp/media_clock.hpp"

#include <doctest/doctest.h>

#include <algorithm>
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

TEST_CASE("clock schedule: a wake-up a period late runs one tick and skips the missed ones") {
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
  for (int i = 0; i < 10; ++i)
    CHECK(ps[i]->ticks.size() == (i == 3 || i == 9 ? 0u : 1u));
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
  CHECK(c->ticks.empty());     // removed before its turn
  CHECK(d->ticks.size() == 1); // not skipped because of the removals
  CHECK(late->ticks.empty());  // added during the tick: next tick
  CHECK(weak_b.expired());     // released after the tick
  CHECK(list.size() == 3);     // a, d, late
  list.tick(media_tick{1, t0, t0, 0});
  CHECK(a->ticks.size() == 2);
  CHECK(d->ticks.size() == 2);
  CHECK(late->ticks == std::vector<std::uint64_t>{1});
  CHECK(list.remove(*d)); // slots were renumbered correctly by the compaction
  CHECK(list.remove(*late));
  CHECK(list.remove(*a));
  CHECK(list.size() == 0);
}

TEST_CASE("clock phased_streams: streams spread over sub-ticks, each ticked every period") {
  // 20 ms period in 4 phases: the schedule runs at 5 ms, a window of 4 ticks.
  tick_schedule sched(t0, 5ms, 4);
  phased_streams ph(4);
  std::vector<std::shared_ptr<probe>> ps;
  struct stamp {
    std::uint64_t index;
    time_point deadline;
    std::uint32_t skipped;
  };
  std::vector<std::vector<stamp>> seen(10);
  for (int i = 0; i < 10; ++i) {
    ps.push_back(std::make_shared<probe>());
    CHECK(ph.add(ps.back()));
  }
  // Balanced: 10 streams over 4 phases.
  for (unsigned k = 0; k < 4; ++k)
    CHECK(ph.size(k) >= 2);
  CHECK(ph.size() == 10);

  struct recorder : clocked_stream {
    std::vector<stamp>* out = nullptr;
    void on_tick(const media_tick& t) override { out->push_back({t.index, t.deadline, t.skipped}); }
  };
  phased_streams ph2(4);
  std::vector<std::shared_ptr<recorder>> rs;
  for (int i = 0; i < 10; ++i) {
    rs.push_back(std::make_shared<recorder>());
    rs.back()->out = &seen[i];
    ph2.add(rs.back());
  }
  for (int j = 0; j < 400; ++j)
    ph2.tick(*sched.fire(sched.deadline()));
  for (const auto& v : seen) {
    REQUIRE(v.size() == 100);
    for (std::size_t k = 1; k < v.size(); ++k) {
      CHECK(v[k].index == v[k - 1].index + 1);
      CHECK(v[k].deadline - v[k - 1].deadline == 20ms);
      CHECK(v[k].skipped == 0);
    }
  }
  // Different phases are 5 ms apart.
  std::vector<time_point> firsts;
  for (const auto& v : seen)
    firsts.push_back(v[0].deadline);
  std::sort(firsts.begin(), firsts.end());
  firsts.erase(std::unique(firsts.begin(), firsts.end()), firsts.end());
  CHECK(firsts == std::vector<time_point>{t0, t0 + 5ms, t0 + 10ms, t0 + 15ms});

  // A wake-up 12 ms late owes three sub-ticks of three different phases: all run, no skip.
  const auto wake = sched.deadline() + 12ms;
  int ran = 0;
  while (const auto t = sched.fire(wake)) {
    CHECK(t->skipped == 0);
    ph2.tick(*t);
    ++ran;
  }
  CHECK(ran == 3);
  // 22 ms late: the oldest owed sub-tick is superseded by the same phase's next one.
  const auto wake2 = sched.deadline() + 22ms;
  ran = 0;
  std::uint32_t skipped = 0;
  while (const auto t = sched.fire(wake2)) {
    skipped += t->skipped;
    ph2.tick(*t);
    ++ran;
  }
  CHECK(ran == 4);
  CHECK(skipped == 1);
  for (int j = 0; j < 8; ++j)
    ph2.tick(*sched.fire(sched.deadline()));
  int streams_with_a_skip = 0;
  for (const auto& v : seen) {
    std::uint32_t total = 0;
    for (std::size_t k = 1; k < v.size(); ++k) {
      total += v[k].skipped;
      CHECK(v[k].index == v[k - 1].index + 1 + v[k].skipped); // never twice, never backwards
    }
    CHECK(total <= 1);
    streams_with_a_skip += total == 1;
    // Indices stay aligned with time: index k is due at its phase's first deadline + k * 20 ms.
    CHECK(v.back().deadline == v.front().deadline + static_cast<long>(v.back().index) * 20ms);
  }
  CHECK(streams_with_a_skip >= 2); // the streams of one phase

  CHECK(ph2.remove(*rs[3]));
  CHECK_FALSE(ph2.remove(*rs[3]));
  CHECK(ph2.size() == 9);
  ph2.clear();
  CHECK(ph2.size() == 0);
}
