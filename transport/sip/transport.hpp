#pragma once

/// The SIP transport (RFC 3261 section 18): UDP and TCP on one address and port, turning bytes
/// into parsed `sip::message`s for a handler and sending bytes to peers.
///
///   transport (one per process, owned by the SIP_ENDPOINT actor's owner)
///   ├── io_context run by `threads` transport threads ("gobi-sip-N")
///   ├── UDP socket        one datagram = one message; receive and send on one strand
///   ├── TCP acceptor      on its own strand
///   └── connections       accepted or opened by send(); each on its own strand with a
///                         stream_framer, an idle timer and a write queue
///
/// Malformed input never reaches the handler and never disturbs another call: a request whose
/// Via, From, To, Call-ID and CSeq parsed is answered here (400, 505 or 513, built by
/// `make_error_response`) to where it came from, on the connection it came on; anything else
/// is dropped and counted. A TCP stream that cannot be framed any more closes that connection
/// only.
///
/// Threads: the handler is called on a transport thread (a strand: calls for one connection,
/// or for the UDP socket, never overlap and keep arrival order; calls for different
/// connections may run at once when threads > 1). It must hand off and return. `send()` and
/// `stats()` may be called from any thread at any time, also before start() and after stop()
/// (then a send is dropped without a callback). After stop() returns the handler is not
/// called again (unless stop() ran on a transport thread: then the destructor joins).

#include "domain/result.hpp"
#include "domain/sip/message.hpp"
#include "domain/sip/parser.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace gobi::sip {

enum class protocol : std::uint8_t { udp, tcp };
const char* to_string(protocol p) noexcept; ///< "UDP", "TCP" (as in Via)

/// Where a message came from or goes to.
struct peer {
  protocol proto = protocol::udp;
  std::string address; ///< IP literal
  std::uint16_t port = 0;
  std::uint64_t connection = 0; ///< TCP: id of the connection it arrived on (0 = none)
};

struct transport_options {
  std::string host = "127.0.0.1"; ///< IP literal to bind
  /// UDP and TCP on the same number; 0 = pick a free one (the same for both).
  std::uint16_t port = 5060;
  bool udp = true;
  bool tcp = true;
  unsigned threads = 1; ///< io threads
  parse_limits limits{};
  /// TCP, accepted and opened together; beyond it new ones are closed at once (and a send that
  /// would open one fails).
  std::size_t max_connections = 1024;
  std::chrono::seconds idle_timeout{300}; ///< TCP connection without traffic is closed; 0 = never
  int udp_receive_buffer_bytes = 4 << 20; ///< SO_RCVBUF asked for (300 calls/s bursts)
  /// An outgoing TCP connection not established within this is given up (on_send_error).
  std::chrono::seconds connect_timeout{10};
};

/// Counters, readable from any thread (atomics).
struct transport_stats {
  std::uint64_t received = 0;           ///< messages handed to the handler
  std::uint64_t sent = 0;               ///< messages written (sends and error answers)
  std::uint64_t malformed_answered = 0; ///< malformed requests answered here (400/505/513)
  std::uint64_t malformed_dropped = 0;  ///< malformed input dropped (and TCP framing errors)
  std::uint64_t send_errors = 0;        ///< sends that ended in on_send_error
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0; ///< accepted and opened, now
};

/// Receives what arrives. Called on a transport thread: hand off, never block.
class transport_handler {
public:
  virtual ~transport_handler() = default;
  /// A parsed message. Requests already have their top Via stamped with received/rport
  /// (RFC 3261 18.2.1, RFC 3581).
  virtual void on_message(message msg, peer from) = 0;
  /// A send could not be carried out (TCP connect refused/failed, connection gone, UDP send
  /// error), for the transaction layer's transport-error events. Once per lost send, with
  /// the `to` it was given.
  virtual void on_send_error(peer to, std::string what) = 0;
};

/// Owns its sockets and threads. Thread-safe; not copyable. Do not destroy it from a handler
/// callback (it joins its own threads).
class transport {
public:
  transport(transport_options opts, std::shared_ptr<transport_handler> handler);
  ~transport(); ///< stops
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Binds and starts the threads. errc::unavailable naming host:port when a port is taken;
  /// errc::invalid_argument for a bad host (not an IP literal) or nothing enabled.
  status start();
  void stop();                         ///< idempotent; closes everything, joins threads
  std::uint16_t port() const noexcept; ///< the bound port (after start)
  const std::string& host() const noexcept;

  /// Thread-safe, never blocks, may be called from any thread (actors call it).
  /// UDP: sendto address:port from the listening socket. TCP: on `to.connection` when it is
  /// still open; otherwise on an open connection to address:port; otherwise connects (async)
  /// to address:port and sends when connected (queueing what is sent meanwhile). A failure
  /// ends in handler->on_send_error (on a transport thread).
  void send(const peer& to, std::string bytes);
  /// Convenience: `send(to, msg.to_string())`.
  void send(const peer& to, const message& msg);

  transport_stats stats() const noexcept;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace gobi::sip
