#include "domain/throttle.hpp"

#include <algorithm>
#include <vector>

namespace gobi {

bool login_throttle::expired(const entry& e, std::int64_t now_s) const noexcept {
  return now_s - e.first_failure_s >= opts_.window_s && now_s >= e.blocked_until_s;
}

std::int64_t login_throttle::retry_after(std::string_view key, std::int64_t now_s) const {
  const auto it = keys_.find(std::string{key});
  if (it == keys_.end() || it->second.blocked_until_s <= now_s)
    return 0;
  return it->second.blocked_until_s - now_s;
}

void login_throttle::record_failure(std::string_view key, std::int64_t now_s) {
  auto it = keys_.find(std::string{key});
  if (it == keys_.end()) {
    if (opts_.max_keys == 0)
      return;
    if (keys_.size() >= opts_.max_keys)
      evict(now_s);
    it = keys_.emplace(std::string{key}, entry{}).first;
  }
  entry& e = it->second;
  if (e.failures == 0 || expired(e, now_s)) {
    e = entry{};
    e.first_failure_s = now_s;
  }
  ++e.failures;
  e.last_failure_s = now_s;
  if (e.failures >= opts_.free_attempts) {
    // base * 2^(failures - free_attempts), capped; the shift is bounded to stay defined.
    const int doublings = std::min(e.failures - opts_.free_attempts, 62);
    std::int64_t delay = opts_.max_delay_s;
    if (opts_.base_delay_s > 0 && doublings < 62
        && opts_.base_delay_s <= (opts_.max_delay_s >> doublings))
      delay = opts_.base_delay_s << doublings;
    e.blocked_until_s = std::max(e.blocked_until_s, now_s + delay);
  }
}

void login_throttle::record_success(std::string_view key) {
  keys_.erase(std::string{key});
}

void login_throttle::evict(std::int64_t now_s) {
  std::erase_if(keys_, [&](const auto& kv) { return expired(kv.second, now_s); });
  if (keys_.size() < opts_.max_keys)
    return;
  // Still full: drop the least recently failed eighth at once, so that a flood of new keys
  // costs O(1) per key amortised rather than a full scan each.
  std::vector<std::pair<std::int64_t, const std::string*>> by_age;
  by_age.reserve(keys_.size());
  for (const auto& [k, e] : keys_)
    by_age.emplace_back(e.last_failure_s, &k);
  const std::size_t drop = std::max<std::size_t>(1, keys_.size() / 8);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   by_age.end());
  std::vector<std::string> victims;
  victims.reserve(drop);
  for (std::size_t i = 0; i < drop; ++i)
    victims.push_back(*by_age[i].second);
  for (const auto& k : victims)
    keys_.erase(k);
}

} // namespace gobi
