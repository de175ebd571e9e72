#include "transport/rtp/engine.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <random>

using namespace gobi;
using namespace gobi::rtp;
using namespace gobi::rtp::test;
using namespace std::chrono_literals;

namespace {

udp_port open(engine& e, port_options o = {}) {
  auto p = e.open_port(o);
  REQUIRE(p.ok());
  return std::move(p).value();
}

/// Sends from the port's thread, as a chain would, and waits for the result.
send_result send_on_thread(udp_port& p, const bytes& b, bool rtcp = false) {
  std::promise<send_result> done;
  auto f = done.get_future();
  p.post([&] { done.set_value(rtcp ? p.media().send_rtcp(b) : p.media().send_rtp(b)); });
  REQUIRE(f.wait_for(deadline) == std::future_status::ready);
  return f.get();
}

} // namespace

TEST_CASE("rtp udp_port: two ports exchange RTP and RTCP; sinks run on a transport thread") {
  auto e = make_engine(42000);
  auto a = open(*e), b = open(*e);
  CHECK(a.local_rtp_port() % 2 == 0);
  CHECK(a.local_rtcp_port() == a.local_rtp_port() + 1);
  CHECK(a.local_address() == "127.0.0.1");
  CHECK(e->open_ports() == 2);
  // New ports spread over the threads.
  CHECK(&a.clock() != &b.clock());

  auto sa = std::make_shared<recording_sink>(), sb = std::make_shared<recording_sink>();
  a.start(sa);
  b.start(sb);
  // Nothing to send to yet.
  CHECK(send_on_thread(a, rtp_bytes(1, 0xa)) == send_result::no_remote);

  REQUIRE(a.set_remote("127.0.0.1", b.local_rtp_port()).ok());
  REQUIRE(b.set_remote("127.0.0.1", a.local_rtp_port(), a.local_rtcp_port()).ok());
  for (std::uint16_t s = 1; s <= 5; ++s)
    CHECK(send_on_thread(a, rtp_bytes(s, 0xa)) == send_result::sent);
  CHECK(send_on_thread(a, rtcp_bytes(0xa), true) == send_result::sent);
  CHECK(send_on_thread(b, rtp_bytes(9, 0xb)) == send_result::sent);

  REQUIRE(eventually([&] { return sb->count(false) == 5 && sb->count(true) == 1; }));
  REQUIRE(eventually([&] { return sa->count(false) == 1; }));
  std::vector<bytes> rtp; // RTP and RTCP use two sockets: no order between them
  for (const auto& p : sb->packets()) {
    CHECK(p.thread.rfind("gobi-rtp-", 0) == 0);
    if (!p.rtcp) rtp.push_back(p.data);
  }
  REQUIRE(rtp.size() == 5);
  CHECK(rtp[0] == rtp_bytes(1, 0xa));
  CHECK(seq_of(rtp[4]) == 5);

  const auto st = b.stats();
  CHECK(st.rtp_in == 5);
  CHECK(st.rtcp_in == 1);
  CHECK(st.bytes_in == 5 * 172 + 8);
  CHECK(a.stats().rtp_out == 5);
  CHECK(a.stats().rtcp_out == 1);
  CHECK(a.stats().send_dropped == 1);
  CHECK(b.stats().rtp_confirmed); // a's packets came from a's RTP port: b confirmed it
  CHECK(b.rtp_target() == endpoint{"127.0.0.1", a.local_rtp_port()});

  CHECK_FALSE(a.set_remote("example.com", 4000).ok());
  CHECK_FALSE(a.set_remote("::1", 4000).ok()); // not our address family
  CHECK_FALSE(a.set_remote("127.0.0.1", 0).ok());
}

TEST_CASE("rtp udp_port: symmetric RTP latches to the real source, resists strangers") {
  auto e = make_engine(42100, 1);
  port_options o;
  o.latch.latch_packets = 2;
  o.latch.relatch_idle = 300ms;
  auto p = open(*e, o);
  auto sink = std::make_shared<recording_sink>();
  p.start(sink);
  udp_peer sdp_says; // the address in the peer's SDP: never sends (behind a NAT)
  udp_peer nat;      // where its packets really come from
  udp_peer stranger;
  REQUIRE(p.set_remote("127.0.0.1", sdp_says.port()).ok());
  REQUIRE(eventually([&] { return p.rtp_target() == endpoint{"127.0.0.1", sdp_says.port()}; }));

  // Before latching, we send to the SDP address.
  CHECK(send_on_thread(p, rtp_bytes(1, 1)) == send_result::sent);
  CHECK(sdp_says.receive());

  // Garbage and rejected packets do not latch; garbage does not even reach the sink.
  nat.send_to(p.local_rtp_port(), bytes(40, std::byte{0x11}));
  auto bad = rtp_bytes(1, 7);
  bad[12] = std::byte{0xba};
  nat.send_to(p.local_rtp_port(), bad);
  nat.send_to(p.local_rtp_port(), bad);
  REQUIRE(eventually([&] { return p.stats().rejected == 2 && p.stats().malformed == 1; }));
  CHECK_FALSE(p.stats().rtp_confirmed);

  // Two valid packets from the NAT address confirm it; replies go there.
  nat.send_to(p.local_rtp_port(), rtp_bytes(2, 7));
  nat.send_to(p.local_rtp_port(), rtp_bytes(3, 7));
  REQUIRE(eventually([&] { return p.stats().rtp_confirmed; }));
  CHECK(p.rtp_target() == endpoint{"127.0.0.1", nat.port()});
  CHECK(send_on_thread(p, rtp_bytes(2, 1)) == send_result::sent);
  const auto reply = nat.receive();
  REQUIRE(reply);
  CHECK(reply->from_port == p.local_rtp_port()); // symmetric: from the port we receive on
  CHECK(seq_of(reply->data) == 2);

  // A stranger is dropped while the confirmed source is alive.
  const auto before = sink->count(false);
  for (std::uint16_t s = 0; s < 5; ++s) {
    stranger.send_to(p.local_rtp_port(), rtp_bytes(s, 99));
    nat.send_to(p.local_rtp_port(), rtp_bytes(static_cast<std::uint16_t>(10 + s), 7));
  }
  REQUIRE(eventually([&] { return p.stats().foreign == 5 && sink->count(false) == before + 5; }));
  CHECK(p.rtp_target() == endpoint{"127.0.0.1", nat.port()});

  // The NAT rebinds: the old source goes quiet, the new one takes over after relatch_idle.
  udp_peer rebound;
  REQUIRE(eventually([&] {
    rebound.send_to(p.local_rtp_port(), rtp_bytes(100, 7));
    return p.rtp_target() == endpoint{"127.0.0.1", rebound.port()};
  }));
  CHECK(p.stats().relatches == 1);

  // A new SDP (re-INVITE) resets latching to the signalled address.
  REQUIRE(p.set_remote("127.0.0.1", sdp_says.port()).ok());
  REQUIRE(eventually([&] { return !p.stats().rtp_confirmed; }));
  CHECK(p.rtp_target() == endpoint{"127.0.0.1", sdp_says.port()});
}

TEST_CASE("rtp udp_port: RTCP multiplexed on the RTP port (RFC 5761)") {
  auto e = make_engine(42200, 1);
  auto p = open(*e);
  auto sink = std::make_shared<recording_sink>();
  p.start(sink);
  udp_peer peer;
  REQUIRE(p.set_remote("127.0.0.1", peer.port(), peer.port()).ok());
  peer.send_to(p.local_rtp_port(), rtcp_bytes(5));
  peer.send_to(p.local_rtp_port(), rtp_bytes(1, 5));
  REQUIRE(eventually([&] { return sink->count(true) == 1 && sink->count(false) == 1; }));
  CHECK(send_on_thread(p, rtcp_bytes(6), true) == send_result::sent);
  const auto got = peer.receive();
  REQUIRE(got);
  CHECK(got->from_port == p.local_rtp_port());
  CHECK(got->data == rtcp_bytes(6));
  // RTP arriving on the RTCP port is not RTCP: dropped.
  peer.send_to(p.local_rtcp_port(), rtp_bytes(2, 5));
  REQUIRE(eventually([&] { return p.stats().malformed == 1; }));
}

TEST_CASE("rtp udp_port: media timeout fires once per silence and can be turned off") {
  auto e = make_engine(42300, 1);
  port_options o;
  o.media_timeout = 150ms;
  auto p = open(*e, o);
  auto sink = std::make_shared<recording_sink>();
  const auto started = std::chrono::steady_clock::now();
  p.start(sink);
  udp_peer peer;
  REQUIRE(eventually([&] { return sink->timeouts() == 1; }));
  CHECK(std::chrono::steady_clock::now() - started >= 150ms);
  CHECK(p.stats().media_timeouts == 1);

  // Still silent: no second event. Packets re-arm it.
  peer.send_to(p.local_rtp_port(), rtp_bytes(1, 3));
  REQUIRE(eventually([&] { return sink->count(false) == 1; }));
  REQUIRE(eventually([&] { return sink->timeouts() == 2; }));

  // Packets flowing keep it quiet.
  for (int i = 0; i < 15; ++i) {
    const auto until = std::chrono::steady_clock::now() + 20ms;
    peer.send_to(p.local_rtp_port(), rtp_bytes(static_cast<std::uint16_t>(2 + i), 3));
    eventually([&] { return std::chrono::steady_clock::now() >= until; });
  }
  CHECK(sink->timeouts() == 2);

  // On hold: no timeout.
  p.set_media_timeout(duration::zero());
  const auto t = std::chrono::steady_clock::now();
  eventually([&] { return std::chrono::steady_clock::now() - t > 400ms; });
  CHECK(sink->timeouts() == 2);
  p.set_media_timeout(100ms);
  REQUIRE(eventually([&] { return sink->timeouts() == 3; }));
}

TEST_CASE("rtp udp_port: close stops callbacks, releases sink and stream, frees the ports") {
  auto e = make_engine(42400, 2);
  auto p = open(*e);
  const auto port = p.local_rtp_port();
  auto sink = std::make_shared<recording_sink>();
  std::weak_ptr<recording_sink> weak = sink;
  p.start(std::move(sink));
  udp_peer peer;
  peer.send_to(port, rtp_bytes(1, 1));
  REQUIRE(eventually([&] { return p.stats().rtp_in == 1; }));
  p.close();
  p.close(); // idempotent
  REQUIRE(eventually([&] { return weak.expired(); }));
  REQUIRE(eventually([&] { return e->open_ports() == 0; }));
  peer.send_to(port, rtp_bytes(2, 1));
  CHECK(p.stats().rtp_in == 1);
  CHECK(send_on_thread(p, rtp_bytes(1, 1)) == send_result::closed);
}

TEST_CASE("rtp udp_port: a sink may close its own port from on_rtp") {
  auto e = make_engine(42500, 1);
  auto p = std::make_shared<udp_port>(open(*e));
  auto sink = std::make_shared<recording_sink>();
  std::weak_ptr<recording_sink> weak = sink;
  sink->on_packet = [p] { p->close(); };
  p->start(sink);
  sink.reset();
  udp_peer peer;
  for (std::uint16_t s = 0; s < 10; ++s)
    peer.send_to(p->local_rtp_port(), rtp_bytes(s, 1));
  REQUIRE(eventually([&] { return e->open_ports() == 0; }));
  CHECK(p->stats().rtp_in == 1);
  // The sink holds the port handle, the port held the sink: the close broke the cycle.
  REQUIRE(eventually([&] { return weak.expired(); }));
}

TEST_CASE("rtp udp_port: garbage datagrams never reach the sink or hurt the port") {
  auto e = make_engine(42600, 1);
  auto p = open(*e);
  auto sink = std::make_shared<recording_sink>();
  p.start(sink);
  udp_peer peer;
  std::mt19937 rng(3);
  int garbage = 0;
  for (int i = 0; i < 2000; ++i) {
    bytes g(rng() % 1400);
    for (auto& b : g)
      b = static_cast<std::byte>(rng());
    if (!g.empty()) g[0] &= std::byte{0x3f}; // never version 2
    peer.send_to(p.local_rtp_port(), g);
    peer.send_to(p.local_rtcp_port(), g);
    garbage += 2;
    if (i % 100 == 99) // let the port drain, or the kernel drops what its buffer cannot hold
      REQUIRE(eventually([&] { return p.stats().malformed == static_cast<unsigned>(garbage); }));
  }
  bytes huge = rtp_bytes(1, 1, 4000); // bigger than the receive buffer: dropped, not cut
  peer.send_to(p.local_rtp_port(), huge);
  peer.send_to(p.local_rtp_port(), rtp_bytes(2, 1));
  REQUIRE(eventually([&] { return sink->count(false) == 1; }));
  CHECK(p.stats().malformed == static_cast<std::uint64_t>(garbage) + 1);
  CHECK(seq_of(sink->packets()[0].data) == 2);
}

TEST_CASE("rtp engine clock: ticks streams every ptime on the port's thread") {
  auto e = make_engine(42700, 2);
  auto p = open(*e);
  struct counting : clocked_stream {
    std::atomic<int> ticks{0};
    std::atomic<std::uint64_t> last_index{0};
    std::atomic<bool> on_port_thread{true};
    media_clock* clock = nullptr;
    void on_tick(const media_tick& t) override {
      if (!clock->on_clock_thread()) on_port_thread = false;
      last_index = t.index;
      ++ticks;
    }
  };
  auto s = std::make_shared<counting>();
  s->clock = &p.clock();
  p.start(std::make_shared<recording_sink>(), s);
  const auto t = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return s->ticks >= 25; }));
  const auto elapsed = std::chrono::steady_clock::now() - t;
  CHECK(elapsed >= 25 * 20ms - 25ms); // ~20 ms apart (not a timing test: loose)
  CHECK(s->on_port_thread);
  CHECK(p.clock().streams() == 1);

  // Registration from another thread, on another clock.
  auto other = std::make_shared<counting>();
  auto& c1 = e->clock(1 - p.clock().index());
  other->clock = &c1;
  c1.add(other);
  REQUIRE(eventually([&] { return other->ticks >= 3; }));
  c1.remove(other);
  REQUIRE(eventually([&] { return c1.streams() == 0; }));
  const int frozen = other->ticks;
  const auto wait_until = std::chrono::steady_clock::now() + 100ms;
  eventually([&] { return std::chrono::steady_clock::now() > wait_until; });
  CHECK(other->ticks == frozen);

  // Closing the port unregisters its stream.
  p.close();
  REQUIRE(eventually([&] { return p.clock().streams() == 0; }));
  const auto st = p.clock().stats();
  CHECK(st.ticks >= 25);
}

TEST_CASE("rtp engine: port handles outlive stop() and the engine itself") {
  auto e = make_engine(42800, 2);
  auto a = open(*e), b = open(*e);
  auto sink = std::make_shared<recording_sink>();
  std::weak_ptr<recording_sink> weak = sink;
  a.start(std::move(sink));
  e->stop();
  CHECK(weak.expired()); // stop closed every port
  CHECK_FALSE(e->open_port().ok());
  CHECK(e->open_ports() == 0);
  CHECK(send_on_thread(a, rtp_bytes(1, 1)) == send_result::closed);
  e.reset();
  // Handles stay safe: everything runs inline now and reports closed.
  b.start(std::make_shared<recording_sink>());
  CHECK(b.set_remote("127.0.0.1", 5000).ok());
  b.close();
  a = udp_port{};
}

namespace {
/// Records each RTP packet's arrival time and when the sink saw it.
class timing_sink final : public media_sink {
public:
  verdict on_rtp(std::span<std::byte>, time_point arrival) override {
    std::lock_guard lock(mutex_);
    times_.push_back({arrival, steady_clock::now()});
    return verdict::accepted;
  }
  verdict on_rtcp(std::span<std::byte>, time_point) override { return verdict::accepted; }
  void on_media_timeout(duration) override {}

  struct seen {
    time_point arrival, delivered;
  };
  std::vector<seen> times() const {
    std::lock_guard lock(mutex_);
    return times_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<seen> times_;
};

class counting_stream final : public clocked_stream {
public:
  void on_tick(const media_tick&) override { ticks.fetch_add(1); }
  std::atomic<int> ticks{0};
};
} // namespace

TEST_CASE("rtp udp_port: polled RTP is read on the stream's tick, stamped by the kernel") {
  for (const bool poll : {true, false}) {
    CAPTURE(poll);
    engine_options o;
    o.host = "127.0.0.1";
    o.ports = port_range{45000, 45099};
    o.threads = 1;
    o.poll_rtp = poll;
    engine e(o);
    REQUIRE(e.start().ok());
    auto p = open(e);
    auto sink = std::make_shared<timing_sink>();
    auto stream = std::make_shared<counting_stream>();
    p.start(sink, stream);
    REQUIRE(eventually([&] { return stream->ticks.load() > 0; }));

    // A burst of 10, more than one recvmmsg batch: all of it arrives, in order, with arrival
    // times between the first send and the moment the sink saw each packet.
    udp_peer peer;
    const auto before = steady_clock::now();
    for (std::uint16_t s = 1; s <= 10; ++s)
      peer.send_to(p.local_rtp_port(), rtp_bytes(s, 0x77));
    REQUIRE(eventually([&] { return sink->times().size() == 10; }));
    for (const auto& t : sink->times()) {
      CHECK(t.arrival >= before);
      CHECK(t.arrival <= t.delivered);
    }
    CHECK(p.stats().rtp_in == 10);
    // The stream still ticks once per period, whether the port polls or not.
    const int ticks = stream->ticks.load();
    REQUIRE(eventually([&] { return stream->ticks.load() >= ticks + 3; }));
    p.close();
  }
}

TEST_CASE("rtp udp_port: a port without a stream is event-driven even when the engine polls") {
  auto e = make_engine(45100, 1); // poll_rtp by default
  auto p = open(*e);
  auto sink = std::make_shared<recording_sink>();
  p.start(sink); // no outbound stream: nothing ticks the port
  udp_peer peer;
  peer.send_to(p.local_rtp_port(), rtp_bytes(1, 0x88));
  REQUIRE(eventually([&] { return sink->count(false) == 1; }));
  CHECK(e->clock(0).streams() == 0);
}
