#pragma once

/// Test helpers for transport/sip: plain POSIX UDP and TCP peers on loopback (a phone, a
/// carrier, an attacker), a recording transport_handler, SIP request text, and waiting for a
/// condition with a deadline (never a fixed sleep).

#include "transport/sip/transport.hpp"

#include "../wait.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gobi::sip::test {

using gobi::test::deadline;

using gobi::test::eventually;

inline std::string current_thread_name() {
  char name[32] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline std::uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

/// A plain UDP socket on 127.0.0.1.
class udp_peer {
public:
  udp_peer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = loopback(0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("udp_peer: bind failed");
    port_ = local_port(fd_);
  }
  ~udp_peer() { ::close(fd_); }
  udp_peer(const udp_peer&) = delete;
  udp_peer& operator=(const udp_peer&) = delete;

  std::uint16_t port() const { return port_; }

  void send_to(std::uint16_t port, const std::string& b) const {
    auto a = loopback(port);
    ::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }

  /// The next datagram, or nothing within `within`.
  std::optional<std::string> receive(std::chrono::milliseconds within = deadline) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return std::nullopt;
    std::string d(65536, '\0');
    const auto n = ::recv(fd_, d.data(), d.size(), 0);
    if (n < 0) return std::nullopt;
    d.resize(static_cast<std::size_t>(n));
    return d;
  }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// One TCP connection, connected to 127.0.0.1:port or accepted by a tcp_listener.
class tcp_peer {
public:
  explicit tcp_peer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = loopback(port);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("tcp_peer: connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  struct adopt_t {};
  tcp_peer(adopt_t, int fd)
      : fd_(fd) {}
  ~tcp_peer() {
    if (fd_ >= 0) ::close(fd_);
  }
  tcp_peer(const tcp_peer&) = delete;
  tcp_peer& operator=(const tcp_peer&) = delete;

  std::uint16_t port() const { return local_port(fd_); }

  void write(std::string_view b) const {
    while (!b.empty()) {
      const auto n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("tcp_peer: write failed");
      b.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// Reads until `buffer()` holds at least `n` bytes; false on EOF, error or deadline.
  bool read_at_least(std::size_t n, std::chrono::milliseconds within = deadline) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (buf_.size() < n)
      if (read_some(end) != read::data) return false;
    return true;
  }

  /// Reads until `buffer()` contains `s`; false on EOF, error or deadline.
  bool read_until(std::string_view s, std::chrono::milliseconds within = deadline) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (buf_.find(s) == std::string::npos)
      if (read_some(end) != read::data) return false;
    return true;
  }

  /// True when the other side closed (EOF or reset) before the deadline; bytes read on the way
  /// are kept in buffer().
  bool closed_by_peer(std::chrono::milliseconds within = deadline) {
    const auto end = std::chrono::steady_clock::now() + within;
    for (;;) {
      switch (read_some(end)) {
      case read::data: continue;
      case read::closed: return true;
      case read::timeout: return false;
      }
    }
  }

  std::string& buffer() { return buf_; }

private:
  enum class read { data, closed, timeout };
  /// Waits until `end` for bytes and appends what one recv gives: data, closed (EOF or
  /// reset), or timeout (the deadline passed or poll failed).
  read read_some(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return read::timeout;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return read::timeout;
    char chunk[4096];
    const auto got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) return read::closed;
    buf_.append(chunk, static_cast<std::size_t>(got));
    return read::data;
  }

  int fd_ = -1;
  std::string buf_;
};

/// A listening TCP socket on 127.0.0.1 (a carrier's SIP port).
class tcp_listener {
public:
  tcp_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = loopback(0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 16) != 0)
      throw std::runtime_error("tcp_listener: listen failed");
    port_ = local_port(fd_);
  }
  ~tcp_listener() { ::close(fd_); }
  tcp_listener(const tcp_listener&) = delete;
  tcp_listener& operator=(const tcp_listener&) = delete;

  std::uint16_t port() const { return port_; }

  /// The next connection, or nullptr within `within`.
  std::unique_ptr<tcp_peer> accept(std::chrono::milliseconds within = deadline) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return nullptr;
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return nullptr;
    return std::make_unique<tcp_peer>(tcp_peer::adopt_t{}, fd);
  }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A loopback port nobody listens on (bound for a moment, then released): connects to it
/// are refused.
inline std::uint16_t unused_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  const auto port = local_port(fd);
  ::close(fd);
  return port;
}

/// Records what the transport hands over. Thread-safe to inspect.
class recording_handler : public transport_handler {
public:
  struct arrival {
    message msg;
    peer from;
    std::string thread;
  };
  struct send_error {
    peer to;
    std::string what;
    std::string thread;
  };

  void on_message(message msg, peer from) override {
    std::lock_guard lk(mu_);
    arrivals_.push_back({std::move(msg), std::move(from), current_thread_name()});
  }
  void on_send_error(peer to, std::string what) override {
    std::lock_guard lk(mu_);
    errors_.push_back({std::move(to), std::move(what), current_thread_name()});
  }

  std::size_t count() const {
    std::lock_guard lk(mu_);
    return arrivals_.size();
  }
  std::size_t error_count() const {
    std::lock_guard lk(mu_);
    return errors_.size();
  }
  /// Waits for at least `n` messages.
  bool wait_for(std::size_t n) const {
    return eventually([&] { return count() >= n; });
  }
  arrival at(std::size_t i) const {
    std::lock_guard lk(mu_);
    return arrivals_.at(i);
  }
  send_error error_at(std::size_t i) const {
    std::lock_guard lk(mu_);
    return errors_.at(i);
  }

private:
  mutable std::mutex mu_;
  std::vector<arrival> arrivals_;
  std::vector<send_error> errors_;
};

/// An OPTIONS request as a UA would send it; `via` is the top Via after "SIP/2.0/"
/// ("UDP 192.0.2.1:5070;branch=z9hG4bK1;rport").
inline std::string options_request(std::string_view call_id, std::string_view via,
                                   std::string_view extra_headers = {},
                                   std::string_view body = {}) {
  std::string m = "OPTIONS sip:gobi@127.0.0.1 SIP/2.0\r\n";
  m += "Via: SIP/2.0/";
  m += via;
  m += "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n";
  m += "To: <sip:gobi@example.com>\r\nCall-ID: ";
  m += call_id;
  m += "\r\nCSeq: 1 OPTIONS\r\n";
  m += extra_headers;
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  m += body;
  return m;
}

/// A 200 OK as a carrier would send it (its Via names another host and asks for rport, so a
/// stamp would show).
inline std::string ok_response(std::string_view call_id) {
  std::string m = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKgobi1;rport\r\n";
  m += "From: <sip:gobi@example.com>;tag=g1\r\nTo: <sip:bob@example.com>;tag=b1\r\nCall-ID: ";
  m += call_id;
  m += "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  return m;
}

/// The status code of a response's wire form ("SIP/2.0 400 ..." -> 400); 0 if not one.
inline int status_of(std::string_view wire) {
  if (!wire.starts_with("SIP/2.0 ") || wire.size() < 11) return 0;
  return std::stoi(std::string{wire.substr(8, 3)});
}

/// A transport on 127.0.0.1 with a free port (the same for UDP and TCP).
inline transport_options loopback_options() {
  transport_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  return o;
}

/// A started transport on loopback (REQUIREs that it started).
inline std::unique_ptr<transport> started(std::shared_ptr<transport_handler> h,
                                          transport_options o = loopback_options()) {
  auto t = std::make_unique<transport>(std::move(o), std::move(h));
  REQUIRE(t->start().ok());
  return t;
}

} // namespace gobi::sip::test
