#include "transport/rtp/port_allocator.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

using namespace gobi;
using namespace gobi::rtp;

namespace {

// Test ranges stay clear of gobid's default 20000-29999: other suites may run meanwhile.
std::uint16_t bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

/// Binds a UDP socket on 127.0.0.1:port, as another process holding the port would.
int occupy(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

port_allocator make(std::uint16_t first, std::uint16_t last, std::string host = "127.0.0.1") {
  auto a = port_allocator::create(std::move(host), port_range{first, last});
  REQUIRE(a.ok());
  return std::move(a).value();
}

} // namespace

TEST_CASE("rtp port_range: parses A-B and counts even/odd pairs") {
  auto r = port_range::parse("20000-29999");
  REQUIRE(r.ok());
  CHECK(*r == port_range{20000, 29999});
  CHECK(r->pairs() == 5000);
  CHECK(port_range{20001, 20004}.pairs() == 1); // 20002/20003 only
  CHECK(port_range{20001, 20005}.pairs() == 2);
  CHECK(port_range{1, 65535}.pairs() == 32767);
  for (const char* bad : {"", "20000", "20000-", "-2", "a-b", "0-10", "5-3", "20000-70000",
                          "20001-20002", "20000-20000", "1 -3", "1-3x"}) {
    CAPTURE(bad);
    CHECK_FALSE(port_range::parse(bad).ok());
  }
}

TEST_CASE("rtp port_allocator: even RTP port, RTCP next to it, both bound") {
  auto alloc = make(41000, 41009);
  CHECK(alloc.capacity() == 5);
  auto lease = alloc.allocate();
  REQUIRE(lease.ok());
  CHECK(lease->rtp_port() % 2 == 0);
  CHECK(lease->rtcp_port() == lease->rtp_port() + 1);
  CHECK(lease->rtp_port() >= 41000);
  CHECK(alloc.leased() == 1);
  const int rtp = lease->take_rtp_fd();
  const int rtcp = lease->take_rtcp_fd();
  CHECK(lease->take_rtp_fd() == -1);
  CHECK(bound_port(rtp) == lease->rtp_port());
  CHECK(bound_port(rtcp) == lease->rtcp_port());
  ::close(rtp);
  ::close(rtcp);
  { auto gone = std::move(lease).value(); }
  CHECK(alloc.leased() == 0);

  CHECK_FALSE(port_allocator::create("localhost", port_range{41000, 41009}).ok());
  CHECK_FALSE(port_allocator::create("127.0.0.1", port_range{41001, 41001}).ok());
}

TEST_CASE("rtp port_allocator: skips ports another socket holds, bounded, returns on release") {
  auto alloc = make(41020, 41025); // pairs 41020, 41022, 41024
  // Someone else holds 41023 (the RTCP port of the second pair).
  const int squatter = occupy(41023);
  std::vector<port_lease> leases;
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 2; ++i) {
    auto l = alloc.allocate();
    REQUIRE(l.ok());
    ports.insert(l->rtp_port());
    leases.push_back(std::move(l).value());
  }
  CHECK(ports == std::set<std::uint16_t>{41020, 41024});
  auto none = alloc.allocate(); // only the squatted pair is left
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().code == errc::unavailable);
  ::close(squatter);
  auto third = alloc.allocate();
  REQUIRE(third.ok());
  CHECK(third->rtp_port() == 41022);
  auto exhausted = alloc.allocate();
  REQUIRE_FALSE(exhausted.ok());
  CHECK(exhausted.err().code == errc::unavailable);
  CHECK(alloc.leased() == 3);

  // Released pairs come back least recently released first.
  leases.erase(leases.begin());             // 41020
  { auto drop = std::move(third).value(); } // 41022
  auto again = alloc.allocate();
  REQUIRE(again.ok());
  CHECK(again->rtp_port() == 41020);
  auto again2 = alloc.allocate();
  REQUIRE(again2.ok());
  CHECK(again2->rtp_port() == 41022);

  // A lease whose sockets were never taken closes them: the ports are bindable again.
  auto moved = std::move(again).value();
  const auto p = moved.rtp_port();
  moved = port_lease{};
  ::close(occupy(p));
}

TEST_CASE("rtp port_allocator: threads never share a pair") {
  auto alloc = make(41100, 41199); // 50 pairs
  std::array<std::atomic<int>, 65536> holders{};
  std::atomic<int> clashes{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto l = alloc.allocate();
        if (!l.ok()) {
          ++failures;
          continue;
        }
        if (holders[l->rtp_port()].fetch_add(1) != 0) ++clashes;
        holders[l->rtp_port()].fetch_sub(1);
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(clashes == 0);
  CHECK(failures == 0);
  CHECK(alloc.leased() == 0);
}

TEST_CASE("rtp port_allocator: IPv6 loopback") {
  auto a = port_allocator::create("::1", port_range{41200, 41203});
  REQUIRE(a.ok());
  auto l = a->allocate();
  if (!l.ok()) {
    MESSAGE("no IPv6 loopback here: " << l.err().message);
    return;
  }
  CHECK(l->ipv6());
  const int fd = l->take_rtp_fd();
  CHECK(bound_port(fd) == l->rtp_port());
  ::close(fd);
}
