#pragma once

/// Waiting in transport tests: for a condition, with a deadline (never a fixed sleep).

#include <chrono>
#include <functional>
#include <thread>

namespace gobi::test {

/// How long a test waits for something that should happen at once.
constexpr auto deadline = std::chrono::seconds(5);

/// Polls `pred` until it holds or `within` passes; true if it held.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds within = deadline) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

} // namespace gobi::test
