#pragma once

/// Slows down password guessing: after `free_attempts` failures for one key (an account
/// e-mail or a client address) within `window_s`, further attempts are refused for a delay
/// that doubles with each failure, up to `max_delay_s`. A success clears the key.
/// Time comes in as an argument; bounded memory (oldest keys evicted past `max_keys`).
///
/// With the defaults: failures 1-4 cost nothing; the 5th blocks the key for 1 s, the 6th for
/// 2 s, the 7th for 4 s, ... at most 900 s. A key's count restarts once `window_s` has passed
/// since its first failure and it is no longer blocked.
///
/// Not thread-safe: owned by one actor (the HTTP/auth actor), like any domain state.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gobi {

class login_throttle {
public:
  struct options {
    int free_attempts = 5;
    std::int64_t window_s = 900;
    std::int64_t base_delay_s = 1;
    std::int64_t max_delay_s = 900;
    std::size_t max_keys = 100000;
  };

  login_throttle() = default;
  explicit login_throttle(options o) : opts_(o) {}

  /// 0 when an attempt may go ahead now; otherwise the seconds to wait (Retry-After).
  std::int64_t retry_after(std::string_view key, std::int64_t now_s) const;
  void record_failure(std::string_view key, std::int64_t now_s);
  void record_success(std::string_view key);
  std::size_t size() const noexcept { return keys_.size(); }

private:
  struct entry {
    int failures = 0;
    std::int64_t first_failure_s = 0;
    std::int64_t last_failure_s = 0;
    std::int64_t blocked_until_s = 0;
  };
  /// True once the entry no longer affects anything at `now_s`.
  bool expired(const entry& e, std::int64_t now_s) const noexcept;
  /// Makes room for one more key: drops expired entries, then the least recently failed.
  void evict(std::int64_t now_s);
  options opts_;
  std::unordered_map<std::string, entry> keys_;
};

} // namespace gobi
