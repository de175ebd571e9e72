#include "transport/rtp/port_allocator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace gobi::rtp {

// --- port_range ----------------------------------------------------------------------------

result<port_range> port_range::parse(std::string_view text) {
  const auto bad = [&](const char* why) {
    return make_error(errc::invalid_argument,
                      "bad RTP port range '" + std::string(text) + "': " + why + " (want A-B)");
  };
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return bad("no '-'");
  unsigned a = 0, b = 0;
  const auto lo = text.substr(0, dash), hi = text.substr(dash + 1);
  const auto ra = std::from_chars(lo.data(), lo.data() + lo.size(), a);
  const auto rb = std::from_chars(hi.data(), hi.data() + hi.size(), b);
  if (lo.empty() || hi.empty() || ra.ec != std::errc{} || ra.ptr != lo.data() + lo.size() ||
      rb.ec != std::errc{} || rb.ptr != hi.data() + hi.size())
    return bad("not two numbers");
  if (a < 1 || b > 65535 || a > b) return bad("ports must satisfy 1 <= A <= B <= 65535");
  port_range r{static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)};
  if (r.pairs() == 0) return bad("no even port with its odd neighbour inside");
  return r;
}

std::size_t port_range::pairs() const noexcept {
  const unsigned even = (first + 1u) & ~1u;
  return even + 1u <= last ? (last - even - 1u) / 2u + 1u : 0u;
}

// --- the shared pool -----------------------------------------------------------------------

struct port_lease::state {
  std::string host;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  bool ipv6 = false;
  port_range range;
  std::uint16_t first_even = 0;
  unsigned max_attempts = 0;

  std::mutex mutex;
  std::vector<std::uint16_t> ring; ///< free pair indices, FIFO: [head, head + free)
  std::size_t head = 0;
  std::size_t free = 0;

  std::uint16_t port_of(std::size_t pair) const noexcept {
    return static_cast<std::uint16_t>(first_even + 2 * pair);
  }
  bool pop(std::uint16_t& pair) {
    std::lock_guard lock(mutex);
    if (free == 0) return false;
    pair = ring[head];
    head = (head + 1) % ring.size();
    --free;
    return true;
  }
  void push(std::uint16_t pair) {
    std::lock_guard lock(mutex);
    ring[(head + free) % ring.size()] = pair;
    ++free;
  }

  /// A bound, non-blocking UDP socket on `port`, or -1 with errno set.
  int bind_one(std::uint16_t port) const noexcept {
    const int fd =
        ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_storage a = addr;
    if (ipv6)
      reinterpret_cast<sockaddr_in6*>(&a)->sin6_port = htons(port);
    else
      reinterpret_cast<sockaddr_in*>(&a)->sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), addr_len) != 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return -1;
    }
    return fd;
  }
};

// --- port_lease ----------------------------------------------------------------------------

port_lease::port_lease(port_lease&& o) noexcept
    : state_(std::move(o.state_))
    , rtp_port_(o.rtp_port_)
    , ipv6_(o.ipv6_)
    , rtp_fd_(std::exchange(o.rtp_fd_, -1))
    , rtcp_fd_(std::exchange(o.rtcp_fd_, -1)) {}

port_lease& port_lease::operator=(port_lease&& o) noexcept {
  if (this != &o) {
    release();
    state_ = std::move(o.state_);
    rtp_port_ = o.rtp_port_;
    ipv6_ = o.ipv6_;
    rtp_fd_ = std::exchange(o.rtp_fd_, -1);
    rtcp_fd_ = std::exchange(o.rtcp_fd_, -1);
  }
  return *this;
}

port_lease::~port_lease() {
  release();
}

int port_lease::take_rtp_fd() noexcept {
  return std::exchange(rtp_fd_, -1);
}
int port_lease::take_rtcp_fd() noexcept {
  return std::exchange(rtcp_fd_, -1);
}

void port_lease::release() noexcept {
  if (rtp_fd_ >= 0) ::close(std::exchange(rtp_fd_, -1));
  if (rtcp_fd_ >= 0) ::close(std::exchange(rtcp_fd_, -1));
  if (auto s = std::move(state_))
    s->push(static_cast<std::uint16_t>((rtp_port_ - s->first_even) / 2));
}

// --- port_allocator ------------------------------------------------------------------------

result<port_allocator> port_allocator::create(std::string host, port_range range,
                                              unsigned max_attempts) {
  auto s = std::make_shared<port_lease::state>();
  if (range.pairs() == 0)
    return make_error(errc::invalid_argument, "RTP port range holds no even/odd pair");
  auto* v4 = reinterpret_cast<sockaddr_in*>(&s->addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&s->addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    s->addr_len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    s->addr_len = sizeof(sockaddr_in6);
    s->ipv6 = true;
  } else {
    return make_error(errc::invalid_argument,
                      "RTP host '" + host + "' is not an IPv4 or IPv6 address");
  }
  s->host = std::move(host);
  s->range = range;
  s->first_even = static_cast<std::uint16_t>((range.first + 1u) & ~1u);
  s->max_attempts = max_attempts == 0 ? 1 : max_attempts;
  s->ring.resize(range.pairs());
  for (std::size_t i = 0; i < s->ring.size(); ++i)
    s->ring[i] = static_cast<std::uint16_t>(i);
  s->free = s->ring.size();
  return port_allocator(std::move(s));
}

result<port_lease> port_allocator::allocate() {
  auto& s = *state_;
  const std::size_t attempts = std::min<std::size_t>(s.max_attempts, s.ring.size());
  int last_errno = 0;
  std::uint16_t last_port = 0;
  for (std::size_t i = 0; i < attempts; ++i) {
    std::uint16_t pair = 0;
    if (!s.pop(pair))
      return make_error(errc::unavailable,
                        "all " + std::to_string(s.ring.size()) + " RTP port pairs are in use");
    const auto port = s.port_of(pair);
    const int rtp = s.bind_one(port);
    const int rtcp = rtp >= 0 ? s.bind_one(static_cast<std::uint16_t>(port + 1)) : -1;
    if (rtp >= 0 && rtcp >= 0) {
      port_lease lease;
      lease.state_ = state_;
      lease.rtp_port_ = port;
      lease.ipv6_ = s.ipv6;
      lease.rtp_fd_ = rtp;
      lease.rtcp_fd_ = rtcp;
      return lease;
    }
    last_errno = errno;
    last_port = rtp >= 0 ? static_cast<std::uint16_t>(port + 1) : port;
    if (rtp >= 0) ::close(rtp);
    s.push(pair); // someone else holds it: try it again later, after all the others
  }
  return make_error(errc::unavailable, "no bindable RTP port pair on " + s.host + " after " +
                                           std::to_string(attempts) + " tries (port " +
                                           std::to_string(last_port) + ": " +
                                           std::strerror(last_errno) + ")");
}

const std::string& port_allocator::host() const noexcept {
  return state_->host;
}
port_range port_allocator::range() const noexcept {
  return state_->range;
}
std::size_t port_allocator::capacity() const noexcept {
  return state_->ring.size();
}
std::size_t port_allocator::leased() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->ring.size() - state_->free;
}

} // namespace gobi::rtp
