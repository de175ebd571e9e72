#include "domain/sdp/negotiate.hpp"
#include "domain/sdp/session.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace gobi::sdp;

namespace {
const std::string offer_text = "v=0\r\n"
                               "o=alice 2890844526 2890844527 IN IP4 host.example.com\r\n"
                               "s=Talk\r\n"
                               "i=A session\r\n"
                               "c=IN IP4 192.0.2.5\r\n"
                               "b=AS:64\r\n"
                               "t=0 0\r\n"
                               "a=tool:x\r\n"
                               "m=audio 49170 RTP/AVP 0 8 96 101\r\n"
                               "a=rtpmap:96 opus/48000/2\r\n"
                               "a=rtpmap:101 telephone-event/8000\r\n"
                               "a=fmtp:101 0-16\r\n"
                               "a=ptime:20.0\r\n"
                               "a=rtcp:49175\r\n"
                               "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                               "inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e|2^20 KDR=1\r\n"
                               "a=sendonly\r\n"
                               "m=video 51372 RTP/AVP 31\r\n"
                               "c=IN IP6 2001:db8::1\r\n"
                               "a=rtpmap:31 H261/90000\r\n";
} // namespace

TEST_CASE("sdp parser: fields, typed helpers, round trip") {
  const auto s = parse(offer_text);
  REQUIRE(s.ok());
  CHECK(s->origin.username == "alice");
  CHECK(s->origin.session_version == "2890844527");
  CHECK(s->name == "Talk");
  CHECK(s->connection->address == "192.0.2.5");
  REQUIRE(s->media.size() == 2);
  const auto& a = s->media[0];
  CHECK(a.port == 49170);
  CHECK(a.formats == std::vector<std::string>{"0", "8", "96", "101"});
  CHECK(a.rtpmap_for(0)->encoding == "PCMU");
  CHECK(a.rtpmap_for(96)->channels == 2);
  CHECK(a.rtpmap_for(96)->clock_rate == 48000);
  CHECK_FALSE(a.rtpmap_for(97));
  CHECK(a.fmtp_for(101) == "0-16");
  CHECK(a.ptime() == 20);
  CHECK(a.direction_or(direction::sendrecv) == direction::sendonly);
  const auto c = a.cryptos();
  REQUIRE(c.size() == 1);
  CHECK(c[0].suite == "AES_CM_128_HMAC_SHA1_80");
  CHECK(c[0].session_params == "KDR=1");
  CHECK(s->media[1].connection->addrtype == "IP6");
  CHECK(s->media[1].direction_or(s->direction()) == direction::sendrecv);
  CHECK(to_string(*s) == offer_text);
}

TEST_CASE("sdp parser: errors carry line numbers and 400") {
  struct row {
    std::string text;
    std::size_t line;
  };
  const std::vector<row> bad{
      {"", 0},
      {"o=a 1 1 IN IP4 h\r\n", 1},
      {"v=1\r\n", 1},
      {"v=0\r\ns=x\r\n", 0},                                 // no o=
      {"v=0\r\no=a 1 1 IN IP4\r\ns=x\r\n", 2},               // 5 fields
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4\r\n", 4}, // short c=
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nm=audio 70000 RTP/AVP 0\r\n", 4},
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nm=audio 5 RTP/AVP\r\n", 4},
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nx=unknown\r\n", 4},
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nm=audio 5 RTP/AVP 0\r\nt=0 0\r\n", 5},
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\na=bad name\r\n", 4},
      {"v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\nhello\r\n", 4},
      {std::string("v=0\r\no=a 1 1 IN IP4 h\r\ns=x\0y\r\n", 31), 3},
  };
  for (const auto& r : bad) {
    CAPTURE(r.text);
    const auto p = parse(r.text);
    REQUIRE_FALSE(p.ok());
    CHECK(p.err().line == r.line);
    CHECK(p.err().sip_status == 400);
  }
  // LF-only line ends, blank lines, and a missing t= are tolerated
  const auto lf = parse("v=0\no=a 1 1 IN IP4 h\ns=x\n\nm=audio 5 RTP/AVP 0\n\n");
  REQUIRE(lf.ok());
  CHECK(lf->times == std::vector<std::string>{"0 0"});
}

TEST_CASE("sdp parser: limits are errors, long values are kept whole") {
  std::string many = "v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\n";
  for (int i = 0; i < 40; ++i)
    many += "m=audio " + std::to_string(1000 + i) + " RTP/AVP 0\r\n";
  CHECK(parse(many).err().message.find("m= lines") != std::string::npos);
  const std::string long_value(20000, 'z');
  const auto big = parse("v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\na=x-long:" + long_value + "\r\n");
  REQUIRE(big.ok());
  CHECK(big->attributes[0].value->size() == long_value.size());
  parse_limits small;
  small.max_bytes = 100;
  CHECK_FALSE(
      parse("v=0\r\no=a 1 1 IN IP4 h\r\ns=x\r\na=x-long:" + long_value + "\r\n", small).ok());
}

TEST_CASE("sdp parser: random bytes and mutations never crash") {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string s = offer_text;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e)
      s[rng() % s.size()] = static_cast<char>(rng() % 256);
    if (round % 3 == 0) s = s.substr(0, rng() % s.size());
    const auto p = parse(s);
    if (!p) continue;
    // whatever parses also negotiates without crashing
    (void)answer_offer(*p, {}, {"192.0.2.10", 30000}, srtp_policy::optional, srtp_key{});
    CHECK(parse(to_string(*p)).ok());
  }
}

TEST_CASE("sdp keys: base64 of 30 bytes") {
  srtp_key k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(i * 7);
  const auto b64 = encode_key(k);
  CHECK(b64.size() == 40);
  CHECK(decode_key(b64) == k);
  CHECK_FALSE(decode_key(b64.substr(0, 36)));
  CHECK_FALSE(decode_key("!!!!" + b64.substr(4)));
  CHECK(parse_srtp_policy("required") == srtp_policy::required);
  CHECK_FALSE(parse_srtp_policy("maybe"));
}
