#pragma once

/// Test helpers for transport/rtp: an engine on its own ports, a plain UDP peer on loopback, a
/// recording media sink, RTP packet bytes, and waiting for a condition with a deadline (never a
/// fixed sleep).

#include "transport/rtp/engine.hpp"
#include "transport/rtp/media_port.hpp"

#include "../wait.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gobi::rtp::test {

using bytes = std::vector<std::byte>;

using gobi::test::deadline;

/// An engine on its own slice of 100 ports from `first` (clear of gobid's default range and of
/// other tests), on 127.0.0.1.
inline std::unique_ptr<engine> make_engine(std::uint16_t first, unsigned threads = 2) {
  engine_options o;
  o.host = "127.0.0.1";
  o.ports = port_range{first, static_cast<std::uint16_t>(first + 99)};
  o.threads = threads;
  auto e = std::make_unique<engine>(o);
  REQUIRE(e->start().ok());
  return e;
}

using gobi::test::eventually;

/// An RTP packet: V=2, payload type `pt`, the given seq and SSRC, `payload` bytes of `fill`.
inline bytes rtp_bytes(std::uint16_t seq, std::uint32_t ssrc, std::size_t payload = 160,
                       std::uint8_t pt = 0, std::byte fill = std::byte{0xff}) {
  bytes p(12 + payload, fill);
  p[0] = std::byte{0x80};
  p[1] = static_cast<std::byte>(pt & 0x7f);
  p[2] = static_cast<std::byte>(seq >> 8);
  p[3] = static_cast<std::byte>(seq);
  const std::uint32_t ts = seq * 160u;
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<std::byte>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
  }
  return p;
}

/// An RTCP receiver report without report blocks.
inline bytes rtcp_bytes(std::uint32_t ssrc) {
  bytes p(8);
  p[0] = std::byte{0x80};
  p[1] = std::byte{201};
  p[3] = std::byte{1};
  for (int i = 0; i < 4; ++i)
    p[4 + i] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
  return p;
}

inline std::uint16_t seq_of(const bytes& p) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[2]) << 8 |
                                    std::to_integer<unsigned>(p[3]));
}

/// A plain UDP socket on 127.0.0.1 (a remote phone, an SBC, an attacker).
class udp_peer {
public:
  udp_peer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("udp_peer: bind failed");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~udp_peer() { ::close(fd_); }
  udp_peer(const udp_peer&) = delete;
  udp_peer& operator=(const udp_peer&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }

  void send_to(std::uint16_t port, const bytes& b) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }

  struct datagram {
    bytes data;
    std::uint16_t from_port = 0;
  };
  /// The next datagram, or nothing within `within`.
  std::optional<datagram> receive(std::chrono::milliseconds within = deadline) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return std::nullopt;
    datagram d;
    d.data.resize(65536);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const auto n =
        ::recvfrom(fd_, d.data.data(), d.data.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    d.data.resize(static_cast<std::size_t>(n));
    d.from_port = ntohs(from.sin_port);
    return d;
  }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

inline std::string current_thread_name() {
  char name[32] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

/// A media_sink that records what it gets. Packets whose first payload byte is 0xBA are
/// `rejected` (stand-in for a failed SRTP check). Thread-safe to inspect.
class recording_sink : public media_sink {
public:
  struct packet {
    bool rtcp = false;
    bytes data;
    std::string thread;
  };

  verdict on_rtp(std::span<std::byte> p, time_point) override { return record(false, p); }
  verdict on_rtcp(std::span<std::byte> p, time_point) override { return record(true, p); }
  void on_media_timeout(duration) override {
    {
      std::lock_guard lock(mutex_);
      ++timeouts_;
    }
    if (on_timeout) on_timeout();
  }

  std::vector<packet> packets() const {
    std::lock_guard lock(mutex_);
    return packets_;
  }
  std::size_t count(bool rtcp) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& p : packets_)
      n += p.rtcp == rtcp;
    return n;
  }
  int timeouts() const {
    std::lock_guard lock(mutex_);
    return timeouts_;
  }

  std::function<void()> on_packet;  ///< called on the port's thread after recording
  std::function<void()> on_timeout; ///< called on the port's thread

private:
  verdict record(bool rtcp, std::span<std::byte> p) {
    const bool bad = !rtcp && p.size() > 12 && p[12] == std::byte{0xba};
    {
      std::lock_guard lock(mutex_);
      packets_.push_back({rtcp, bytes(p.begin(), p.end()), current_thread_name()});
    }
    if (on_packet) on_packet();
    return bad ? verdict::rejected : verdict::accepted;
  }

  mutable std::mutex mutex_;
  std::vector<packet> packets_;
  int timeouts_ = 0;
};

} // namespace gobi::rtp::test
