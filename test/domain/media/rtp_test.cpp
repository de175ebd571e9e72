#include "domain/media/rtp.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

using namespace gobi::media;

namespace {
using bytes_t = std::vector<std::uint8_t>;
}

TEST_CASE("media rtp: parses the fixed header, CSRCs, extension, payload and padding") {
  // V=2 P=1 X=1 CC=2 | M=1 PT=96 | seq 0x1234 | ts 0xdeadbeef | SSRC 0x01020304
  // CSRC 0x0a0b0c0d, 0x11121314 | ext profile 0xbede, 1 word: 01 02 03 04
  // payload 'a' 'b' 'c' | padding 3 octets (00 00 03)
  const bytes_t d{0xb2, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
                  0x0a, 0x0b, 0x0c, 0x0d, 0x11, 0x12, 0x13, 0x14, 0xbe, 0xde, 0x00, 0x01,
                  0x01, 0x02, 0x03, 0x04, 'a',  'b',  'c',  0x00, 0x00, 0x03};
  rtp_packet p;
  REQUIRE(parse_rtp(d, p) == rtp_error::ok);
  CHECK(p.marker);
  CHECK(p.payload_type == 96);
  CHECK(p.sequence == 0x1234);
  CHECK(p.timestamp == 0xdeadbeef);
  CHECK(p.ssrc == 0x01020304);
  REQUIRE(p.csrc_count() == 2);
  CHECK(p.csrc(0) == 0x0a0b0c0d);
  CHECK(p.csrc(1) == 0x11121314);
  CHECK(p.has_extension);
  CHECK(p.extension_profile == 0xbede);
  CHECK(p.extension.size() == 4);
  CHECK(p.padding == 3);
  REQUIRE(p.payload.size() == 3);
  CHECK(p.payload[0] == 'a');
  // Zero copy: the payload view points into the datagram.
  CHECK(p.payload.data() == d.data() + 28);

  // Serialising it again gives the same bytes.
  std::array<std::uint8_t, 64> out{};
  REQUIRE(write_rtp(p, out) == d.size());
  CHECK(bytes_t(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(d.size())) == d);
  CHECK(rtp_wire_size(p) == d.size());
}

TEST_CASE("media rtp: malformed datagrams are refused with a reason") {
  struct row {
    const char* what;
    bytes_t data;
    rtp_error expected;
  };
  const bytes_t hdr{0x80, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
  auto with = [&](std::uint8_t b0, bytes_t tail) {
    bytes_t d = hdr;
    d[0] = b0;
    d.insert(d.end(), tail.begin(), tail.end());
    return d;
  };
  const std::vector<row> rows{
      {"empty", {}, rtp_error::too_short},
      {"11 bytes", bytes_t(hdr.begin(), hdr.end() - 1), rtp_error::too_short},
      {"version 1", with(0x40, {}), rtp_error::bad_version},
      {"version 0 (e.g. STUN)", with(0x00, {1, 2, 3, 4}), rtp_error::bad_version},
      {"2 CSRCs, room for 1", with(0x82, {1, 2, 3, 4}), rtp_error::csrc_past_end},
      {"extension header cut", with(0x90, {0xbe, 0xde}), rtp_error::extension_past_end},
      {"extension 2 words, 1 present", with(0x90, {0xbe, 0xde, 0, 2, 1, 2, 3, 4}),
       rtp_error::extension_past_end},
      {"padding count 0", with(0xa0, {1, 2, 0}), rtp_error::bad_padding},
      {"padding larger than payload", with(0xa0, {1, 2, 9}), rtp_error::bad_padding},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    rtp_packet p;
    CHECK(parse_rtp(r.data, p) == r.expected);
    CHECK(std::string(to_string(r.expected)).size() > 2);
    CHECK(make_error_code(r.expected).category().name() == std::string{"gobi.rtp"});
  }
  // Edge cases that are valid: padding that is the whole payload; no payload at all.
  rtp_packet p;
  CHECK(parse_rtp(with(0xa0, {0, 0, 3}), p) == rtp_error::ok);
  CHECK(p.payload.empty());
  CHECK(parse_rtp(hdr, p) == rtp_error::ok);
  CHECK(p.payload.empty());
}

TEST_CASE("media rtp: writing refuses what does not fit or cannot be expressed") {
  const std::array<std::uint8_t, 160> payload{};
  rtp_packet p;
  p.payload = payload;
  std::array<std::uint8_t, 100> small{};
  rtp_error e = rtp_error::ok;
  CHECK(write_rtp(p, small, &e) == 0);
  CHECK(e == rtp_error::buffer_too_small);

  const std::array<std::uint8_t, 64> csrcs{}; // 16 sources: one too many
  p.payload = {};
  p.csrc_bytes = csrcs;
  std::array<std::uint8_t, 200> big{};
  CHECK(write_rtp(p, big, &e) == 0);
  CHECK(e == rtp_error::bad_field);
}

TEST_CASE("media rtp: sequence and timestamp arithmetic across the wrap") {
  struct row {
    std::uint16_t a, b;
    bool after;
  };
  for (const auto& r : std::vector<row>{{1, 0, true},
                                        {0, 1, false},
                                        {0, 65535, true},
                                        {65535, 0, false},
                                        {5, 65530, true},
                                        {32767, 0, true},
                                        {32768, 0, false},
                                        {7, 7, false}}) {
    CAPTURE(r.a);
    CAPTURE(r.b);
    CHECK(seq_after(r.a, r.b) == r.after);
  }
  CHECK(ts_after(10, 0xfffffff0u));
  CHECK_FALSE(ts_after(0xfffffff0u, 10));

  // Unwrapping: forward across the wrap, then a reordered packet from before it.
  seq_unwrapper u;
  CHECK(u.unwrap(65534) == 65534);
  CHECK(u.unwrap(65535) == 65535);
  CHECK(u.unwrap(0) == 65536);
  CHECK(u.unwrap(1) == 65537);
  CHECK(u.unwrap(65533) == 65533); // late, stays before the wrap
  CHECK(u.unwrap(2) == 65538);
  ts_unwrapper t;
  CHECK(t.unwrap(0xffffff00u) == 0xffffff00ll);
  CHECK(t.unwrap(0x00000060u) == 0x100000060ll);
}

TEST_CASE("media rtp: parses SIPp's G.711 A-law capture") {
  const auto path = test::sip_tester_file("g711a.pcap");
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not installed (Debian package sip-tester)");
    return;
  }
  const auto records = test::read_pcap_udp(path);
  REQUIRE(records.size() == 236);
  rtp_packet p;
  REQUIRE(parse_rtp(records.front().udp_payload, p) == rtp_error::ok);
  CHECK(p.payload_type == 8); // PCMA
  CHECK(p.marker);
  CHECK(p.sequence == 59133);
  CHECK(p.timestamp == 240);
  CHECK(p.payload.size() == 240); // 30 ms at 8 kHz
  std::uint16_t seq = p.sequence;
  for (std::size_t i = 1; i < records.size(); ++i) {
    REQUIRE(parse_rtp(records[i].udp_payload, p) == rtp_error::ok);
    CHECK(p.sequence == static_cast<std::uint16_t>(seq + 1));
    seq = p.sequence;
  }
}
