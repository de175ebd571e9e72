#pragma once

/// HTTP Digest authentication for SIP (RFC 7616, RFC 2617, RFC 3261 section 22): parsing
/// WWW-Authenticate / Proxy-Authenticate challenges, computing the client's Authorization /
/// Proxy-Authorization value, and the server side (issuing a challenge, stateless nonces,
/// verifying a response). Algorithms MD5, MD5-sess, SHA-256, SHA-256-sess; qop auth and
/// auth-int, and the RFC 2069 form without qop.
///
/// Randomness (cnonce) and time (nonce age) are passed in. Pure functions; no state.

#include "domain/sip/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip {

enum class digest_algorithm { md5, md5_sess, sha256, sha256_sess };
const char* to_string(digest_algorithm a) noexcept;
std::optional<digest_algorithm> parse_digest_algorithm(std::string_view s) noexcept;

/// `scheme name=value, name="quoted value", ...`; values are unquoted.
struct auth_header {
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> params;
  /// Case-insensitive lookup; nullopt when absent.
  std::optional<std::string> get(std::string_view name) const;
};
result<auth_header> parse_auth_header(std::string_view value);

struct digest_challenge {
  std::string realm;
  std::string nonce;
  std::string opaque;
  digest_algorithm algorithm = digest_algorithm::md5;
  bool qop_auth = false;     ///< qop list offers "auth"
  bool qop_auth_int = false; ///< qop list offers "auth-int"
  bool stale = false;
  bool userhash = false;
};
/// Parses a WWW-Authenticate / Proxy-Authenticate value. Errors: not Digest, missing realm or
/// nonce (bad_auth), an algorithm or qop we do not implement (unsupported).
result<digest_challenge> parse_challenge(std::string_view header_value);
/// The challenge as a header value: `Digest realm="..", nonce="..", opaque="..",
/// algorithm=SHA-256, qop="auth"` (+ stale=true).
std::string to_string(const digest_challenge& c);

/// Of several challenges (a 401 may carry one per algorithm), the strongest we support:
/// SHA-256 before MD5; nullopt when none is usable.
std::optional<digest_challenge> select_challenge(const std::vector<std::string>& header_values);

struct digest_credentials {
  std::string username;
  std::string password;
};

/// What the client is authorising.
struct digest_request {
  std::string_view method;
  std::string_view uri;    ///< the Request-URI as written in the request
  std::string_view body;   ///< for qop=auth-int
  std::string_view cnonce; ///< fresh random text from the caller
  std::uint32_t nc = 1;    ///< how many times this nonce has been used, from 1
};

/// The Authorization / Proxy-Authorization header value answering `c`.
std::string make_authorization(const digest_challenge& c, const digest_credentials& who,
                               const digest_request& req);

/// A parsed Authorization header (server side).
struct digest_authorization {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string cnonce;
  std::string nc;
  std::string qop;
  std::string opaque;
  digest_algorithm algorithm = digest_algorithm::md5;
  bool userhash = false;
};
result<digest_authorization> parse_authorization(std::string_view header_value);

/// True when `a` is a correct response for `password` to a challenge in `realm`, made for
/// `method` (and `body` under auth-int). Constant-time comparison of the response.
bool verify_authorization(const digest_authorization& a, std::string_view username,
                          std::string_view password, std::string_view realm,
                          std::string_view method, std::string_view body = {});

/// Stateless server nonces: hex(issue time, HMAC-SHA-256(secret, time)).
std::string make_nonce(std::string_view secret, std::int64_t now_s);
enum class nonce_check { valid, stale, invalid };
nonce_check check_nonce(std::string_view secret, std::string_view nonce, std::int64_t now_s,
                        std::int64_t max_age_s);

/// Lower-case hex digest of `data` with the algorithm's hash (MD5 or SHA-256).
std::string digest_hash(digest_algorithm a, std::string_view data);

} // namespace gobi::sip
