#pragma once

/// Time on the media path. Every stage that needs time takes it as an argument: the transport
/// passes its monotonic media clock, tests pass a manual clock. Nothing here reads a clock.

#include <chrono>
#include <cstdint>

namespace gobi::media {

/// Microseconds since an epoch chosen by the clock's owner (only differences matter).
using media_time = std::chrono::microseconds;

/// RTP clock units (`rate_hz` per second) in `d`, truncated.
constexpr std::int64_t to_rtp_units(std::chrono::microseconds d, std::uint32_t rate_hz) noexcept {
  return d.count() * static_cast<std::int64_t>(rate_hz) / 1'000'000;
}

/// Microseconds in `units` of an RTP clock of `rate_hz`, truncated.
constexpr std::chrono::microseconds from_rtp_units(std::int64_t units,
                                                   std::uint32_t rate_hz) noexcept {
  return std::chrono::microseconds{units * 1'000'000 / static_cast<std::int64_t>(rate_hz)};
}

} // namespace gobi::media
