#pragma once

/// RTP port pairs from a configured range (`--rtp-ports 20000-29999`): an even port for RTP and
/// the next one for RTCP (RFC 3550 section 11), both bound as UDP sockets on the media host.

#include "domain/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gobi::rtp {

/// An inclusive port range. Only the even ports with their odd neighbour inside form pairs.
struct port_range {
  std::uint16_t first = 0;
  std::uint16_t last = 0;

  /// Parses "A-B" (1 <= A <= B <= 65535, at least one even/odd pair inside).
  static result<port_range> parse(std::string_view text);
  /// How many RTP/RTCP pairs the range holds.
  std::size_t pairs() const noexcept;

  friend bool operator==(const port_range&, const port_range&) = default;
};

class port_allocator;

/// One allocated pair: two bound, non-blocking, close-on-exec UDP sockets. Move-only. Hands its
/// sockets over with take_*_fd() (the taker closes them); whatever it still holds is closed on
/// destruction, and then the pair goes back to the allocator. Keep the lease until the sockets
/// are closed, so nobody else is handed the ports while they are still bound here.
class port_lease {
public:
  port_lease() = default;
  port_lease(port_lease&& other) noexcept;
  port_lease& operator=(port_lease&& other) noexcept;
  port_lease(const port_lease&) = delete;
  port_lease& operator=(const port_lease&) = delete;
  ~port_lease();

  std::uint16_t rtp_port() const noexcept { return rtp_port_; }
  std::uint16_t rtcp_port() const noexcept { return static_cast<std::uint16_t>(rtp_port_ + 1); }
  bool ipv6() const noexcept { return ipv6_; }
  explicit operator bool() const noexcept { return state_ != nullptr; }

  /// The sockets' file descriptors; ownership passes to the caller (-1 once taken).
  int take_rtp_fd() noexcept;
  int take_rtcp_fd() noexcept;

private:
  friend class port_allocator;
  struct state;
  void release() noexcept;

  std::shared_ptr<state> state_; ///< the allocator's pool; keeps it alive while leased
  std::uint16_t rtp_port_ = 0;
  bool ipv6_ = false;
  int rtp_fd_ = -1;
  int rtcp_fd_ = -1;
};

/// Hands out port pairs round-robin from the range, least recently released first (a stray
/// late packet of a finished call rarely reaches the next one), skipping ports another process
/// holds. Thread-safe: allocate() and releases may come from any thread; binding happens
/// outside the lock. Bounded: at most range.pairs() leases, and one allocate() tries at most
/// `max_attempts` pairs before giving up.
class port_allocator {
public:
  /// `host` is the IPv4 or IPv6 address to bind (a literal, no DNS). errc::invalid_argument
  /// for a bad address or a range with no pair.
  static result<port_allocator> create(std::string host, port_range range,
                                       unsigned max_attempts = 64);

  /// A bound pair, or errc::unavailable when every pair is leased or none of the pairs tried
  /// could be bound (the message says which).
  result<port_lease> allocate();

  const std::string& host() const noexcept;
  port_range range() const noexcept;
  std::size_t capacity() const noexcept; ///< pairs in the range
  std::size_t leased() const noexcept;   ///< pairs currently held by leases

private:
  explicit port_allocator(std::shared_ptr<port_lease::state> s)
      : state_(std::move(s)) {}
  std::shared_ptr<port_lease::state> state_;
};

} // namespace gobi::rtp
