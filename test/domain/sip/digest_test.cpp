#include "domain/sip/digest.hpp"
#include "domain/sip/md5.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace gobi::sip;

TEST_CASE("sip md5: RFC 1321 test suite") {
  CHECK(md5::hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5::hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5::hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5::hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5::hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(md5::hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "d174ab98d277d9f5a5611c2c9f419d9f");
  CHECK(md5::hex("1234567890123456789012345678901234567890123456789012345678901234567890123456"
                 "7890") == "57edf4a22be3c955ac49da2e2107b67a");
  // streaming in odd pieces gives the same digest
  md5 h;
  const std::string text = "The quick brown fox jumps over the lazy dog, many times over.";
  for (std::size_t i = 0; i < text.size(); i += 7)
    h.update(std::string_view(text).substr(i, 7));
  CHECK(h.finish() == md5::digest(text));
}

namespace {
// RFC 7616 section 3.9.1
const std::string rfc7616_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const std::string rfc7616_opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
const std::string rfc7616_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

std::string challenge_text(std::string_view alg) {
  return "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n algorithm=" +
         std::string(alg) + ",\r\n nonce=\"" + rfc7616_nonce + "\",\r\n opaque=\"" +
         rfc7616_opaque + "\"";
}
} // namespace

TEST_CASE("sip digest: RFC 7616 example, MD5 and SHA-256") {
  struct row {
    const char* alg;
    const char* response;
  };
  for (const auto& r :
       {row{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
        row{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}}) {
    CAPTURE(r.alg);
    auto c = parse_challenge(challenge_text(r.alg));
    REQUIRE(c.ok());
    CHECK(c->realm == "http-auth@example.org");
    CHECK(c->qop_auth);
    CHECK(c->qop_auth_int);
    CHECK(c->opaque == rfc7616_opaque);
    const auto value = make_authorization(*c, {"Mufasa", "Circle of Life"},
                                          {"GET", "/dir/index.html", "", rfc7616_cnonce, 1});
    CHECK(value.find(std::string("response=\"") + r.response + "\"") != std::string::npos);
    CHECK(value.find("qop=auth, nc=00000001") != std::string::npos);
    CHECK(value.find("opaque=\"" + rfc7616_opaque + "\"") != std::string::npos);
    // and the server side agrees
    auto a = parse_authorization(value);
    REQUIRE(a.ok());
    CHECK(a->response == r.response);
    CHECK(verify_authorization(*a, "Mufasa", "Circle of Life", "http-auth@example.org", "GET"));
    CHECK_FALSE(
        verify_authorization(*a, "Mufasa", "Circle of life", "http-auth@example.org", "GET"));
    CHECK_FALSE(
        verify_authorization(*a, "Mufasa", "Circle of Life", "http-auth@example.org", "PUT"));
    CHECK_FALSE(
        verify_authorization(*a, "Simba", "Circle of Life", "http-auth@example.org", "GET"));
  }
}

TEST_CASE("sip digest: RFC 2617 form without qop, -sess, auth-int, userhash") {
  // RFC 2069-style (no qop): response = H(HA1:nonce:HA2)
  auto c = parse_challenge("Digest realm=\"asterisk\", nonce=\"41f1a2b3\"");
  REQUIRE(c.ok());
  CHECK(c->algorithm == digest_algorithm::md5);
  const auto v = make_authorization(*c, {"1001", "secret"}, {"INVITE", "sip:100@pbx", "", "x", 1});
  const auto ha1 = md5::hex("1001:asterisk:secret");
  const auto ha2 = md5::hex("INVITE:sip:100@pbx");
  CHECK(v.find("response=\"" + md5::hex(ha1 + ":41f1a2b3:" + ha2) + "\"") != std::string::npos);
  CHECK(v.find("qop") == std::string::npos);
  CHECK(verify_authorization(*parse_authorization(v), "1001", "secret", "asterisk", "INVITE"));

  for (const char* alg : {"MD5-sess", "SHA-256-sess"}) {
    CAPTURE(alg);
    digest_challenge s{"r", "n", "", *parse_digest_algorithm(alg), true, false, false, false};
    const auto val = make_authorization(s, {"u", "p"}, {"BYE", "sip:a@b", "", "cn", 3});
    CHECK(val.find("nc=00000003") != std::string::npos);
    CHECK(verify_authorization(*parse_authorization(val), "u", "p", "r", "BYE"));
  }

  digest_challenge ai{"r", "n", "o", digest_algorithm::sha256, false, true, false, true};
  const auto val = make_authorization(ai, {"u", "p"}, {"MESSAGE", "sip:a@b", "hello", "cn", 1});
  CHECK(val.find("qop=auth-int") != std::string::npos);
  CHECK(val.find("userhash=true") != std::string::npos);
  CHECK(val.find("username=\"u\"") == std::string::npos);
  const auto parsed = parse_authorization(val);
  CHECK(verify_authorization(*parsed, "u", "p", "r", "MESSAGE", "hello"));
  CHECK_FALSE(verify_authorization(*parsed, "u", "p", "r", "MESSAGE", "hellO"));
}

TEST_CASE("sip digest: challenges that cannot be used are errors") {
  CHECK(parse_challenge("Basic realm=\"x\"").err().code == errc::unsupported);
  CHECK(parse_challenge("Digest realm=\"x\"").err().code == errc::bad_auth);
  CHECK(parse_challenge("Digest realm=\"x\", nonce=\"y\", algorithm=SHA-512-256").err().code ==
        errc::unsupported);
  CHECK(parse_challenge("Digest realm=\"x\", nonce=\"y\", qop=\"auth-conf\"").err().code ==
        errc::unsupported);
  CHECK_FALSE(parse_challenge("Digest realm=\"x, nonce=y").ok());
  CHECK_FALSE(parse_authorization("Digest username=\"a\"").ok());
  // SHA-256 is chosen over MD5 whatever the order
  const auto best = select_challenge({"Digest realm=\"r\", nonce=\"1\", algorithm=MD5",
                                      "Digest realm=\"r\", nonce=\"2\", algorithm=SHA-256",
                                      "Digest realm=\"r\", nonce=\"3\", algorithm=SHA-512-256"});
  REQUIRE(best);
  CHECK(best->nonce == "2");
  CHECK_FALSE(select_challenge({"Basic realm=\"r\""}));
}

TEST_CASE("sip digest: server challenge and stateless nonces") {
  const std::string secret = "server-secret";
  const auto nonce = make_nonce(secret, 1000);
  CHECK(check_nonce(secret, nonce, 1000, 300) == nonce_check::valid);
  CHECK(check_nonce(secret, nonce, 1300, 300) == nonce_check::valid);
  CHECK(check_nonce(secret, nonce, 1301, 300) == nonce_check::stale);
  CHECK(check_nonce("other", nonce, 1000, 300) == nonce_check::invalid);
  auto tampered = nonce;
  tampered[20] = tampered[20] == 'a' ? 'b' : 'a';
  CHECK(check_nonce(secret, tampered, 1000, 300) == nonce_check::invalid);
  CHECK(check_nonce(secret, "short", 1000, 300) == nonce_check::invalid);

  digest_challenge c{"gobi", nonce, "op", digest_algorithm::sha256, true, false, false, false};
  const auto header = to_string(c);
  CHECK(header == "Digest realm=\"gobi\", nonce=\"" + nonce +
                      "\", opaque=\"op\", algorithm=SHA-256, qop=\"auth\"");
  const auto round = parse_challenge(header);
  REQUIRE(round.ok());
  const auto auth =
      make_authorization(*round, {"alice", "pw"}, {"REGISTER", "sip:gobi", "", "c1", 1});
  const auto a = parse_authorization(auth);
  REQUIRE(a.ok());
  CHECK(check_nonce(secret, a->nonce, 1010, 300) == nonce_check::valid);
  CHECK(verify_authorization(*a, "alice", "pw", "gobi", "REGISTER"));
}
