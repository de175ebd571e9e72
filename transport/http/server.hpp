#pragma once

/// An HTTP/1.1 server on Boost.Beast: accepts on one address, parses requests with limits,
/// hands each complete request to a handler, and writes responses back in order (keep-alive).
///
/// Owns its io_context and `threads` transport threads. Thread-safe: start/stop may be called
/// from any thread. Requests over `body_limit` answer 413 without reading the body; over
/// the header limit, 431; malformed, 400; the connection is then closed. Other connections
/// are never affected.

#include "domain/result.hpp"
#include "transport/http/message.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace gobi::http {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;          ///< 0 = pick a free port (see server::port())
  std::size_t body_limit = 10u << 20; ///< bytes; 413 above
  std::size_t header_limit = 16u << 10;
  unsigned threads = 1;
  unsigned idle_timeout_s = 60;  ///< close a keep-alive connection idle this long
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
  /// Stops accepting, closes connections, joins the threads. Idempotent.
  void stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace gobi::http
