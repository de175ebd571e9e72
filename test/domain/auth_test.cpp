#include "domain/auth.hpp"

#include <sodium.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace gobi::auth;

namespace {

std::string b64(std::string_view s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();
  return out;
}

/// A token with any header and payload, signed with `secret` (HMAC-SHA256 computed here
/// with libsodium's one-shot API on a 32-byte key, independently of auth.cpp's code path).
std::string forge(std::string_view header, std::string_view payload, std::string_view key32) {
  std::string signing = b64(header) + "." + b64(payload);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signing.data()),
                         signing.size(), reinterpret_cast<const unsigned char*>(key32.data()));
  return signing + "." + b64({reinterpret_cast<const char*>(mac), sizeof mac});
}

const std::string key32 = "0123456789abcdef0123456789abcdef";

claims sample() {
  claims c;
  c.user = "usr_1";
  c.tenant = "ten_1";
  c.email = "ada@example.com";
  c.issued_at = 1'700'000'000;
  c.expires_at = 1'700'003'600;
  return c;
}

} // namespace

TEST_CASE("auth: password hashes verify and differ per call") {
  auto h1 = hash_password("correct horse battery staple");
  auto h2 = hash_password("correct horse battery staple");
  REQUIRE(h1.ok());
  REQUIRE(h2.ok());
  CHECK(h1->starts_with("$argon2id$"));
  CHECK(*h1 != *h2); // salted
  CHECK(verify_password(*h1, "correct horse battery staple"));
  CHECK_FALSE(verify_password(*h1, "correct horse battery stapler"));
  CHECK_FALSE(verify_password(*h1, ""));
  CHECK_FALSE(verify_password("", "x"));
  CHECK_FALSE(verify_password("not a hash", "x"));
  auto empty = hash_password("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().code == gobi::errc::validation);
}

TEST_CASE("auth: a signed token verifies and round-trips its claims") {
  const auto c = sample();
  const auto token = sign_jwt(c, key32);
  CHECK(token.find('=') == std::string::npos);
  CHECK(token.starts_with(b64(R"({"alg":"HS256","typ":"JWT"})") + "."));
  auto v = verify_jwt(token, key32, c.issued_at + 10);
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  CHECK(v->user == c.user);
  CHECK(v->tenant == c.tenant);
  CHECK(v->email == c.email);
  CHECK(v->issued_at == c.issued_at);
  CHECK(v->expires_at == c.expires_at);
  // Our signature equals an independent HMAC over the same bytes.
  const auto dot = token.rfind('.');
  const auto first = token.find('.');
  std::string payload(token.substr(first + 1, dot - first - 1));
  std::string decoded(payload.size(), '\0');
  std::size_t len = 0;
  REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                            payload.data(), payload.size(), nullptr, &len, nullptr,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING)
          == 0);
  decoded.resize(len);
  CHECK(decoded
        == R"({"sub":"usr_1","tid":"ten_1","email":"ada@example.com","iat":1700000000,"exp":1700003600})");
  CHECK(forge(R"({"alg":"HS256","typ":"JWT"})", decoded, key32) == token);
}

TEST_CASE("auth: claims with characters that need escaping survive") {
  auto c = sample();
  c.email = "we\"ird\\name@example.com";
  c.user = "usr_\xC3\xA9";
  const auto v = verify_jwt(sign_jwt(c, key32), key32, c.issued_at);
  REQUIRE(v.ok());
  CHECK(v->email == c.email);
  CHECK(v->user == c.user);
}

TEST_CASE("auth: keys of any length work, and a different key fails") {
  const auto c = sample();
  for (std::string key : {std::string{"k"}, std::string(200, 'x'), key32}) {
    CAPTURE(key.size());
    CHECK(verify_jwt(sign_jwt(c, key), key, c.issued_at).ok());
    CHECK_FALSE(verify_jwt(sign_jwt(c, key), key + "!", c.issued_at).ok());
  }
}

TEST_CASE("auth: bad tokens are refused with a reason") {
  const auto c = sample();
  const auto good = sign_jwt(c, key32);
  const auto now = c.issued_at + 1;
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string payload
    = R"({"sub":"usr_1","tid":"ten_1","email":"a@b.c","iat":1700000000,"exp":1700003600})";
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  std::string bad_sig = good;
  auto& sig_char = bad_sig[bad_sig.rfind('.') + 3];
  sig_char = sig_char == 'A' ? 'B' : 'A';

  struct test_case {
    const char* name;
    std::string token;
    std::int64_t now;
    std::string reason;
  };
  const std::vector<test_case> cases{
    {"empty", "", now, "missing token"},
    {"two segments", "abc.def", now, "malformed token: expected three segments"},
    {"four segments", good + ".x", now, "malformed token: expected three segments"},
    {"bad base64", "!!!." + b64(payload) + ".sig", now, "malformed token: bad base64 in header"},
    {"padding refused", b64(header) + "=." + b64(payload) + ".x", now,
     "malformed token: bad base64 in header"},
    {"header not json", b64("nope") + "." + b64(payload) + ".x", now,
     "malformed token: header is not a JSON object"},
    {"alg none", b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload) + ".", now,
     "unsupported token algorithm 'none': only HS256 is accepted"},
    {"alg HS512", forge(R"({"alg":"HS512"})", payload, key32), now,
     "unsupported token algorithm 'HS512': only HS256 is accepted"},
    {"no alg", forge(R"({"typ":"JWT"})", payload, key32), now, "malformed token: no algorithm"},
    {"tampered payload", tampered, now, "bad token signature"},
    {"bad signature", bad_sig, now, "bad token signature"},
    {"empty signature", good.substr(0, good.rfind('.') + 1), now, "bad token signature"},
    {"expired", good, c.expires_at, "token expired"},
    {"long expired", good, c.expires_at + 1000, "token expired"},
    {"no sub", forge(header, R"({"tid":"t","exp":1800000000})", key32), now,
     "token has no subject (sub)"},
    {"no tid", forge(header, R"({"sub":"u","exp":1800000000})", key32), now,
     "token has no tenant (tid)"},
    {"no exp", forge(header, R"({"sub":"u","tid":"t"})", key32), now, "token has no expiry (exp)"},
    {"exp not a number", forge(header, R"({"sub":"u","tid":"t","exp":"soon"})", key32), now,
     "token has no expiry (exp)"},
    {"payload not json", forge(header, "[1,2", key32), now,
     "malformed token: claims are not a JSON object"},
  };
  for (const auto& t : cases) {
    const std::string name = t.name;
    CAPTURE(name);
    const auto v = verify_jwt(t.token, key32, t.now);
    REQUIRE_FALSE(v.ok());
    CHECK(v.err().code == gobi::errc::unauthenticated);
    CHECK(v.err().message == t.reason);
  }
  CHECK(verify_jwt(good, key32, c.expires_at - 1).ok());
}

TEST_CASE("auth: random secrets are 64 hex characters and differ") {
  const auto a = random_secret();
  const auto b = random_secret();
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}
