#include "storage/store.hpp"

#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"

#include <sodium.h>

#include <array>

namespace gobi::storage {

result<std::unique_ptr<store>> open_store(std::string_view url) {
  constexpr std::string_view sqlite_scheme = "sqlite:";
  if (url.starts_with(sqlite_scheme)) {
    auto path = url.substr(sqlite_scheme.size());
    if (path.starts_with("//")) // sqlite:///var/lib/gobi.db
      path.remove_prefix(2);
    return open_sqlite_store(std::string{path});
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return open_pg_store(std::string{url});
  return error{errc::invalid_argument,
               "unknown store URL (want sqlite:<path> or postgresql://...): " +
                   std::string{url.substr(0, url.find(':'))} + ":..."};
}

std::string new_id(std::string_view prefix) {
  // sodium_init is idempotent and thread-safe; a function-local static runs it once.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  // 20 random bytes, 5 bits of each: 32 divides 256, so every character is uniform.
  std::array<unsigned char, 20> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  std::string id;
  id.reserve(prefix.size() + 1 + bytes.size());
  id.append(prefix);
  id.push_back('_');
  for (auto b : bytes)
    id.push_back(alphabet[b & 31u]);
  return id;
}

} // namespace gobi::storage
