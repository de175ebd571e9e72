#pragma once

/// An HTTP/1.1 server on Boost.Beast: accepts on one address, parses requests with limits,
/// hands each complete request to a handler, and writes responses back in order (keep-alive).
///
/// Owns its io_context and `threads` transport threads; each connection runs on its own strand,
/// and the handler is called there, on a transport thread. Thread-safe: start/stop may be
/// called from any thread (stop() from a handler begins closing but cannot join its own
/// thread: the destructor, which must run elsewhere, joins). Requests over `body_limit` answer
/// 413 without reading the body (chunked bodies: as soon as they grow past it); over the
/// header limit, 431; malformed, 400; the connection is then closed. Above
/// `max_connections`, a new connection gets 503 and is closed. Other connections are never
/// affected. One request per connection is in flight: the next is read only after the
/// response is written, so pipelined responses stay in order.
///
/// Every response carries Server, Date, Content-Type and Content-Length (none of the latter two
/// for 204/304); a handler's extra headers that would split the response (CR/LF) or duplicate
/// those are dropped. Responses are written with one gather write: a `shared_body` is never
/// copied and is released once written.

#include "domain/result.hpp"
#include "transport/http/message.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace gobi::http {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;            ///< 0 = pick a free port (see server::port())
  std::size_t body_limit = 10u << 20;   ///< bytes; 413 above
  std::size_t header_limit = 16u << 10; ///< bytes of request line and headers; 431 above
  unsigned threads = 1;
  /// Close a connection idle (or stalled reading or writing) this long; 0 = never.
  unsigned idle_timeout_s = 60;
  unsigned max_connections = 10000;
};

class server {
public:
  server(server_options opts, handler h);
  ~server(); ///< stops and joins
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds, listens and starts the transport threads. errc::unavailable when the address
  /// cannot be bound (message says why).
  status start();
  /// Stops accepting, closes connections, joins the threads. Idempotent. Responders still held
  /// elsewhere stay safe to call or drop afterwards (their answers are discarded).
  void stop();
  /// Graceful stop (SIGTERM): stops accepting, closes idle keep-alive connections, lets every
  /// request already handed to the handler be answered (its connection then closes), and
  /// stops once none is left or `timeout` passed. True when everything was answered.
  bool drain(std::chrono::milliseconds timeout);
  /// The bound port (useful with port 0).
  std::uint16_t port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace gobi::http
