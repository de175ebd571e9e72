#include "domain/media/rtcp.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {
using bytes_t = std::vector<std::uint8_t>;

report_block sample_block() {
  report_block b;
  b.ssrc = 0x55667788;
  b.fraction_lost = 25;
  b.cumulative_lost = 10;
  b.extended_highest_sequence = 0x0001fffe;
  b.jitter = 42;
  b.last_sr = 0x12345678;
  b.delay_since_last_sr = 0x8000;
  return b;
}
} // namespace

TEST_CASE("media rtcp: a sender report is laid out as RFC 3550 6.4.1 says") {
  sender_report sr;
  sr.ssrc = 0x11223344;
  sr.info = {0x0102030405060708ull, 0x0a0b0c0d, 100, 16000};
  sr.blocks.push_back(sample_block());
  std::array<std::uint8_t, 128> buf{};
  rtcp_writer w{buf};
  REQUIRE(w.add(sr));
  const bytes_t expected{0x81, 0xc8, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 0x03,
                         0x04, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00,
                         0x00, 0x64, 0x00, 0x00, 0x3e, 0x80, 0x55, 0x66, 0x77, 0x88, 0x19,
                         0x00, 0x00, 0x0a, 0x00, 0x01, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x2a,
                         0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x80, 0x00};
  CHECK(bytes_t(w.data().begin(), w.data().end()) == expected);

  rtcp_compound c;
  REQUIRE(parse_rtcp(w.data(), c) == rtcp_error::ok);
  REQUIRE(c.sr);
  CHECK(c.sr->ssrc == sr.ssrc);
  CHECK(c.sr->info == sr.info);
  REQUIRE(c.sr->blocks.count == 1);
  CHECK(c.sr->blocks.items[0] == sample_block());
}

TEST_CASE("media rtcp: compound RR + SDES CNAME + BYE round trip") {
  receiver_report rr;
  rr.ssrc = 0xcafe0001;
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto b = sample_block();
    b.ssrc += i;
    b.cumulative_lost = -static_cast<std::int32_t>(i); // duplicates make it negative
    rr.blocks.push_back(b);
  }
  std::array<std::uint8_t, 256> buf{};
  rtcp_writer w{buf};
  REQUIRE(w.add(rr));
  REQUIRE(w.add_sdes_cname(rr.ssrc, "gobi@host"));
  const std::array<std::uint32_t, 1> gone{rr.ssrc};
  REQUIRE(w.add_bye(gone, "bye"));
  CHECK(w.size() % 4 == 0);
  // RR: 8 + 3 * 24; SDES: 4 + (4 + 2 + 9 + 1); BYE: 4 + 4 + 4.
  CHECK(w.size() == 80 + 20 + 12);
  const bytes_t sdes_expected{0x81, 0xca, 0x00, 0x04, 0xca, 0xfe, 0x00, 0x01, 0x01, 0x09,
                              'g',  'o',  'b',  'i',  '@',  'h',  'o',  's',  't',  0x00};
  CHECK(bytes_t(w.data().begin() + 80, w.data().begin() + 100) == sdes_expected);
  const bytes_t bye_expected{0x81, 0xcb, 0x00, 0x02, 0xca, 0xfe, 0x00, 0x01, 0x03, 'b', 'y', 'e'};
  CHECK(bytes_t(w.data().begin() + 100, w.data().end()) == bye_expected);

  rtcp_compound c;
  REQUIRE(parse_rtcp(w.data(), c) == rtcp_error::ok);
  CHECK(c.packets == 3);
  REQUIRE(c.rr);
  REQUIRE(c.rr->blocks.count == 3);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(c.rr->blocks.items[i] == rr.blocks.items[i]);
  REQUIRE(c.cname);
  CHECK(c.cname->ssrc == rr.ssrc);
  CHECK(c.cname->cname == "gobi@host");
  REQUIRE(c.bye);
  CHECK(c.bye->count == 1);
  CHECK(c.bye->ssrcs[0] == rr.ssrc);
  CHECK(c.bye->reason == "bye");
}

TEST_CASE("media rtcp: cumulative loss is 24-bit signed and clamps") {
  struct row {
    std::int32_t in, out;
  };
  for (const auto& r : std::vector<row>{{0, 0},
                                        {1, 1},
                                        {-1, -1},
                                        {0x7fffff, 0x7fffff},
                                        {0x1000000, 0x7fffff},
                                        {-0x800000, -0x800000},
                                        {-0x900000, -0x800000}}) {
    CAPTURE(r.in);
    receiver_report rr;
    auto b = sample_block();
    b.cumulative_lost = r.in;
    rr.blocks.push_back(b);
    std::array<std::uint8_t, 64> buf{};
    rtcp_writer w{buf};
    REQUIRE(w.add(rr));
    rtcp_compound c;
    REQUIRE(parse_rtcp(w.data(), c) == rtcp_error::ok);
    REQUIRE(c.rr.has_value());
    CHECK(c.rr.value().blocks.items[0].cumulative_lost == r.out);
  }
}

TEST_CASE("media rtcp: malformed compounds are refused with a reason") {
  std::array<std::uint8_t, 256> buf{};
  rtcp_writer w{buf};
  receiver_report rr;
  rr.ssrc = 7;
  rr.blocks.push_back(sample_block());
  REQUIRE(w.add(rr));
  REQUIRE(w.add_sdes_cname(7, "x"));
  const bytes_t good(w.data().begin(), w.data().end());

  struct row {
    const char* what;
    bytes_t data;
    rtcp_error expected;
  };
  auto patched = [&](std::size_t at, std::uint8_t v) {
    bytes_t d = good;
    if (at < d.size()) d.data()[at] = v;
    return d;
  };
  const std::vector<row> rows{
      {"empty", {}, rtcp_error::too_short},
      {"version 1", patched(0, 0x41), rtcp_error::bad_version},
      {"length past the end", patched(3, 0x40), rtcp_error::bad_length},
      {"cut in the middle", bytes_t(good.begin(), good.begin() + 30), rtcp_error::bad_length},
      {"padding on the first packet", patched(0, 0xa1), rtcp_error::bad_padding},
      {"two blocks announced, one present", patched(0, 0x82), rtcp_error::too_short},
      {"SDES item longer than its chunk", patched(good.size() - 3, 40), rtcp_error::bad_sdes},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    rtcp_compound c;
    CHECK(parse_rtcp(r.data, c) == r.expected);
  }

  // A full buffer is reported, not overrun.
  std::array<std::uint8_t, 20> small{};
  rtcp_writer tiny{small};
  CHECK_FALSE(tiny.add(rr));
  CHECK(tiny.error() == rtcp_error::buffer_too_small);
  CHECK(tiny.size() == 0);
}

TEST_CASE("media rtcp: round-trip time, RFC 3550 6.4.1 example") {
  // A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
  // DLSR = 0x0005:4000 (5.250 s): RTT = 6.125 s.
  report_block b;
  b.last_sr = 0xb7052000;
  b.delay_since_last_sr = 0x00054000;
  const std::uint64_t arrival = std::uint64_t{0xb7108000} << 16;
  const auto rtt = round_trip_time(b, arrival);
  REQUIRE(rtt);
  CHECK(*rtt == 6125ms);
  b.last_sr = 0;
  CHECK_FALSE(round_trip_time(b, arrival));
}

namespace {
/// Feeds packets with sequence numbers `seqs`, 20 ms apart, perfect network.
receiver_stats feed(std::vector<std::uint16_t> seqs) {
  receiver_stats s{{8000}};
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const auto t = media_time{static_cast<std::int64_t>(i) * 20'000};
    (void)s.update(seqs[i], static_cast<std::uint32_t>(seqs[i]) * 160, t);
  }
  return s;
}
std::vector<std::uint16_t> run(std::uint16_t first, int n) {
  std::vector<std::uint16_t> v;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<std::uint16_t>(first + i));
  return v;
}
} // namespace

TEST_CASE("media rtcp: receiver statistics count loss (RFC 3550 A.3)") {
  // The first packet of a source is on probation (A.1) and not counted; the base is the
  // second one. So 100 packets in a row give 99 expected, 99 received.
  struct row {
    const char* what;
    std::vector<std::uint16_t> seqs;
    std::int64_t lost;
    std::uint32_t highest;
    std::uint8_t fraction;
  };
  auto without = [](std::vector<std::uint16_t> v, std::size_t from, std::size_t n) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(from),
            v.begin() + static_cast<std::ptrdiff_t>(from + n));
    return v;
  };
  auto twice = [](std::vector<std::uint16_t> v) {
    std::vector<std::uint16_t> d;
    for (auto s : v) {
      d.push_back(s);
      d.push_back(s);
    }
    return d;
  };
  auto swapped = [](std::vector<std::uint16_t> v) {
    for (std::size_t i = 10; i + 1 < v.size(); i += 10)
      std::swap(v[i], v[i + 1]);
    return v;
  };
  const std::vector<row> rows{
      {"in order", run(1000, 100), 0, 1099, 0},
      {"10 lost", without(run(1000, 100), 40, 10), 10, 1099,
       static_cast<std::uint8_t>(10 * 256 / 99)},
      // Both copies of the probation packet are ignored: 49 expected, 98 received.
      {"all duplicated", twice(run(1000, 50)), -49, 1049, 0},
      {"reordered pairs", swapped(run(1000, 100)), 0, 1099, 0},
      {"across the wrap", run(65500, 100), 0, 65536 + 63, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    auto s = feed(r.seqs);
    CHECK(s.cumulative_lost() == r.lost);
    CHECK(s.extended_highest_sequence() == r.highest);
    const auto b = s.make_report_block(0x1234, media_time{10s});
    CHECK(b.ssrc == 0x1234);
    CHECK(b.fraction_lost == r.fraction);
    CHECK(b.cumulative_lost == r.lost);
    CHECK(b.extended_highest_sequence == r.highest);
    // The next interval starts afresh.
    CHECK(s.make_report_block(0x1234, media_time{15s}).fraction_lost == 0);
  }
}

TEST_CASE("media rtcp: a jump is believed only when the next packet confirms it") {
  receiver_stats s{{8000}};
  auto t = media_time{0};
  for (std::uint16_t q = 0; q < 10; ++q)
    (void)s.update(q, q * 160u, t += 20ms);
  CHECK_FALSE(s.update(30000, 0, t += 20ms)); // a stray: ignored
  CHECK(s.update(10, 1600, t += 20ms));
  CHECK(s.extended_highest_sequence() == 10);
  CHECK_FALSE(s.update(40000, 0, t += 20ms));
  CHECK(s.update(40001, 160, t += 20ms)); // confirmed: the source restarted
  CHECK(s.extended_highest_sequence() == 40001);
  CHECK(s.cumulative_lost() == 0);
}

TEST_CASE("media rtcp: interarrival jitter (RFC 3550 A.8)") {
  struct row {
    const char* what;
    std::int64_t wobble_us; ///< every other packet arrives this much later
    std::uint32_t expected; ///< in 8 kHz units
  };
  // Transit alternating between d and d + w changes by w every packet: J converges to w.
  for (const auto& r :
       std::vector<row>{{"steady", 0, 0}, {"10 ms wobble", 10'000, 80}, {"2 ms", 2'000, 16}}) {
    CAPTURE(r.what);
    receiver_stats s{{8000}};
    for (std::uint16_t q = 0; q < 500; ++q) {
      const auto t = media_time{q * 20'000 + (q % 2 ? r.wobble_us : 0)};
      (void)s.update(q, q * 160u, t);
    }
    CHECK(s.jitter() >= r.expected - std::min<std::uint32_t>(r.expected, 1));
    CHECK(s.jitter() <= r.expected + 1);
  }
}

TEST_CASE("media rtcp: LSR and DLSR come from the last sender report") {
  receiver_stats s{{8000}};
  (void)s.update(1, 160, media_time{0});
  (void)s.update(2, 320, media_time{20ms});
  s.on_sender_report(0x0000123456780000ull, media_time{1s});
  const auto b = s.make_report_block(1, media_time{1500ms});
  CHECK(b.last_sr == 0x12345678);
  CHECK(b.delay_since_last_sr == 0x8000); // 0.5 s in 1/65536 s
}
