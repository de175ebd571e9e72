// The jitter buffer on scripted arrival timelines: a sender emits a packet every `ptime`, the
// network delays each one as scripted, ticks come every 20 ms, and a recording stage behind
// the buffer shows what came out at each tick.

#include "domain/media/jitter_buffer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {

enum class kind { packet, lost, silence };

struct unit {
  kind k;
  std::uint16_t seq = 0;
  std::uint32_t duration = 0;
  bool has_next = false;
};

/// Stands where the decoder would: records what the jitter buffer hands on.
class recording_stage final : public rtp_handler {
public:
  void on_rtp(const rtp_packet& p) override {
    units.push_back({kind::packet, p.sequence, static_cast<std::uint32_t>(p.payload.size())});
  }
  void on_gap(std::uint32_t d, gap_kind k, const rtp_packet* next) override {
    units.push_back({k == gap_kind::lost ? kind::lost : kind::silence, 0, d, next != nullptr});
  }
  std::string name() const override { return "decoder"; }

  std::vector<unit> units;

  std::vector<std::uint16_t> played() const {
    std::vector<std::uint16_t> v;
    for (const auto& u : units)
      if (u.k == kind::packet) v.push_back(u.seq);
    return v;
  }
  std::uint64_t total(kind k) const {
    std::uint64_t n = 0;
    for (const auto& u : units)
      if (u.k == k) n += u.duration;
    return n;
  }
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (const auto& u : units)
      n += u.duration;
    return n;
  }
};

std::uint32_t g711_duration(std::span<const std::uint8_t> p) noexcept {
  return static_cast<std::uint32_t>(p.size());
}

struct sent {
  std::uint16_t seq;
  std::uint32_t ts;
  bool marker;
  media_time arrival;
  std::size_t size = 160;
};

/// A sender at 8 kHz: packet i leaves at i * ptime with timestamp ts0 + i * ptime.
struct script {
  std::uint16_t seq0 = 1000;
  std::uint32_t ts0 = 50000;
  std::chrono::milliseconds ptime{20};
  std::vector<sent> packets;

  /// Packet i (by send slot) with network delay `delay`; `seq_offset` shifts its sequence
  /// number (a sender that paused keeps counting from where it was).
  void add(int i, std::chrono::microseconds delay, bool marker = false, int seq_index = -1,
           std::int64_t ts_jump = 0) {
    const auto units = static_cast<std::uint32_t>(ptime.count() * 8);
    sent s;
    s.seq = static_cast<std::uint16_t>(seq0 + (seq_index < 0 ? i : seq_index));
    s.ts = static_cast<std::uint32_t>(ts0 + static_cast<std::int64_t>(i) * units + ts_jump);
    s.marker = marker;
    s.arrival = media_time{i * ptime} + delay;
    s.size = units;
    packets.push_back(s);
  }
};

/// Delivers packets in arrival order and ticks every 20 ms from 0 to `until`; calls `at_tick`
/// after each tick.
void run(jitter_buffer& jb, std::vector<sent> packets, media_time until,
         const std::function<void(media_time)>& at_tick = {}) {
  std::stable_sort(packets.begin(), packets.end(),
                   [](const sent& a, const sent& b) { return a.arrival < b.arrival; });
  static const std::array<std::uint8_t, 640> payload{};
  std::size_t next = 0;
  for (media_time t{0}; t <= until; t += 20ms) {
    while (next < packets.size() && packets[next].arrival <= t) {
      const auto& s = packets[next++];
      rtp_packet p;
      p.sequence = s.seq;
      p.timestamp = s.ts;
      p.marker = s.marker;
      p.payload = std::span<const std::uint8_t>{payload.data(), s.size};
      p.arrival = s.arrival;
      jb.on_rtp(p);
    }
    jb.tick(t);
    if (at_tick) at_tick(t);
  }
}

std::vector<std::uint16_t> seq_range(std::uint16_t first, int n) {
  std::vector<std::uint16_t> v;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<std::uint16_t>(first + i));
  return v;
}

/// Units between the first and the last played packet (what a listener hears mid-stream).
std::vector<unit> middle(const recording_stage& r) {
  auto first = std::find_if(r.units.begin(), r.units.end(),
                            [](const unit& u) { return u.k == kind::packet; });
  auto last = std::find_if(r.units.rbegin(), r.units.rend(),
                           [](const unit& u) { return u.k == kind::packet; });
  if (first == r.units.end()) return {};
  return {first, last.base()};
}

std::uint64_t count(const std::vector<unit>& v, kind k) {
  return static_cast<std::uint64_t>(
      std::count_if(v.begin(), v.end(), [k](const unit& u) { return u.k == k; }));
}

jitter_options opts(std::chrono::milliseconds min = 20ms, std::chrono::milliseconds max = 200ms) {
  jitter_options o;
  o.clock_rate_hz = 8000;
  o.min_delay = min;
  o.max_delay = max;
  return o;
}

} // namespace

TEST_CASE("media jitter: steady network plays every packet in order after the target delay") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  CHECK(jb.name() == "jitter -> decoder");
  script s;
  for (int i = 0; i < 50; ++i)
    s.add(i, 30ms);
  std::optional<media_time> first_play;
  std::uint64_t ticks = 0;
  run(jb, s.packets, media_time{1200ms}, [&](media_time t) {
    ++ticks;
    if (!first_play && !out.played().empty()) first_play = t;
    // Every tick hands on exactly 20 ms of timeline.
    CHECK(out.total() == ticks * 160);
  });
  CHECK(out.played() == seq_range(1000, 50));
  const auto mid = middle(out);
  CHECK(count(mid, kind::lost) == 0);
  CHECK(count(mid, kind::silence) == 0);
  // The first packet arrived at 30 ms; playout waits the 20 ms target: the tick at 60 ms.
  REQUIRE(first_play);
  CHECK(*first_play == media_time{60ms});
  CHECK(jb.stats().late == 0);
  CHECK(jb.stats().inserted == 50);
  CHECK(jb.stats().played == 50);
  // After the stream, concealment for conceal_limit, then silence.
  CHECK(out.total(kind::lost) == 100 * 8);
  CHECK_FALSE(jb.playing());
}

TEST_CASE("media jitter: reordered packets come out in order") {
  recording_stage out;
  jitter_buffer jb{opts(60ms), g711_duration, &out};
  script s;
  for (int i = 0; i < 60; ++i) {
    const bool overtaken = i == 5 || i == 20 || i == 33 || i == 34;
    s.add(i, overtaken ? 70ms : 30ms); // 5 arrives after 6, 33 and 34 after 35 and 36
  }
  run(jb, s.packets, media_time{1500ms});
  CHECK(out.played() == seq_range(1000, 60));
  CHECK(count(middle(out), kind::lost) == 0);
  CHECK(jb.stats().late == 0);
}

TEST_CASE("media jitter: duplicates are played once") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  for (int i = 0; i < 40; ++i) {
    s.add(i, 30ms);
    s.add(i, 35ms);
  }
  run(jb, s.packets, media_time{1000ms});
  CHECK(out.played() == seq_range(1000, 40));
  CHECK(jb.stats().duplicates == 40);
}

TEST_CASE("media jitter: a packet later than its playout point is concealed, not played") {
  recording_stage out;
  jitter_buffer jb{opts(20ms, 40ms), g711_duration, &out};
  script s;
  for (int i = 0; i < 40; ++i)
    s.add(i, i == 10 ? 180ms : 30ms);
  run(jb, s.packets, media_time{1000ms});
  auto expected = seq_range(1000, 40);
  expected.erase(expected.begin() + 10);
  CHECK(out.played() == expected);
  CHECK(jb.stats().late == 1);
  // Where 1010 belonged: one 20 ms hole to conceal, between 1009 and 1011.
  const auto mid = middle(out);
  const auto at = std::find_if(mid.begin(), mid.end(), [](const unit& u) { return u.seq == 1009; });
  REQUIRE(at + 2 < mid.end());
  CHECK((at + 1)->k == kind::lost);
  CHECK((at + 1)->duration == 160);
  CHECK((at + 2)->seq == 1011);
}

TEST_CASE(
    "media jitter: a loss burst is concealed exactly where it was; FEC sees the next packet") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  for (int i = 0; i < 60; ++i)
    if (i < 20 || i > 24) s.add(i, 30ms);
  run(jb, s.packets, media_time{1400ms});
  auto expected = seq_range(1000, 60);
  expected.erase(expected.begin() + 20, expected.begin() + 25);
  CHECK(out.played() == expected);
  const auto mid = middle(out);
  const auto at = std::find_if(mid.begin(), mid.end(), [](const unit& u) { return u.seq == 1019; });
  REQUIRE(at + 6 < mid.end());
  for (int k = 1; k <= 5; ++k) {
    CAPTURE(k);
    CHECK((at + k)->k == kind::lost);
    CHECK((at + k)->duration == 160);
    CHECK((at + k)->has_next == (k == 5)); // only the hole right before 1025 can use its FEC
  }
  CHECK((at + 6)->seq == 1025);
  CHECK(count(mid, kind::lost) == 5);
}

TEST_CASE("media jitter: sequence numbers and timestamps wrap around") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  s.seq0 = 65530;
  s.ts0 = 0xffffff00u; // wraps after two packets
  for (int i = 0; i < 30; ++i)
    s.add(i, i % 7 == 3 ? 45ms : 30ms); // a little jitter and reordering on the way
  run(jb, s.packets, media_time{900ms});
  CHECK(out.played() == seq_range(65530, 30));
  CHECK(count(middle(out), kind::lost) == 0);
  CHECK(jb.stats().resyncs == 0);
}

TEST_CASE("media jitter: a jitter spike raises the target; calm lowers it again") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  for (int i = 0; i < 700; ++i) {
    auto d = std::chrono::microseconds{30ms};
    if (i >= 100 && i < 106) // a 120 ms stall: six packets arrive together
      d += std::chrono::milliseconds{120 - 20 * (i - 100)};
    s.add(i, d);
  }
  std::chrono::microseconds before{}, after_spike{}, at_end{}, delay_at_end{};
  run(jb, s.packets, media_time{14500ms}, [&](media_time t) {
    if (t == media_time{1900ms}) before = jb.target_delay();
    if (t == media_time{2400ms}) after_spike = jb.target_delay();
    if (t == media_time{13900ms}) {
      at_end = jb.target_delay();
      delay_at_end = jb.playout_delay(t);
    }
  });
  CHECK(before == 20ms);
  CHECK(after_spike >= 120ms);
  CHECK(after_spike <= 200ms);
  CHECK(at_end < 40ms);
  CHECK(delay_at_end < 80ms); // the extra delay was given back
  CHECK(jb.stats().dropped > 0);
  CHECK(jb.stats().played + jb.stats().late + jb.stats().dropped == 700);
  CHECK(jb.stats().late <= 6);
}

TEST_CASE("media jitter: talk spurts with silence between (marker, timestamp jump)") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  for (int i = 0; i < 50; ++i)
    s.add(i, 30ms);
  // Two seconds of silence: nothing sent; the next spurt's timestamp reflects the pause,
  // its sequence numbers continue, the first has the marker bit.
  for (int i = 150; i < 200; ++i)
    s.add(i, 30ms, i == 150, i - 100);
  run(jb, s.packets, media_time{4500ms});
  CHECK(out.played() == seq_range(1000, 100));
  CHECK(jb.stats().resyncs == 0);
  // Between the spurts: a short concealment, then silence (not 2 s of concealment).
  const auto mid = middle(out);
  CHECK(out.total(kind::lost) <= 2 * 100 * 8);
  std::uint64_t silence = 0;
  for (const auto& u : mid)
    if (u.k == kind::silence) silence += u.duration;
  CHECK(silence >= 1800 * 8);
}

TEST_CASE("media jitter: the sender's timestamps jump (a new timeline), forward or back") {
  for (const std::int64_t jump : {std::int64_t{80000}, std::int64_t{-80000}}) {
    CAPTURE(jump);
    recording_stage out;
    jitter_buffer jb{opts(), g711_duration, &out};
    script s;
    for (int i = 0; i < 50; ++i)
      s.add(i, 30ms);
    for (int i = 50; i < 100; ++i)
      s.add(i, 30ms, i == 50, -1, jump);
    run(jb, s.packets, media_time{2500ms});
    CHECK(out.played() == seq_range(1000, 100));
    CHECK(jb.stats().resyncs == 1);
    CHECK(jb.stats().late == 0);
  }
}

TEST_CASE("media jitter: 30 ms packets feed 20 ms ticks") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  script s;
  s.ptime = 30ms;
  for (int i = 0; i < 30; ++i)
    s.add(i, 25ms);
  std::uint64_t ticks = 0;
  run(jb, s.packets, media_time{1200ms}, [&](media_time) {
    ++ticks;
    // Whole packets only: a tick may hand on more than 20 ms, never less, never a tick ahead.
    CHECK(out.total() >= ticks * 160);
    CHECK(out.total() < ticks * 160 + 240);
  });
  CHECK(out.played() == seq_range(1000, 30));
  CHECK(count(middle(out), kind::lost) == 0);
}

TEST_CASE("media jitter: invalid packets are counted and dropped") {
  recording_stage out;
  jitter_buffer jb{opts(), g711_duration, &out};
  static const std::array<std::uint8_t, 700> big{};
  rtp_packet p;
  p.payload = std::span<const std::uint8_t>{big.data(), 0};
  jb.on_rtp(p);
  p.payload = big; // over max_payload_bytes
  jb.on_rtp(p);
  CHECK(jb.stats().invalid == 2);
  CHECK(jb.size() == 0);
}
