#include "transport/rtp/engine.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <iterator>
#include <numeric>
#include <thread>

using namespace gobi;
using namespace gobi::rtp;
using namespace gobi::rtp::test;
using namespace std::chrono_literals;

namespace {

/// A call's outbound stream as the clock sees it: one 172-byte G.711 packet per tick, sent
/// from a buffer allocated once. (Packetizing is the media layer's job; this only fills the
/// header fields the receiver reads.)
struct g711_stream : clocked_stream {
  g711_stream(std::uint32_t ssrc, media_port& port)
      : port_(port)
      , packet_(rtp_bytes(0, ssrc)) {}

  void on_tick(const media_tick& t) override {
    // Skipped ticks advance the RTP clock too: the receiver sees a gap, not a burst.
    seq_ = static_cast<std::uint16_t>(seq_ + 1 + t.skipped);
    ts_ += 160u * (1 + t.skipped);
    packet_[2] = static_cast<std::byte>(seq_ >> 8);
    packet_[3] = static_cast<std::byte>(seq_);
    for (int i = 0; i < 4; ++i)
      packet_[4 + i] = static_cast<std::byte>(ts_ >> (24 - 8 * i));
    if (port_.send_rtp(packet_) == send_result::sent) sent.fetch_add(1, std::memory_order_relaxed);
  }

  media_port& port_;
  bytes packet_;
  std::uint16_t seq_ = 0;
  std::uint32_t ts_ = 0;
  std::atomic<std::uint64_t> sent{0};
};

struct null_sink : media_sink {
  verdict on_rtp(std::span<std::byte>, time_point) override { return verdict::accepted; }
  verdict on_rtcp(std::span<std::byte>, time_point) override { return verdict::accepted; }
  void on_media_timeout(duration) override {}
};

/// Receives every stream's packets on one socket and notes when each arrived (steady clock,
/// right after the read: loopback delivery happens inside the sender's sendto).
class arrival_recorder {
public:
  explicit arrival_recorder(std::size_t streams)
      : last_(streams)
      , deltas_(streams) {
    const int rcvbuf = 4 << 20;
    ::setsockopt(peer_.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    thread_ = std::thread([this] { run(); });
  }
  ~arrival_recorder() { stop(); }
  std::uint16_t port() const { return peer_.port(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t received() const { return received_.load(); }
  /// Inter-arrival times per stream, in microseconds.
  const std::vector<std::vector<double>>& deltas() const { return deltas_; }

private:
  void run() {
    std::array<std::uint8_t, 2048> buf;
    while (!done_) {
      pollfd pfd{peer_.fd(), POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      const auto n = ::recv(peer_.fd(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 12) continue;
      const auto now = std::chrono::steady_clock::now();
      const std::uint32_t ssrc = std::uint32_t{buf[8]} << 24 | std::uint32_t{buf[9]} << 16 |
                                 std::uint32_t{buf[10]} << 8 | buf[11];
      if (ssrc == 0 || ssrc > last_.size()) continue;
      auto& last = last_[ssrc - 1];
      if (last != time_point{})
        deltas_[ssrc - 1].push_back(std::chrono::duration<double, std::micro>(now - last).count());
      last = now;
      received_.fetch_add(1);
    }
  }

  udp_peer peer_;
  std::vector<time_point> last_;
  std::vector<std::vector<double>> deltas_;
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> received_{0};
  std::thread thread_;
};

} // namespace

// Not a timed test: the tolerances are loose so that a busy CI machine passes. The numbers
// that matter come from bench_rtp (bench/rtp_bench.cpp).
TEST_CASE("rtp clock spacing: 200 streams through loopback sockets, one packet per 20 ms") {
  constexpr std::size_t streams = 200;
  engine_options o;
  o.host = "127.0.0.1";
  o.ports = port_range{43000, 43999};
  o.threads = 2;
  engine e(o);
  REQUIRE(e.start().ok());
  arrival_recorder rx(streams);

  std::vector<udp_port> ports;
  std::vector<std::shared_ptr<g711_stream>> ss;
  for (std::uint32_t i = 0; i < streams; ++i) {
    auto p = e.open_port();
    REQUIRE(p.ok());
    REQUIRE(p->set_remote("127.0.0.1", rx.port()).ok());
    ss.push_back(std::make_shared<g711_stream>(i + 1, p->media()));
    p->start(std::make_shared<null_sink>(), ss.back());
    ports.push_back(std::move(p).value());
  }
  REQUIRE(eventually([&] { return e.clock(0).streams() + e.clock(1).streams() == streams; }));
  CHECK(e.clock(0).streams() == streams / 2); // spread evenly

  // Run until every stream has sent 75 packets (1.5 s).
  REQUIRE(eventually(
      [&] {
        return std::all_of(ss.begin(), ss.end(), [](const auto& s) { return s->sent >= 75; });
      },
      10s));
  for (auto& p : ports)
    p.close();
  REQUIRE(eventually([&] { return e.open_ports() == 0; }));
  std::uint64_t sent = 0;
  for (const auto& s : ss)
    sent += s->sent;
  REQUIRE(eventually([&] { return rx.received() == sent; }, 2s));
  rx.stop();

  std::vector<double> all;
  for (const auto& d : rx.deltas())
    all.insert(all.end(), d.begin() + std::min<std::ptrdiff_t>(5, std::ssize(d)), d.end());
  REQUIRE(all.size() > streams * 60);
  const double mean =
      std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
  std::vector<double> dev;
  for (double d : all)
    dev.push_back(std::abs(d - 20000.0));
  std::sort(dev.begin(), dev.end());
  const double p99 = dev[dev.size() * 99 / 100];
  MESSAGE("spacing over " << all.size() << " intervals: mean " << mean / 1000 << " ms, p99 |dev| "
                          << p99 / 1000 << " ms, max |dev| " << dev.back() / 1000 << " ms");
  CHECK(mean > 19500);
  CHECK(mean < 20500);
  CHECK(p99 < 10000);
  for (unsigned i = 0; i < e.threads(); ++i) {
    const auto st = e.clock(i).stats();
    MESSAGE("clock " << i << ": " << st.ticks << " ticks, " << st.skipped << " skipped, max late "
                     << std::chrono::duration<double, std::milli>(st.max_lateness).count()
                     << " ms");
  }
}
