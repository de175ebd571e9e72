#include "transport/rtp/latch.hpp"

#include <doctest/doctest.h>

using namespace gobi::rtp;
using namespace std::chrono_literals;

namespace {
const time_point t0 = time_point{} + 50s;
constexpr int sdp = 1, nat = 2, other = 3;
} // namespace

TEST_CASE("rtp source_latch: confirms a source after latch_packets accepted in a row") {
  source_latch<int> l({.latch_packets = 3, .relatch_idle = 1s});
  CHECK(l.target() == nullptr);
  l.expect(sdp);
  REQUIRE(l.target());
  CHECK(*l.target() == sdp);

  // Rejected packets and interleaved sources break the streak.
  CHECK(l.admit(nat, t0));
  l.record(nat, t0, verdict::accepted);
  l.record(nat, t0, verdict::rejected); // ignored, does not reset either
  l.record(other, t0, verdict::accepted);
  l.record(nat, t0, verdict::accepted);
  l.record(nat, t0, verdict::accepted);
  CHECK_FALSE(l.confirmed());
  l.record(nat, t0, verdict::accepted);
  CHECK(l.confirmed());
  CHECK(*l.target() == nat);

  // Others are kept out while nat talks, let in once it has been quiet for relatch_idle.
  CHECK(l.admit(nat, t0 + 10s));
  CHECK_FALSE(l.admit(other, t0 + 999ms));
  CHECK(l.admit(other, t0 + 1s));
  l.record(other, t0 + 1s, verdict::accepted);
  l.record(other, t0 + 1s, verdict::accepted);
  CHECK(*l.target() == nat);
  l.record(other, t0 + 1s, verdict::accepted);
  CHECK(*l.target() == other);
  CHECK(l.relatches() == 1);

  // A packet from the confirmed source keeps it: the idle time starts again.
  l.record(other, t0 + 5s, verdict::accepted);
  CHECK_FALSE(l.admit(nat, t0 + 5s + 500ms));

  // New signalling forgets the confirmed source.
  l.expect(sdp);
  CHECK_FALSE(l.confirmed());
  CHECK(*l.target() == sdp);
  CHECK(l.admit(nat, t0 + 6s));
}

TEST_CASE("rtp source_latch: latch_packets 1 latches on the first valid packet") {
  source_latch<int> l({.latch_packets = 1, .relatch_idle = 2s});
  l.record(nat, t0, verdict::rejected);
  CHECK(l.target() == nullptr);
  l.record(nat, t0, verdict::accepted);
  REQUIRE(l.target());
  CHECK(*l.target() == nat);
}
