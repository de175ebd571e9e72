#include "transport/rtp/srtp.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace gobi;
using namespace gobi::rtp;

namespace {

using bytes = std::vector<std::byte>;

bytes hex(std::string_view h) {
  bytes out;
  int hi = -1;
  for (char c : h) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue; // spaces
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

srtp_key key_from_hex(std::string_view h, srtp_suite suite) {
  srtp_key k;
  k.suite = suite;
  const auto b = hex(h);
  REQUIRE(b.size() == k.master.size());
  std::copy(b.begin(), b.end(), k.master.begin());
  return k;
}

srtp_session make(const srtp_key& k, srtp_direction d) {
  auto s = srtp_session::create(k, d);
  REQUIRE(s.ok());
  return std::move(s).value();
}

/// An RTP packet (V=2, PT 0) with `payload` bytes, in a buffer with room for the trailer.
bytes rtp_packet(std::uint16_t seq, std::uint32_t ssrc, std::size_t payload = 160) {
  bytes p(12 + payload + srtp_trailer_room);
  p[0] = std::byte{0x80};
  p[2] = static_cast<std::byte>(seq >> 8);
  p[3] = static_cast<std::byte>(seq);
  const std::uint32_t ts = seq * 160u;
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<std::byte>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
  }
  for (std::size_t i = 0; i < payload; ++i)
    p[12 + i] = static_cast<std::byte>(seq + i);
  return p;
}

// RFC 3711 Appendix B.3's master key and salt.
constexpr std::string_view rfc3711_master = "e1f97a0d3e018be0d64fa32c06de4139"
                                            "0ec675ad498afeebb6960b3aabe6";

} // namespace

TEST_CASE("srtp: suite names, key params and key generation") {
  CHECK(parse_srtp_suite("AES_CM_128_HMAC_SHA1_80") == srtp_suite::aes_cm_128_hmac_sha1_80);
  CHECK(parse_srtp_suite("AES_CM_128_HMAC_SHA1_32") == srtp_suite::aes_cm_128_hmac_sha1_32);
  CHECK_FALSE(parse_srtp_suite("AES_256_CM_HMAC_SHA1_80"));
  CHECK(srtp_tag_length(srtp_suite::aes_cm_128_hmac_sha1_32) == 4);

  auto k1 = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80);
  auto k2 = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80);
  REQUIRE(k1.ok());
  REQUIRE(k2.ok());
  CHECK(k1->master != k2->master);
  const auto params = format_key_params(*k1);
  CHECK(params.size() == 7 + 40);
  CHECK(params.rfind("inline:", 0) == 0);
  auto back = parse_sdes_key("AES_CM_128_HMAC_SHA1_80", params);
  REQUIRE(back.ok());
  CHECK(*back == *k1);

  // RFC 4568's example key, with a lifetime (accepted and ignored).
  auto ex = parse_sdes_key("AES_CM_128_HMAC_SHA1_32",
                           "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20");
  REQUIRE(ex.ok());
  CHECK(ex->suite == srtp_suite::aes_cm_128_hmac_sha1_32);
  CHECK(format_key_params(*ex) == "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj");

  const char* bad[] = {
      "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj",                 // no method
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Z",           // 29.x bytes
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1ZjAA==",      // 31 bytes
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Z*",          // bad character
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4", // MKI
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|1:4",      // MKI without lifetime
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|",         // empty lifetime
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj;inline:NzB4d1BINUAvLEw6UzF3WSJ+"
      "PSdFcGdUJShpX1Zj",
      "",
  };
  for (const char* b : bad) {
    CAPTURE(b);
    auto r = parse_sdes_key("AES_CM_128_HMAC_SHA1_80", b);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
  }
  CHECK_FALSE(parse_sdes_key("F8_128_HMAC_SHA1_80", params).ok());
}

// The expected bytes come from test/transport/rtp/srtp_vectors.py: RFC 3711 implemented
// independently of libsrtp2, checked against the key derivation vectors of Appendix B.3.
TEST_CASE("srtp: known answer from RFC 3711 B.3 keys (AES_CM_128_HMAC_SHA1_80 and _32)") {
  const auto plain = hex("80 00 2a 01 00 00 1f 40 67 6f 62 69 67 6f 62 69"
                         "20 53 52 54 50 20 76 65 63 74 6f 72 20 6f 6e 65");
  const auto cipher_80 = hex("80 00 2a 01 00 00 1f 40 67 6f 62 69 55 b7 09 64"
                             "d0 3d 67 bf 0b de 5e 43 ef 2a f6 72 c6 78 2d 3a"
                             "66 79 cc 88 c8 b2 9d d2 be c1");
  const auto cipher_32 = bytes(cipher_80.begin(), cipher_80.end() - 6);

  for (auto suite : {srtp_suite::aes_cm_128_hmac_sha1_80, srtp_suite::aes_cm_128_hmac_sha1_32}) {
    CAPTURE(to_string(suite));
    const auto& expected = suite == srtp_suite::aes_cm_128_hmac_sha1_80 ? cipher_80 : cipher_32;
    const auto key = key_from_hex(rfc3711_master, suite);
    auto out = make(key, srtp_direction::outbound);
    bytes buf = plain;
    buf.resize(plain.size() + srtp_trailer_room);
    const auto r = out.protect_rtp(buf, plain.size());
    REQUIRE(r.ok());
    CHECK(bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.length)) == expected);

    auto in = make(key, srtp_direction::inbound);
    bytes wire = expected;
    const auto u = in.unprotect_rtp(wire);
    REQUIRE(u.ok());
    CHECK(bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(u.length)) == plain);
  }
}

TEST_CASE("srtp: SRTCP known answer from RFC 3711 B.3 keys") {
  const auto plain = hex("80 c9 00 01 67 6f 62 69 81 cb 00 01 67 6f 62 69");
  // libsrtp2 numbers the first SRTCP packet 1 (E flag set: encrypted).
  const auto expected = hex("80 c9 00 01 67 6f 62 69 4a 86 ae 93 5a 40 4d 45"
                            "80 00 00 01 fb 88 63 a9 1b 12 da 3b 44 c4");
  const auto key = key_from_hex(rfc3711_master, srtp_suite::aes_cm_128_hmac_sha1_32);
  auto out = make(key, srtp_direction::outbound);
  bytes buf = plain;
  buf.resize(plain.size() + srtp_trailer_room);
  const auto r = out.protect_rtcp(buf, plain.size());
  REQUIRE(r.ok());
  CHECK(bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.length)) == expected);

  auto in = make(key, srtp_direction::inbound);
  bytes wire = expected;
  const auto u = in.unprotect_rtcp(wire);
  REQUIRE(u.ok());
  CHECK(bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(u.length)) == plain);
}

TEST_CASE("srtp: two parties with swapped keys talk both ways, RTP and RTCP") {
  const auto ka = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  const auto kb = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_32).value();
  // Each side sends with its own key and receives with the key the other put in its SDP.
  auto a_out = make(ka, srtp_direction::outbound);
  auto a_in = make(parse_sdes_key("AES_CM_128_HMAC_SHA1_32", format_key_params(kb)).value(),
                   srtp_direction::inbound);
  auto b_out = make(kb, srtp_direction::outbound);
  auto b_in = make(parse_sdes_key("AES_CM_128_HMAC_SHA1_80", format_key_params(ka)).value(),
                   srtp_direction::inbound);

  auto one_way = [](srtp_session& tx, srtp_session& rx, std::uint32_t ssrc) {
    for (std::uint16_t seq = 65500; seq != 100; ++seq) { // crosses the rollover
      auto p = rtp_packet(seq, ssrc);
      const bytes plain(p.begin(), p.begin() + 172);
      const auto r = tx.protect_rtp(p, 172);
      REQUIRE(r.ok());
      CHECK(r.length == 172 + srtp_tag_length(tx.suite()));
      CHECK(bytes(p.begin() + 12, p.begin() + 172) != bytes(plain.begin() + 12, plain.end()));
      const auto u = rx.unprotect_rtp(std::span(p).first(r.length));
      REQUIRE(u.ok());
      CHECK(u.length == 172);
      CHECK(bytes(p.begin(), p.begin() + 172) == plain);
    }
    bytes rr = {std::byte{0x80}, std::byte{201}, std::byte{0}, std::byte{1},
                std::byte{1},    std::byte{2},   std::byte{3}, std::byte{4}};
    const bytes plain = rr;
    rr.resize(rr.size() + srtp_trailer_room);
    const auto r = tx.protect_rtcp(rr, 8);
    REQUIRE(r.ok());
    CHECK(r.length == 8 + 4 + 10);
    const auto u = rx.unprotect_rtcp(std::span(rr).first(r.length));
    REQUIRE(u.ok());
    CHECK(bytes(rr.begin(), rr.begin() + 8) == plain);
  };
  one_way(a_out, b_in, 0x11111111);
  one_way(b_out, a_in, 0x22222222);

  // A third party's key does not authenticate.
  const auto kc = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  auto c_out = make(kc, srtp_direction::outbound);
  auto p = rtp_packet(7, 0x33333333); // an SSRC b_in has no replay state for
  const auto r = c_out.protect_rtp(p, 172);
  REQUIRE(r.ok());
  CHECK(b_in.unprotect_rtp(std::span(p).first(r.length)).code == srtp_errc::auth_failed);
}

TEST_CASE("srtp: a tampered packet fails authentication and leaves the session usable") {
  const auto k = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  auto out = make(k, srtp_direction::outbound);
  auto in = make(k, srtp_direction::inbound);
  auto p = rtp_packet(1000, 0xabcdef01);
  const auto r = out.protect_rtp(p, 172);
  REQUIRE(r.ok());
  const bytes wire(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(r.length));

  // Flip one bit in every byte after the first (the first holds the version and lengths).
  for (std::size_t i = 1; i < wire.size(); ++i) {
    CAPTURE(i);
    bytes bad = wire;
    bad[i] ^= std::byte{0x01};
    const auto u = in.unprotect_rtp(bad);
    CHECK(u.code == srtp_errc::auth_failed);
  }
  bytes truncated(wire.begin(), wire.end() - 1);
  CHECK_FALSE(in.unprotect_rtp(truncated).ok());

  // The genuine packet still passes: failures did not touch the replay window.
  bytes good = wire;
  CHECK(in.unprotect_rtp(good).ok());
}

TEST_CASE("srtp: a replayed or too old packet is rejected") {
  const auto k = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  auto out = make(k, srtp_direction::outbound);
  auto in = make(k, srtp_direction::inbound);
  std::vector<bytes> sent;
  for (std::uint16_t seq = 1; seq <= 300; ++seq) {
    auto p = rtp_packet(seq, 0x5eed);
    const auto r = out.protect_rtp(p, 172);
    REQUIRE(r.ok());
    p.resize(r.length);
    sent.push_back(p);
  }
  bytes first = sent[0];
  REQUIRE(in.unprotect_rtp(first).ok());
  bytes again = sent[0];
  CHECK(in.unprotect_rtp(again).code == srtp_errc::replayed);

  // Jump ahead, then come back: within the 128-packet window still fine, beyond it too old.
  bytes late = sent[299];
  REQUIRE(in.unprotect_rtp(late).ok());
  bytes within = sent[250];
  CHECK(in.unprotect_rtp(within).ok());
  bytes within_again = sent[250];
  CHECK(in.unprotect_rtp(within_again).code == srtp_errc::replayed);
  bytes old = sent[10];
  CHECK(in.unprotect_rtp(old).code == srtp_errc::replayed);

  // SRTCP has its own replay window.
  bytes rr = {std::byte{0x80}, std::byte{201}, std::byte{0},    std::byte{1},
              std::byte{0},    std::byte{0},   std::byte{0x5e}, std::byte{0xed}};
  rr.resize(rr.size() + srtp_trailer_room);
  const auto r = out.protect_rtcp(rr, 8);
  REQUIRE(r.ok());
  rr.resize(r.length);
  bytes c1 = rr, c2 = rr;
  CHECK(in.unprotect_rtcp(c1).ok());
  CHECK(in.unprotect_rtcp(c2).code == srtp_errc::replayed);
}

TEST_CASE("srtp: garbage, short packets and misuse are errors, never crashes") {
  const auto k = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  auto in = make(k, srtp_direction::inbound);
  auto out = make(k, srtp_direction::outbound);
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    bytes g(rng() % 300);
    for (auto& b : g)
      b = static_cast<std::byte>(rng());
    if (i % 2 && !g.empty()) g[0] = (g[0] & std::byte{0x3f}) | std::byte{0x80}; // looks like v2
    bytes g2 = g;
    CHECK_FALSE(in.unprotect_rtp(g).ok());
    CHECK_FALSE(in.unprotect_rtcp(g2).ok());
  }
  bytes empty;
  CHECK(in.unprotect_rtp(empty).code == srtp_errc::malformed);

  // A header claiming more CSRCs or extension words than the packet has.
  bytes liar = rtp_packet(1, 1, 0);
  liar.resize(12);
  liar[0] = std::byte{0x8f};
  auto room = liar;
  room.resize(12 + srtp_trailer_room);
  CHECK(out.protect_rtp(room, 12).code == srtp_errc::malformed);
  liar[0] = std::byte{0x90};
  room = liar;
  room.resize(12 + srtp_trailer_room);
  CHECK(out.protect_rtp(room, 12).code == srtp_errc::malformed);

  // No room for the tag; wrong direction; RTP that is not version 2.
  auto p = rtp_packet(1, 1);
  CHECK(out.protect_rtp(std::span(p).first(172 + 10), 172).code == srtp_errc::no_room);
  CHECK(in.protect_rtp(p, 172).code == srtp_errc::failed);
  CHECK(out.unprotect_rtp(p).code == srtp_errc::failed);
  p[0] = std::byte{0x40};
  CHECK(out.protect_rtp(p, 172).code == srtp_errc::malformed);

  // A moved-from session refuses politely.
  auto moved = std::move(out);
  auto q = rtp_packet(2, 1);
  CHECK(moved.protect_rtp(q, 172).ok());
  CHECK(out.protect_rtp(q, 172).code == srtp_errc::failed); // NOLINT(bugprone-use-after-move)

  CHECK(make_error_code(srtp_errc::auth_failed).message() == "SRTP authentication failed");
  CHECK(std::error_code(srtp_errc::replayed).category().name() == std::string("srtp"));
}
