#include "transport/rtp/memory_pipe.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

using namespace gobi::rtp;
using namespace gobi::rtp::test;
using namespace std::chrono_literals;

namespace {

/// (Designated initializers would leave the vectors out, which -Wextra reports.)
pipe_script delay(duration latency, duration jitter = {}, double loss = 0, std::uint32_t seed = 1) {
  pipe_script s;
  s.latency = latency;
  s.jitter = jitter;
  s.loss = loss;
  s.seed = seed;
  return s;
}

std::vector<std::uint16_t> rtp_seqs(const recording_sink& s) {
  std::vector<std::uint16_t> out;
  for (const auto& p : s.packets())
    if (!p.rtcp) out.push_back(seq_of(p.data));
  return out;
}

/// Sends RTP packets 0..n-1 from `from`, one every 20 ms of pipe time.
void send_stream(memory_pipe& pipe, memory_port& from, std::uint16_t n) {
  for (std::uint16_t s = 0; s < n; ++s) {
    CHECK(from.send_rtp(rtp_bytes(s, 1)) == send_result::sent);
    pipe.advance(20ms);
  }
}

/// A far end that answers each RTP packet with the same bytes, from inside on_rtp.
struct echo_sink : recording_sink {
  media_port* port = nullptr;
  verdict on_rtp(std::span<std::byte> p, time_point t) override {
    port->send_rtp(p);
    return recording_sink::on_rtp(p, t);
  }
};

} // namespace

TEST_CASE("rtp memory pipe: two ports, both ways, after the latency, through media_sink") {
  memory_pipe pipe(delay(40ms), delay(10ms));
  auto sa = std::make_shared<recording_sink>(), sb = std::make_shared<recording_sink>();
  pipe.a().start(sa);
  pipe.b().start(sb);
  media_port& a = pipe.a(); // chains see only the interface
  for (std::uint16_t s = 1; s <= 3; ++s)
    CHECK(a.send_rtp(rtp_bytes(s, 1)) == send_result::sent);
  CHECK(pipe.b().send_rtcp(rtcp_bytes(2)) == send_result::sent);
  CHECK(pipe.in_flight() == 4);
  pipe.advance(39ms);
  CHECK(sb->count(false) == 0);
  CHECK(sa->count(true) == 1); // RTCP b -> a after 10 ms
  pipe.advance(1ms);
  CHECK(rtp_seqs(*sb) == std::vector<std::uint16_t>{1, 2, 3});
  CHECK(sb->packets()[0].data == rtp_bytes(1, 1));
  CHECK(pipe.in_flight() == 0);
  CHECK(pipe.a().stats().rtp_sent == 3);
  CHECK(pipe.b().stats().rtp_received == 3);
  CHECK(pipe.b().stats().accepted == 3);
}

TEST_CASE("rtp memory pipe: scripted drops and swaps") {
  auto script = delay(30ms);
  script.drop = {2, 7};
  script.swap = {4};
  memory_pipe pipe(script);
  auto sb = std::make_shared<recording_sink>();
  pipe.b().start(sb);
  send_stream(pipe, pipe.a(), 10);
  pipe.advance(100ms);
  CHECK(rtp_seqs(*sb) == std::vector<std::uint16_t>{0, 1, 3, 5, 4, 6, 8, 9});
  CHECK(pipe.a().stats().lost == 2);
}

TEST_CASE("rtp memory pipe: random loss and jitter, reproducible for a seed") {
  const auto script = delay(20ms, 45ms, 0.1, 42);
  std::vector<std::uint16_t> first;
  for (int run = 0; run < 2; ++run) {
    memory_pipe pipe(script);
    auto sb = std::make_shared<recording_sink>();
    pipe.b().start(sb);
    send_stream(pipe, pipe.a(), 1000);
    pipe.advance(1s);
    const auto seqs = rtp_seqs(*sb);
    CHECK(seqs.size() + pipe.a().stats().lost == 1000);
    CHECK(pipe.a().stats().lost > 60);
    CHECK(pipe.a().stats().lost < 140);
    int reordered = 0;
    for (std::size_t i = 1; i < seqs.size(); ++i)
      reordered += seqs[i] < seqs[i - 1];
    CHECK(reordered > 50); // 45 ms of jitter on 20 ms spacing reorders often
    if (run == 0)
      first = seqs;
    else
      CHECK(seqs == first);
  }
}

TEST_CASE("rtp memory pipe: media timeout on the pipe's clock; sinks answering from on_rtp") {
  const auto t0 = time_point{} + 100s;
  memory_pipe pipe(delay(5ms), delay(5ms), t0);
  auto sa = std::make_shared<recording_sink>();
  auto far = std::make_shared<echo_sink>();
  far->port = &pipe.b();
  pipe.a().start(sa);
  pipe.b().start(far);
  pipe.a().set_media_timeout(100ms);

  pipe.advance(99ms);
  CHECK(sa->timeouts() == 0);
  pipe.advance(1ms);
  CHECK(sa->timeouts() == 1);
  pipe.advance(500ms);
  CHECK(sa->timeouts() == 1); // once per silence

  // a's packet reaches the far end, whose echo comes back 10 ms after sending: media again.
  CHECK(pipe.a().send_rtp(rtp_bytes(1, 1)) == send_result::sent);
  pipe.advance(10ms);
  CHECK(far->count(false) == 1);
  CHECK(sa->count(false) == 1);
  pipe.advance(99ms);
  CHECK(sa->timeouts() == 1);
  pipe.advance(1ms);
  CHECK(sa->timeouts() == 2);
  CHECK(pipe.a().stats().media_timeouts == 2);
  CHECK(pipe.now() == t0 + 710ms);

  // Closed ports neither send nor receive.
  pipe.b().close();
  CHECK(pipe.b().send_rtp(rtp_bytes(2, 1)) == send_result::closed);
  CHECK(pipe.a().send_rtp(rtp_bytes(3, 1)) == send_result::sent);
  pipe.advance(50ms);
  CHECK(far->count(false) == 1);
}
