#include "domain/auth.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <sodium.h>

#include <array>
#include <optional>

namespace gobi::auth {

namespace {

/// libsodium must be initialised once before use; sodium_init is idempotent and the
/// function-local static makes the first call thread-safe.
bool sodium_ready() noexcept {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

constexpr int b64_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::string_view jwt_header = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::size_t max_token_bytes = 8192; // ours are ~250 bytes; refuse absurd input early

const unsigned char* bytes(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string base64url(std::string_view bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), b64_variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes(bin), bin.size(), b64_variant);
  out.resize(out.size() - 1); // the encoded length counts the terminating NUL
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 1, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, b64_variant)
        != 0
      || end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

using mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

/// HMAC-SHA256 with a key of any length (the streaming API hashes long keys as RFC 2104 says).
mac hmac_sha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, bytes(key), key.size());
  crypto_auth_hmacsha256_update(&st, bytes(message), message.size());
  mac out{};
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

error unauthenticated(std::string why) {
  return make_error(errc::unauthenticated, std::move(why));
}

/// Parses JSON text into a DOM element; simdjson reports errors as values here (no throw).
/// The parser owns the element's memory, so it is passed in.
std::optional<simdjson::dom::object> parse_object(simdjson::dom::parser& parser,
                                                  std::string_view json) {
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size(), true).get(doc) != simdjson::SUCCESS)
    return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return std::nullopt;
  return obj;
}

/// A string member; nullopt when absent or not a string.
std::optional<std::string> string_member(simdjson::dom::object& obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS)
    return std::nullopt;
  return std::string{v};
}

/// An integer member (seconds); also accepts integral doubles, as some encoders write them.
std::optional<std::int64_t> int_member(simdjson::dom::object& obj, std::string_view key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS)
    return std::nullopt;
  std::int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS)
    return i;
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS && d >= -9.2e18 && d <= 9.2e18
      && static_cast<double>(static_cast<std::int64_t>(d)) == d)
    return static_cast<std::int64_t>(d);
  return std::nullopt;
}

} // namespace

result<std::string> hash_password(std::string_view password) {
  if (!sodium_ready())
    return make_error(errc::internal, "libsodium failed to initialise");
  if (password.empty())
    return make_error(errc::validation, "password must not be empty", "password");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13)
      != 0)
    return make_error(errc::unavailable, "password hashing failed: out of memory");
  return std::string{out.data()};
}

bool verify_password(std::string_view hash, std::string_view password) {
  if (!sodium_ready() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  const std::string terminated{hash}; // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

std::string sign_jwt(const claims& c, std::string_view secret) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const auto str = [&](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("sub");
  str(c.user);
  w.Key("tid");
  str(c.tenant);
  w.Key("email");
  str(c.email);
  w.Key("iat");
  w.Int64(c.issued_at);
  w.Key("exp");
  w.Int64(c.expires_at);
  w.EndObject();

  std::string token = base64url(jwt_header);
  token.push_back('.');
  token += base64url({buf.GetString(), buf.GetSize()});
  const auto sig = hmac_sha256(secret, token);
  token.push_back('.');
  token += base64url({reinterpret_cast<const char*>(sig.data()), sig.size()});
  return token;
}

result<claims> verify_jwt(std::string_view token, std::string_view secret, std::int64_t now_s) {
  if (!sodium_ready())
    return make_error(errc::internal, "libsodium failed to initialise");
  if (token.empty())
    return unauthenticated("missing token");
  if (token.size() > max_token_bytes)
    return unauthenticated("malformed token: too long");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return unauthenticated("malformed token: expected three segments");
  const auto header_b64 = token.substr(0, dot1);
  const auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto sig_b64 = token.substr(dot2 + 1);

  const auto header = unbase64url(header_b64);
  if (!header)
    return unauthenticated("malformed token: bad base64 in header");
  simdjson::dom::parser parser;
  auto header_obj = parse_object(parser, *header);
  if (!header_obj)
    return unauthenticated("malformed token: header is not a JSON object");
  const auto alg = string_member(*header_obj, "alg");
  if (!alg)
    return unauthenticated("malformed token: no algorithm");
  if (*alg != "HS256")
    return unauthenticated("unsupported token algorithm '" + alg->substr(0, 16)
                           + "': only HS256 is accepted");

  // The signature is checked before the payload is looked at.
  const auto sig = unbase64url(sig_b64);
  if (!sig)
    return unauthenticated("malformed token: bad base64 in signature");
  const auto expected = hmac_sha256(secret, token.substr(0, dot2));
  if (sig->size() != expected.size()
      || sodium_memcmp(sig->data(), expected.data(), expected.size()) != 0)
    return unauthenticated("bad token signature");

  const auto payload = unbase64url(payload_b64);
  if (!payload)
    return unauthenticated("malformed token: bad base64 in claims");
  auto obj = parse_object(parser, *payload);
  if (!obj)
    return unauthenticated("malformed token: claims are not a JSON object");
  claims c;
  auto sub = string_member(*obj, "sub");
  auto tid = string_member(*obj, "tid");
  if (!sub || sub->empty())
    return unauthenticated("token has no subject (sub)");
  if (!tid || tid->empty())
    return unauthenticated("token has no tenant (tid)");
  const auto exp = int_member(*obj, "exp");
  if (!exp)
    return unauthenticated("token has no expiry (exp)");
  if (*exp <= now_s)
    return unauthenticated("token expired");
  c.user = std::move(*sub);
  c.tenant = std::move(*tid);
  c.email = string_member(*obj, "email").value_or("");
  c.issued_at = int_member(*obj, "iat").value_or(0);
  c.expires_at = *exp;
  return c;
}

std::string random_secret() {
  (void)sodium_ready(); // randombytes works without it, but initialising picks the best source
  std::array<unsigned char, 32> key{};
  randombytes_buf(key.data(), key.size());
  std::string hex(key.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.pop_back();
  sodium_memzero(key.data(), key.size());
  return hex;
}

} // namespace gobi::auth
