#include "domain/media/dtmf.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

TEST_CASE("media dtmf: digits map to RFC 4733 event codes") {
  const std::string digits = "0123456789*#ABCD";
  for (int code = 0; code < 16; ++code) {
    CAPTURE(code);
    CHECK(dtmf_event_code(digits[static_cast<std::size_t>(code)]) == code);
    CHECK(dtmf_digit_of(code) == digits[static_cast<std::size_t>(code)]);
  }
  CHECK(dtmf_event_code('a') == 12);
  CHECK(dtmf_event_code('d') == 15);
  for (const char bad : {'x', 'E', ' ', '\0', 'e'})
    CHECK(dtmf_event_code(bad) == -1);
  CHECK(dtmf_digit_of(16) == '\0');
  CHECK(dtmf_digit_of(-1) == '\0');
}

TEST_CASE("media dtmf: the payload layout (event, E, volume, duration)") {
  // The end packet of digit 1 in SIPp's dtmf_2833_1.pcap: 01 8a 08 c0.
  std::array<std::uint8_t, 4> buf{};
  REQUIRE(write_telephone_event({1, true, 10, 2240}, buf) == 4);
  CHECK(buf == std::array<std::uint8_t, 4>{0x01, 0x8a, 0x08, 0xc0});
  const auto e = parse_telephone_event(buf);
  REQUIRE(e);
  CHECK(*e == telephone_event{1, true, 10, 2240});
  CHECK_FALSE(parse_telephone_event(std::span<const std::uint8_t>{buf.data(), 3}));
  std::array<std::uint8_t, 3> small{};
  CHECK(write_telephone_event({}, small) == 0);
}

TEST_CASE("media dtmf: a sent digit is updates with a growing duration, then the end thrice") {
  struct row {
    std::uint32_t rate;
    std::chrono::milliseconds duration;
    int updates; ///< packets before the end packets
  };
  for (const auto& r :
       std::vector<row>{{8000, 100ms, 4}, {8000, 20ms, 0}, {48000, 200ms, 9}, {8000, 90ms, 4}}) {
    CAPTURE(r.rate);
    CAPTURE(r.duration.count());
    dtmf_sender s{{r.rate, 10, 3, 3}};
    REQUIRE(s.queue('5', r.duration));
    CHECK(s.busy());
    const std::uint32_t tick = r.rate / 50;
    std::vector<dtmf_sender::packet> pkts;
    std::uint32_t ts = 777;
    for (int i = 0; i < 40; ++i, ts += tick)
      if (auto p = s.next(ts)) pkts.push_back(*p);
    REQUIRE(pkts.size() == static_cast<std::size_t>(r.updates + 3));
    const auto total = static_cast<std::uint32_t>(r.updates + 1) * tick;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
      CAPTURE(i);
      const auto e = parse_telephone_event(pkts[i].payload);
      REQUIRE(e);
      CHECK(pkts[i].timestamp == 777); // every packet carries the event's start
      CHECK(pkts[i].marker == (i == 0));
      CHECK(e->event == 5);
      CHECK(e->volume == 10);
      const bool end = i >= static_cast<std::size_t>(r.updates);
      CHECK(e->end == end);
      CHECK(e->duration == (end ? total : static_cast<std::uint32_t>(i + 1) * tick));
    }
    CHECK_FALSE(s.busy());
  }
  dtmf_sender s{{8000, 10, 3, 3}};
  CHECK_FALSE(s.queue('x', 100ms));
}

namespace {
/// Sends `digits` through a sender and returns the packets as they would go on the wire
/// (sequence numbers, one per tick, arrival 40 ms after sending).
struct wire_packet {
  std::uint16_t seq;
  std::uint32_t ts;
  bool marker;
  std::array<std::uint8_t, 4> payload;
  media_time arrival;
};
std::vector<wire_packet> send_digits(const std::string& digits, std::chrono::milliseconds d) {
  dtmf_sender s{{8000, 10, 3, 3}};
  for (char c : digits)
    REQUIRE(s.queue(c, d));
  std::vector<wire_packet> out;
  std::uint16_t seq = 100;
  for (std::uint32_t tick = 0; tick < 500; ++tick)
    if (auto p = s.next(tick * 160))
      out.push_back({seq++, p->timestamp, p->marker, p->payload, media_time{tick * 20ms + 40ms}});
  return out;
}
std::string detect(dtmf_detector& det, const std::vector<wire_packet>& pkts,
                   std::vector<dtmf_received>* all = nullptr) {
  std::string got;
  for (const auto& w : pkts) {
    rtp_packet p;
    p.sequence = w.seq;
    p.timestamp = w.ts;
    p.marker = w.marker;
    p.payload = w.payload;
    p.arrival = w.arrival;
    for (const auto& d : det.on_packet(p)) {
      got += d.digit;
      if (all) all->push_back(d);
    }
  }
  for (const auto& d : det.tick(media_time{100s})) {
    got += d.digit;
    if (all) all->push_back(d);
  }
  return got;
}
} // namespace

TEST_CASE("media dtmf: the detector reports each sent digit once, with its duration") {
  const auto pkts = send_digits("123#*0AD", 100ms);
  dtmf_detector det{{8000, 1000ms}};
  std::vector<dtmf_received> got;
  CHECK(detect(det, pkts, &got) == "123#*0AD");
  for (const auto& d : got) {
    CHECK(d.duration == 100ms);
    CHECK(d.volume == 10);
  }
  // Starts are 5 ticks (100 ms, the last one the first end) + 2 more ends + 3 gap ticks
  // apart: 10 ticks of 160.
  REQUIRE(got.size() == 8);
  CHECK(got[1].rtp_timestamp - got[0].rtp_timestamp == 10 * 160);
}

TEST_CASE("media dtmf: the detector copes with loss, repeats and reordering") {
  const auto clean = send_digits("47", 100ms);
  REQUIRE(clean.size() == 2 * 7);
  struct row {
    const char* what;
    std::vector<wire_packet> pkts;
    std::string expected;
  };
  auto drop = [&](std::vector<std::size_t> idx) {
    std::vector<wire_packet> v;
    for (std::size_t i = 0; i < clean.size(); ++i)
      if (std::find(idx.begin(), idx.end(), i) == idx.end()) v.push_back(clean[i]);
    return v;
  };
  auto dup_all = [&] {
    std::vector<wire_packet> v;
    for (const auto& p : clean) {
      v.push_back(p);
      v.push_back(p); // the same sequence number again, as SIPp's pcaps do
    }
    return v;
  };
  auto swapped = [&] {
    auto v = clean;
    std::swap(v[4], v[5]); // an end packet before the last update
    std::swap(v[1], v[2]);
    return v;
  };
  const std::vector<row> rows{
      {"clean", clean, "47"},
      {"every packet twice", dup_all(), "47"},
      {"all end packets of '4' lost", drop({4, 5, 6}), "47"},
      {"start of '7' lost", drop({7, 8}), "47"},
      {"only the last end of each survives", drop({0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12}), "47"},
      {"reordered", swapped(), "47"},
      {"end of the last digit lost: reported on timeout", drop({11, 12, 13}), "47"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    dtmf_detector det{{8000, 1000ms}};
    CHECK(detect(det, r.pkts) == r.expected);
  }
}

TEST_CASE("media dtmf: SIPp's RFC 2833 captures decode to their digit") {
  struct row {
    const char* file;
    char digit;
  };
  const std::vector<row> rows{
      {"dtmf_2833_0.pcap", '0'}, {"dtmf_2833_1.pcap", '1'},    {"dtmf_2833_2.pcap", '2'},
      {"dtmf_2833_3.pcap", '3'}, {"dtmf_2833_4.pcap", '4'},    {"dtmf_2833_5.pcap", '5'},
      {"dtmf_2833_6.pcap", '6'}, {"dtmf_2833_7.pcap", '7'},    {"dtmf_2833_8.pcap", '8'},
      {"dtmf_2833_9.pcap", '9'}, {"dtmf_2833_star.pcap", '*'}, {"dtmf_2833_pound.pcap", '#'}};
  for (const auto& r : rows) {
    CAPTURE(r.file);
    const auto path = test::sip_tester_file(r.file);
    if (!std::filesystem::exists(path)) {
      MESSAGE("skipped: " << path << " not installed (Debian package sip-tester)");
      continue;
    }
    const auto records = test::read_pcap_udp(path);
    REQUIRE(records.size() == 10);
    dtmf_detector det{{8000, 1000ms}};
    std::vector<dtmf_received> got;
    const media_time t0 = records.front().time;
    rtp_packet first;
    REQUIRE(parse_rtp(records.front().udp_payload, first) == rtp_error::ok);
    for (const auto& rec : records) {
      rtp_packet p;
      REQUIRE(parse_rtp(rec.udp_payload, p) == rtp_error::ok);
      CHECK(p.payload_type == 101); // the dynamic type SIPp's captures use
      p.arrival = rec.time - t0;
      for (const auto& d : det.on_packet(p))
        got.push_back(d);
    }
    for (const auto& d : det.tick(media_time{10s}))
      got.push_back(d);
    REQUIRE(got.size() == 1); // three end packets, one digit
    CHECK(got[0].digit == r.digit);
    CHECK(got[0].rtp_timestamp == first.timestamp);
    CHECK(got[0].duration == 280ms);          // 2240 units at 8 kHz
    CHECK(got[0].at == records[7].time - t0); // the first end packet completed it
  }
}
