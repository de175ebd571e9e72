#pragma once

/// Credentials: argon2id password hashes (libsodium) and HS256 JSON Web Tokens.
/// Time is passed in (seconds since the epoch); nothing here reads a clock.

#include "domain/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace gobi::auth {

/// Hashes a password with argon2id (libsodium's interactive limits). Slow on purpose
/// (tens of ms, 64 MiB): call it off the event loops.
result<std::string> hash_password(std::string_view password);
/// Verifies a password against a stored argon2id hash.
bool verify_password(std::string_view hash, std::string_view password);

/// What a token says.
struct claims {
  std::string user;   ///< "sub"
  std::string tenant; ///< "tid"
  std::string email;  ///< "email"
  std::int64_t issued_at = 0;  ///< "iat", seconds
  std::int64_t expires_at = 0; ///< "exp", seconds
};

/// Signs claims as a compact HS256 JWT.
std::string sign_jwt(const claims& c, std::string_view secret);

/// Checks signature (constant time), algorithm (HS256 only: "none" and others refused),
/// structure and expiry against `now_s`. errc::unauthenticated with the reason otherwise.
result<claims> verify_jwt(std::string_view token, std::string_view secret, std::int64_t now_s);

/// A fresh random secret (32 bytes, hex) for when JWT_SECRET is not set.
std::string random_secret();

} // namespace gobi::auth
