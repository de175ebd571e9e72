#pragma once

/// Two media ports connected in memory, for tests of media chains without sockets or threads:
/// what port a sends, port b's sink receives (and back), after a scripted delay, with scripted
/// loss and reordering, on a manual clock.
///
///   pipe_script lossy;  lossy.latency = 40ms;  lossy.jitter = 10ms;  lossy.drop = {5};
///   memory_pipe pipe(lossy, {});          // a -> b lossy, b -> a perfect
///   pipe.a().start(caller_sink);          pipe.b().start(gobi_chain);
///   gobi_chain sends through pipe.b() ... pipe.advance(20ms) delivers what is due.
///
/// Single-threaded: everything happens inside send_* and advance*, on the caller's thread.

#include "transport/rtp/media_port.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace gobi::rtp {

/// What happens to the RTP packets of one direction. RTCP only gets the latency.
struct pipe_script {
  duration latency{};              ///< every packet
  duration jitter{};               ///< plus a uniform random delay in [0, jitter] (may reorder)
  double loss = 0.0;               ///< probability that a packet is lost
  std::vector<std::uint64_t> drop; ///< indices (0-based, RTP sent this way) that are lost
  /// Indices held back and delivered just after the next RTP packet of this direction.
  std::vector<std::uint64_t> swap;
  std::uint32_t seed = 1; ///< for loss and jitter
};

class memory_pipe;

/// One end of a memory_pipe. Owned by the pipe.
class memory_port final : public media_port {
public:
  struct stats_t {
    std::uint64_t rtp_sent = 0, rtcp_sent = 0;
    std::uint64_t rtp_received = 0, rtcp_received = 0; ///< delivered to this port's sink
    std::uint64_t lost = 0;                            ///< sent from this port and lost on the way
    std::uint64_t accepted = 0, rejected = 0;          ///< this port's sink's verdicts
    std::uint64_t media_timeouts = 0;
  };

  /// Starts delivering to `sink`; until then arriving packets are discarded.
  void start(std::shared_ptr<media_sink> sink);
  /// As udp_port: no accepted RTP for this long (pipe time) -> on_media_timeout, once per
  /// silence. Zero (the default) disables.
  void set_media_timeout(duration timeout);
  /// Sends answer `closed` and nothing more is delivered to the sink, which is released.
  void close();

  send_result send_rtp(std::span<const std::byte> packet) override;
  send_result send_rtcp(std::span<const std::byte> packet) override;

  const stats_t& stats() const noexcept { return stats_; }

private:
  friend class memory_pipe;
  memory_port(memory_pipe& pipe, int side)
      : pipe_(pipe)
      , side_(side) {}

  memory_pipe& pipe_;
  int side_;
  std::shared_ptr<media_sink> sink_;
  bool closed_ = false;
  duration timeout_{};
  time_point last_rtp_{};
  bool timed_out_ = false;
  stats_t stats_;
};

class memory_pipe {
public:
  explicit memory_pipe(pipe_script a_to_b = {}, pipe_script b_to_a = {},
                       time_point start = time_point{});
  memory_pipe(const memory_pipe&) = delete;
  memory_pipe& operator=(const memory_pipe&) = delete;

  memory_port& a() noexcept { return a_; }
  memory_port& b() noexcept { return b_; }

  time_point now() const noexcept { return now_; }
  /// Moves the clock to `t`, delivering every packet due by then and raising media timeouts,
  /// in time order. Packets sent by sinks meanwhile are delivered too if they are due by `t`.
  void advance_to(time_point t);
  void advance(duration d) { advance_to(now_ + d); }
  /// Packets on their way.
  std::size_t in_flight() const noexcept { return queue_.size(); }

private:
  friend class memory_port;
  struct packet {
    time_point due;
    std::uint64_t order; ///< send order: ties on `due` keep it
    int to;
    bool rtcp;
    std::vector<std::byte> data;
  };
  /// Heap order: the packet due first (then sent first) at the front.
  struct later {
    bool operator()(const packet& x, const packet& y) const noexcept {
      return x.due != y.due ? x.due > y.due : x.order > y.order;
    }
  };
  struct direction {
    pipe_script script;
    std::mt19937 rng;
    std::uint64_t rtp_index = 0;
    std::optional<std::vector<std::byte>> held; ///< a swapped packet waiting for the next one
  };

  send_result send(int from, bool rtcp, std::span<const std::byte> data);
  void schedule(time_point due, int to, bool rtcp, std::vector<std::byte> data);
  memory_port& port(int side) noexcept { return side == 0 ? a_ : b_; }
  /// The earliest media timeout due by `t`, if any: (when, side).
  std::optional<std::pair<time_point, int>> next_timeout(time_point t) const;

  memory_port a_{*this, 0};
  memory_port b_{*this, 1};
  direction dirs_[2]; ///< [0]: a -> b, [1]: b -> a
  time_point now_;
  std::uint64_t order_ = 0;
  std::vector<packet> queue_; ///< a heap ordered by `later`
};

} // namespace gobi::rtp
