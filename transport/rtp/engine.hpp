#pragma once

/// The RTP engine: the media transport threads, their shared media clocks, and the calls' UDP
/// RTP/RTCP socket pairs.
///
///   engine (one per process)
///   ├── port_allocator            --rtp-ports pairs, bound on the media host
///   ├── file_writer               thread gobi-rec: every recording's disk writes
///   └── transport thread i (×threads), each with its own io_context
///       ├── media_clock i         ticks every ptime; on_tick of its streams
///       └── udp_port ...          receive -> media_sink on this thread; send from here
///                                 (RTP read on the port's clock tick, see poll_rtp)
///
/// A call's port lives on one transport thread for its whole life, with its clock: the
/// inbound chain runs from packet arrival and the outbound stream from the clock's tick, on
/// the same thread as the socket, so neither needs a lock. New ports go to the thread with the
/// fewest ports.

#include "domain/defaults.hpp"
#include "domain/result.hpp"
#include "transport/rtp/latch.hpp"
#include "transport/rtp/media_clock.hpp"
#include "transport/rtp/media_port.hpp"
#include "transport/rtp/port_allocator.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gobi::rtp {

/// Tunables of the engine (defaults here until they move to domain/defaults.hpp).
struct engine_options {
  std::string host = defaults::sip_host; ///< media address to bind (a literal)
  port_range ports{defaults::rtp_port_min, defaults::rtp_port_max};
  unsigned threads = 1;                           ///< transport threads, one media clock each
  duration ptime = std::chrono::milliseconds(20); ///< the clocks' tick period
  /// Slots per period over which each clock spreads its streams (see phased_streams): a
  /// stream's packets stay ptime apart, a wake-up serves 1/phases of the streams.
  unsigned clock_phases = 4;
  /// Pairs one open_port() tries before giving up (ports held by other processes).
  unsigned bind_attempts = 64;
  /// How a port with an outbound stream reads its RTP socket. true: on its stream's clock
  /// tick, just before the stream runs, with one recvmmsg(2) (arrival times from the kernel's
  /// SO_TIMESTAMPNS stamps, so the jitter buffer and RTCP jitter see when packets really came);
  /// no wake-up and no epoll event per packet. Measured: at 300 calls the RTP thread made
  /// 30,000 recvfrom calls a second (half of them EAGAIN after a packet) and 6,400 context
  /// switches (docs/benchmarks.md, "Calls"). A packet waits in the socket up to one ptime
  /// instead of in the jitter buffer. false: every socket is event-driven (epoll), e.g. for
  /// a load generator that times arrivals itself. RTCP and ports without a stream are always
  /// event-driven.
  bool poll_rtp = true;
  /// SCHED_FIFO priority (1-99) for the transport threads; 0 = normal scheduling. Keeps the
  /// pacing steady on a busy machine (CAF workers, STT, compiles). Needs CAP_SYS_NICE or an
  /// rtprio limit; without them the threads stay on normal scheduling (see realtime_threads()).
  int realtime_priority = 0;
};

/// Per-port tunables.
struct port_options {
  /// No RTP for this long -> media_sink::on_media_timeout. Zero disables (e.g. on hold).
  duration media_timeout = std::chrono::seconds(30);
  latch_options latch{};
};

/// A port's counters. Read from any thread (each field is consistent, the set is not atomic).
struct port_stats {
  std::uint64_t rtp_in = 0, rtcp_in = 0, bytes_in = 0;
  std::uint64_t rejected = 0;  ///< the sink said `rejected`
  std::uint64_t malformed = 0; ///< not RTP/RTCP version 2 or too short: never reached the sink
  std::uint64_t foreign = 0;   ///< from another source than the confirmed one: dropped
  std::uint64_t rtp_out = 0, rtcp_out = 0, bytes_out = 0;
  std::uint64_t send_dropped = 0; ///< no remote yet, buffer full or OS error
  std::uint64_t media_timeouts = 0;
  std::uint64_t relatches = 0;
  bool rtp_confirmed = false; ///< symmetric RTP has confirmed the peer's source
};

/// A UDP endpoint as text, for SDP and logs.
struct endpoint {
  std::string address;
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

class engine;
class file_writer;

/// One call's RTP and RTCP sockets on a transport thread. Move-only handle, owned by the call
/// (its CALL actor); destroying it closes the port.
///
/// Lifecycle: engine::open_port() -> put local_rtp_port() in the SDP -> start(sink, stream)
/// -> set_remote() from the peer's SDP -> ... -> close(). The sink and the stream are kept
/// alive by the port until the close has run on its thread; after that neither is called
/// again, and both are released there (so a chain is built anywhere and dies on its thread).
///
/// Every method may be called from any thread; those that change the port post to its thread
/// (or run at once when already there). `media()` is the sending side for the chain, to be
/// used on the port's thread only (see media_port).
class udp_port {
public:
  udp_port() = default;
  udp_port(udp_port&&) noexcept;
  udp_port& operator=(udp_port&&) noexcept;
  udp_port(const udp_port&) = delete;
  udp_port& operator=(const udp_port&) = delete;
  ~udp_port(); ///< closes

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  const std::string& local_address() const noexcept;
  std::uint16_t local_rtp_port() const noexcept;
  std::uint16_t local_rtcp_port() const noexcept;

  /// Starts receiving into `sink` and, when given, registers `outbound` with this port's clock.
  /// Once per port; later calls are ignored.
  void start(std::shared_ptr<media_sink> sink, std::shared_ptr<clocked_stream> outbound = {});
  /// The peer's RTP address from its SDP, and its RTCP port (0: rtp_port + 1; equal to
  /// rtp_port: RTCP multiplexed, RFC 5761, so it is sent from the RTP socket). Resets
  /// symmetric-RTP latching. errc::invalid_argument for an address that is not an IP literal
  /// or a zero port.
  status set_remote(std::string_view address, std::uint16_t rtp_port, std::uint16_t rtcp_port = 0);
  /// A new media timeout (zero: off, e.g. on hold), counting from the last accepted RTP or
  /// from now, whichever is later.
  void set_media_timeout(duration timeout);
  /// Stops receiving and sending, unregisters the stream, releases sink and stream, closes the
  /// sockets and returns the ports to the allocator. Idempotent.
  void close();

  /// Runs `fn` once on the port's thread (e.g. a command for the chain), even after close()
  /// (sends then answer `closed`); once the engine has stopped, runs it on the caller's thread.
  void post(std::function<void()> fn);
  /// The sending side, for the chain (port's thread only).
  media_port& media() noexcept;
  /// The clock of the port's thread.
  media_clock& clock() noexcept;
  /// Where RTP goes now (the confirmed source, else the SDP address), if anywhere.
  std::optional<endpoint> rtp_target() const;
  port_stats stats() const noexcept;

  struct impl;

private:
  friend class engine;
  explicit udp_port(std::shared_ptr<impl> i) noexcept;
  std::shared_ptr<impl> impl_;
};

/// Owns the transport threads, their clocks and the port allocator. Thread-safe. Outlive it
/// with ports if you like: a port handle stays safe to use and close after stop().
class engine {
public:
  explicit engine(engine_options opts);
  ~engine(); ///< stops and joins
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Validates the options, creates the allocator and starts the threads and clocks.
  /// errc::invalid_argument for a bad host or range.
  status start();
  /// Closes every open port, stops the clocks and joins the threads. Idempotent.
  void stop();

  /// A new port pair on the least loaded thread. errc::unavailable when no pair is free or
  /// the engine is not running.
  result<udp_port> open_port(port_options opts = {});

  unsigned threads() const noexcept;
  /// The clock of transport thread `i` (i < threads(); the engine has been started).
  media_clock& clock(unsigned i) noexcept;
  /// Ports open now, over all threads.
  std::size_t open_ports() const noexcept;
  /// The recordings' writer thread (stopped, writing synchronously, after stop()).
  file_writer& files() noexcept;
  /// Transport threads running with the requested realtime priority.
  unsigned realtime_threads() const noexcept;
  const engine_options& options() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace gobi::rtp
