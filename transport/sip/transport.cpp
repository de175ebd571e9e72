#include "transport/sip/transport.hpp"

#include "domain/sip/builder.hpp"
#include "domain/sip/routing.hpp"

#include <utility> // before Asio, for GCC 12

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <pthread.h>

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace gobi::sip {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using udp = net::ip::udp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;
using strand_type = net::strand<net::io_context::executor_type>;
/// Sockets and timers typed on their strand: no executor type erasure per operation.
using tcp_socket = net::basic_stream_socket<tcp, strand_type>;
using udp_socket = net::basic_datagram_socket<udp, strand_type>;
using timer_type = net::basic_waitable_timer<steady, net::wait_traits<steady>, strand_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, strand_type>;

/// Larger than any UDP payload (65507 bytes over IPv4), so a datagram is never truncated; one
/// over parse_limits::max_message_bytes is then answered 513 or dropped by the parser.
constexpr std::size_t udp_buffer_bytes = 65536;
/// What one TCP read asks for; the framer keeps whatever a message needs across reads.
constexpr std::size_t tcp_read_bytes = 16 * 1024;
/// What a connection may hold unwritten (a peer that stopped reading); sends beyond it fail.
constexpr std::size_t max_queued_bytes = 8u << 20;
/// Pause before accepting again after accept failed (e.g. out of file descriptors).
constexpr auto accept_backoff = std::chrono::milliseconds(100);
/// With port 0: how many free UDP ports are tried to find one whose TCP twin is free too.
constexpr int free_port_attempts = 32;

bool only_line_breaks(std::string_view bytes) noexcept {
  return bytes.find_first_not_of("\r\n") == std::string_view::npos;
}

/// What a queued write is: a caller's send (errors reported), an answer the transport made
/// itself (counted, never reported), or a keep-alive pong (neither).
enum class out_kind : std::uint8_t { send, answer, pong };

struct outgoing {
  peer to;
  std::string bytes;
  out_kind kind = out_kind::send;
};

std::string address_key(const net::ip::address& a, std::uint16_t port) {
  return a.to_string() + ":" + std::to_string(port);
}

class connection;

} // namespace

/// The transport's shared state. Connections refer to it by reference: they only run on the
/// transport threads, which stop() joins before the impl goes away.
struct transport::impl {
  impl(transport_options o, std::shared_ptr<transport_handler> h)
      : opts(std::move(o))
      , handler(std::move(h))
      , ioc(static_cast<int>(opts.threads == 0 ? 1 : opts.threads))
      , udp_strand_(net::make_strand(ioc))
      , udp_socket_(udp_strand_)
      , acceptor_(net::make_strand(ioc))
      , backoff_(acceptor_.get_executor()) {}

  status start();
  void stop();
  void stop_locked(); ///< stop() with life_mu held

  void send(const peer& to, std::string bytes);
  void send_udp(std::shared_ptr<outgoing> out); ///< on the UDP strand
  /// Calls the handler's on_send_error (on a transport thread), counting it.
  void report(const peer& to, std::string what);
  /// Reports from a thread that may not be ours: posted to the io_context.
  void post_report(const peer& to, std::string what);

  /// Parses one message and hands it to the handler, or answers or drops it. Returns the
  /// answer to send back to `from` when there is one.
  std::optional<std::string> process(std::string_view bytes, framing how, const peer& from);

  void receive_udp();
  void on_udp(const error_code& ec, std::size_t n);
  void accept();
  void on_accept(const error_code& ec, tcp_socket socket);

  /// Removes a closing connection from the registry (called on its strand).
  void unregister(std::uint64_t id, const std::string& key);

  const transport_options opts;
  const std::shared_ptr<transport_handler> handler;

  std::atomic<std::uint64_t> received{0}, sent{0}, answered{0}, dropped{0}, send_errors{0},
      accepted{0}, open{0};
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> running{false};

  net::io_context ioc;           // before every socket: destroyed after them
  const strand_type udp_strand_; ///< the UDP socket's: read from any thread to post there
  udp_socket udp_socket_;
  std::array<char, udp_buffer_bytes> udp_buffer_{};
  udp::endpoint udp_from_;
  acceptor_type acceptor_;
  timer_type backoff_;
  std::optional<strand_type> pending_strand_;
  net::ip::address bind_address_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;

  /// Guards the registry: open connections by id and by remote "address:port" (the latest).
  std::mutex mu;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> connections;
  std::unordered_map<std::string, std::uint64_t> by_address;

  std::mutex life_mu; ///< serialises start() and stop(); guards the fields below
  bool started = false;
  bool stopping = false;
  bool joined = false;
  std::vector<std::thread> threads;
};

namespace {

/*
  One TCP connection, accepted or opened by send(). Owned by the registry while open and by
  its pending operations; every member function runs on its strand (shut(): after the
  threads are joined).

      outbound: connecting --connected--> open --error, EOF, idle, framing error--> closed
                    | refused, timeout                                        ^
                    +---------------------------------------------------------+
      accepted:                          open

  Sends are queued and written one at a time (also while connecting); whatever is still
  queued when the connection closes is reported through on_send_error.
*/
class connection : public std::enable_shared_from_this<connection> {
public:
  enum class phase : std::uint8_t { connecting, open, closed };

  connection(transport::impl& t, std::uint64_t id, strand_type strand, tcp_socket socket,
             tcp::endpoint remote, phase p)
      : t_(t)
      , id_(id)
      , strand_(std::move(strand))
      , socket_(std::move(socket))
      , timer_(strand_)
      , remote_(std::move(remote))
      , key_(address_key(remote_.address(), remote_.port()))
      , from_{protocol::tcp, remote_.address().to_string(), remote_.port(), id}
      , phase_(p)
      , framer_(t.opts.limits) {}

  const std::string& key() const noexcept { return key_; }
  const strand_type& executor() const noexcept { return strand_; }

  /// An accepted connection: start reading.
  void start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    touch();
    arm_idle();
    read();
  }

  /// An outbound connection: connect, from the transport's address when it is a specific one.
  void connect() {
    error_code ec;
    socket_.open(remote_.protocol(), ec);
    if (ec) return close("cannot open a TCP socket: " + ec.message());
    const auto& local = t_.bind_address_;
    if (!local.is_unspecified() && local.is_v4() == remote_.address().is_v4()) {
      socket_.bind(tcp::endpoint{local, 0}, ec);
      if (ec) return close("cannot bind to " + local.to_string() + ": " + ec.message());
    }
    arm(t_.opts.connect_timeout);
    socket_.async_connect(
        remote_, [self = shared_from_this()](const error_code& cec) { self->on_connect(cec); });
  }

  void enqueue(outgoing out) {
    if (phase_ == phase::closed) {
      if (out.kind == out_kind::send) t_.report(out.to, "TCP connection to " + key_ + " closed");
      return;
    }
    if (queued_bytes_ + out.bytes.size() > max_queued_bytes) {
      if (out.kind == out_kind::send)
        t_.report(out.to, "TCP connection to " + key_ + ": send queue full (peer not reading)");
      return;
    }
    queued_bytes_ += out.bytes.size();
    queue_.push_back(std::move(out));
    write_next();
  }

  /// From stop(), once no thread runs: closes the socket; nothing is reported any more.
  void shut() {
    phase_ = phase::closed;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    queue_.clear();
  }

private:
  void on_connect(const error_code& ec) {
    if (phase_ == phase::closed) return;
    if (ec) return close("TCP connect to " + key_ + " failed: " + ec.message());
    phase_ = phase::open;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    touch();
    timer_.cancel();
    arm_idle();
    read();
    write_next();
  }

  void read() {
    socket_.async_read_some(
        net::buffer(buffer_),
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (phase_ == phase::closed) return;
    if (ec) return close("TCP connection to " + key_ + " closed: " + ec.message());
    touch();
    framer_.append(std::string_view{buffer_.data(), n});
    for (;;) {
      auto f = framer_.next();
      if (f.what == stream_framer::kind::need_more) break;
      if (f.what == stream_framer::kind::ping) {
        enqueue(outgoing{from_, "\r\n", out_kind::pong});
        continue;
      }
      if (f.what == stream_framer::kind::error) {
        // The stream cannot be resynchronised: only this connection goes.
        ++t_.dropped;
        return close("TCP stream from " + key_ + " unusable: " + f.error.to_string());
      }
      if (auto answer = t_.process(f.bytes, framing::stream, from_))
        enqueue(outgoing{from_, std::move(*answer), out_kind::answer});
      if (phase_ == phase::closed) return;
    }
    read();
  }

  void write_next() {
    if (writing_ || phase_ != phase::open || queue_.empty()) return;
    writing_ = true;
    // deque::push_back keeps references valid: the front stays put while it is written.
    const auto& front = queue_.front().bytes;
    net::async_write(
        socket_, net::buffer(front.data(), front.size()),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    writing_ = false;
    if (phase_ == phase::closed) return;
    if (ec) return close("TCP write to " + key_ + " failed: " + ec.message());
    touch();
    auto& done = queue_.front();
    if (done.kind != out_kind::pong) ++t_.sent;
    queued_bytes_ -= done.bytes.size();
    queue_.pop_front();
    write_next();
  }

  void touch() { last_activity_ = steady::now(); }

  void arm(steady::duration d) {
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_timer(ec); });
  }

  void arm_idle() {
    if (t_.opts.idle_timeout.count() > 0) arm(t_.opts.idle_timeout);
  }

  void on_timer(const error_code& ec) {
    if (ec || phase_ == phase::closed) return; // cancelled or re-armed
    if (phase_ == phase::connecting) return close("TCP connect to " + key_ + " timed out");
    const auto idle = steady::now() - last_activity_;
    const steady::duration limit = t_.opts.idle_timeout;
    if (idle >= limit) return close("TCP connection to " + key_ + " closed after idle timeout");
    arm(limit - idle);
  }

  /// Closes the socket, leaves the registry and reports every send still queued.
  void close(const std::string& why) {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    t_.unregister(id_, key_);
    auto lost = std::move(queue_);
    queue_.clear();
    queued_bytes_ = 0;
    for (auto& out : lost)
      if (out.kind == out_kind::send) t_.report(out.to, why);
  }

  transport::impl& t_;
  const std::uint64_t id_;
  const strand_type strand_; ///< the socket's: read from any thread to post here
  tcp_socket socket_;
  timer_type timer_;
  const tcp::endpoint remote_;
  const std::string key_;
  const peer from_; ///< what messages arriving here are from
  phase phase_;
  stream_framer framer_;
  std::array<char, tcp_read_bytes> buffer_{};
  std::deque<outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  steady::time_point last_activity_{};
};

} // namespace

const char* to_string(protocol p) noexcept {
  switch (p) {
  case protocol::udp:
    return "UDP";
  case protocol::tcp:
    return "TCP";
  }
  return "?";
}

// --- receiving ---------------------------------------------------------------------------

std::optional<std::string> transport::impl::process(std::string_view bytes, framing how,
                                                    const peer& from) {
  auto parsed = parse_message(bytes, how, opts.limits);
  if (parsed) {
    message m = std::move(parsed).value();
    if (m.is_request()) stamp_received(m, from.address, from.port);
    ++received;
    try {
      handler->on_message(std::move(m), from);
    } catch (...) {
      // A throwing handler must not take the transport thread down.
    }
    return std::nullopt;
  }
  auto failure = std::move(parsed).err();
  // An ACK is never answered (RFC 3261 section 17.1.1.3).
  if (failure.partial && failure.partial->method != "ACK") {
    stamp_received(*failure.partial, from.address, from.port);
    if (auto answer = make_error_response(failure, random_token())) {
      ++answered;
      return answer->to_string();
    }
  }
  ++dropped;
  return std::nullopt;
}

void transport::impl::receive_udp() {
  udp_socket_.async_receive_from(net::buffer(udp_buffer_), udp_from_,
                                 [this](const error_code& ec, std::size_t n) { on_udp(ec, n); });
}

void transport::impl::on_udp(const error_code& ec, std::size_t n) {
  if (ec == net::error::operation_aborted || !udp_socket_.is_open()) return;
  if (!ec) {
    const std::string_view datagram{udp_buffer_.data(), n};
    // CRLF keep-alives (and empty datagrams) are not messages.
    if (!only_line_breaks(datagram)) {
      const peer from{protocol::udp, udp_from_.address().to_string(), udp_from_.port(), 0};
      // Malformed input is answered where it came from, never where its Via points (maddr,
      // sent-by port): a broken message must not steer our answers at a third party.
      if (auto answer = process(datagram, framing::datagram, from))
        send_udp(std::make_shared<outgoing>(outgoing{from, std::move(*answer), out_kind::answer}));
    }
  }
  // Other errors (an ICMP report surfacing on the socket) concern one datagram: keep going.
  receive_udp();
}

void transport::impl::accept() {
  pending_strand_.emplace(net::make_strand(ioc));
  acceptor_.async_accept(*pending_strand_, [this](const error_code& ec, tcp_socket s) {
    on_accept(ec, std::move(s));
  });
}

void transport::impl::on_accept(const error_code& ec, tcp_socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([this](const error_code& wec) {
      if (!wec && acceptor_.is_open()) accept();
    });
    return;
  }
  error_code rec;
  const auto remote = socket.remote_endpoint(rec);
  std::shared_ptr<connection> conn;
  if (!rec) {
    std::lock_guard lk(mu);
    if (running && connections.size() < opts.max_connections) {
      const auto id = ++next_id;
      conn = std::make_shared<connection>(*this, id, *pending_strand_, std::move(socket), remote,
                                          connection::phase::open);
      connections.emplace(id, conn);
      by_address[conn->key()] = id;
      ++accepted;
      ++open;
    }
  }
  // Not admitted: `socket` closes as it goes out of scope.
  if (conn) net::post(conn->executor(), [conn] { conn->start(); });
  accept();
}

void transport::impl::unregister(std::uint64_t id, const std::string& key) {
  std::shared_ptr<connection> keep; // released outside the lock
  std::lock_guard lk(mu);
  auto it = connections.find(id);
  if (it == connections.end()) return;
  keep = std::move(it->second);
  connections.erase(it);
  if (auto a = by_address.find(key); a != by_address.end() && a->second == id) by_address.erase(a);
  --open;
}

// --- sending -----------------------------------------------------------------------------

void transport::impl::report(const peer& to, std::string what) {
  ++send_errors;
  try {
    handler->on_send_error(to, std::move(what));
  } catch (...) {
    // A throwing handler must not take the transport thread down.
  }
}

void transport::impl::post_report(const peer& to, std::string what) {
  net::post(ioc, [this, to, what = std::move(what)]() mutable { report(to, std::move(what)); });
}

void transport::impl::send_udp(std::shared_ptr<outgoing> out) {
  error_code ec;
  const auto addr = net::ip::make_address(out->to.address, ec);
  if (ec || out->to.port == 0) {
    if (out->kind == out_kind::send)
      report(out->to, "UDP send to " + out->to.address + ":" + std::to_string(out->to.port) +
                          ": not an IP address and port");
    return;
  }
  const udp::endpoint ep{addr, out->to.port};
  const auto& bytes = out->bytes;
  udp_socket_.async_send_to(net::buffer(bytes.data(), bytes.size()), ep,
                            [this, out = std::move(out)](const error_code& sec, std::size_t) {
                              if (!sec) {
                                ++sent;
                                return;
                              }
                              if (out->kind == out_kind::send)
                                report(out->to, "UDP send to " + out->to.address + ":" +
                                                    std::to_string(out->to.port) +
                                                    " failed: " + sec.message());
                            });
}

void transport::impl::send(const peer& to, std::string bytes) {
  if (!running) return; // before start() or after stop(): nobody to tell
  if (to.proto == protocol::udp) {
    if (!opts.udp) return post_report(to, "UDP is not enabled on this transport");
    auto out = std::make_shared<outgoing>(outgoing{to, std::move(bytes), out_kind::send});
    net::post(udp_strand_, [this, out = std::move(out)]() mutable {
      if (udp_socket_.is_open()) send_udp(std::move(out));
    });
    return;
  }
  if (!opts.tcp) return post_report(to, "TCP is not enabled on this transport");

  std::shared_ptr<connection> conn;
  std::optional<std::string> failure;
  {
    std::lock_guard lk(mu);
    if (!running) return;
    if (to.connection != 0)
      if (auto it = connections.find(to.connection); it != connections.end()) conn = it->second;
    if (!conn) {
      error_code ec;
      const auto addr = net::ip::make_address(to.address, ec);
      if (ec || to.port == 0) {
        failure = "TCP send to " + to.address + ":" + std::to_string(to.port) +
                  ": not an IP address and port";
      } else if (auto key = address_key(addr, to.port); by_address.contains(key)) {
        conn = connections.at(by_address.at(key));
      } else if (connections.size() >= opts.max_connections) {
        failure = "TCP send to " + key + ": " + std::to_string(opts.max_connections) +
                  " connections open already";
      } else {
        const auto id = ++next_id;
        auto strand = net::make_strand(ioc);
        conn = std::make_shared<connection>(*this, id, strand, tcp_socket{strand},
                                            tcp::endpoint{addr, to.port},
                                            connection::phase::connecting);
        connections.emplace(id, conn);
        by_address[key] = id;
        ++open;
        net::post(conn->executor(), [conn] { conn->connect(); });
      }
    }
  }
  if (failure) return post_report(to, std::move(*failure));
  net::post(conn->executor(),
            [conn, out = outgoing{to, std::move(bytes), out_kind::send}]() mutable {
              conn->enqueue(std::move(out));
            });
}

// --- life cycle --------------------------------------------------------------------------

status transport::impl::start() {
  std::lock_guard life(life_mu);
  if (started || stopping) return make_error(gobi::errc::internal, "sip transport already started");
  error_code ec;
  bind_address_ = net::ip::make_address(opts.host, ec);
  if (ec)
    return make_error(gobi::errc::invalid_argument,
                      "sip transport host '" + opts.host + "' is not an IP address");
  if (!opts.udp && !opts.tcp)
    return make_error(gobi::errc::invalid_argument,
                      "sip transport has neither UDP nor TCP enabled");

  auto where = [&](std::uint16_t p) { return opts.host + ":" + std::to_string(p); };
  auto close_all = [&] {
    error_code ignored;
    udp_socket_.close(ignored);
    acceptor_.close(ignored);
  };
  // Binds UDP (when enabled) to `p`; answers the bound port or the reason it failed.
  auto bind_udp = [&](std::uint16_t p) -> std::optional<std::string> {
    const udp::endpoint ep{bind_address_, p};
    error_code bec;
    udp_socket_.open(ep.protocol(), bec);
    if (!bec) udp_socket_.bind(ep, bec);
    if (bec) {
      udp_socket_.close(ec);
      return "cannot bind UDP " + where(p) + ": " + bec.message();
    }
    return std::nullopt;
  };
  auto bind_tcp = [&](std::uint16_t p) -> std::optional<std::string> {
    const tcp::endpoint ep{bind_address_, p};
    error_code bec;
    acceptor_.open(ep.protocol(), bec);
    // TIME_WAIT connections of an earlier run must not block the port; two listeners still
    // cannot share it on Linux.
    if (!bec) acceptor_.set_option(net::socket_base::reuse_address(true), bec);
    if (!bec) acceptor_.bind(ep, bec);
    if (!bec) acceptor_.listen(net::socket_base::max_listen_connections, bec);
    if (bec) {
      acceptor_.close(ec);
      return "cannot listen on TCP " + where(p) + ": " + bec.message();
    }
    return std::nullopt;
  };

  std::uint16_t bound = opts.port;
  std::optional<std::string> why;
  if (opts.port != 0 || !opts.udp || !opts.tcp) {
    if (opts.udp) why = bind_udp(opts.port);
    if (!why && opts.udp && opts.port == 0) bound = udp_socket_.local_endpoint(ec).port();
    if (!why && opts.tcp) why = bind_tcp(bound);
    if (!why && opts.tcp && bound == 0) bound = acceptor_.local_endpoint(ec).port();
  } else {
    // Port 0 with both: a free UDP port whose TCP twin is free too.
    for (int attempt = 0; attempt < free_port_attempts; ++attempt) {
      why = bind_udp(0);
      if (why) break;
      bound = udp_socket_.local_endpoint(ec).port();
      why = bind_tcp(bound);
      if (!why) break;
      close_all();
    }
  }
  if (why) {
    close_all();
    return make_error(gobi::errc::unavailable, std::move(*why));
  }
  if (opts.udp) {
    // Asked for; the kernel caps it at net.core.rmem_max.
    udp_socket_.set_option(net::socket_base::receive_buffer_size(opts.udp_receive_buffer_bytes),
                           ec);
  }
  port = bound;

  {
    std::lock_guard lk(mu);
    running = true;
  }
  work_.emplace(ioc.get_executor());
  if (opts.udp) net::post(udp_strand_, [this] { receive_udp(); });
  if (opts.tcp) net::post(acceptor_.get_executor(), [this] { accept(); });
  const unsigned n = opts.threads == 0 ? 1 : opts.threads;
  started = true;
  try {
    for (unsigned i = 0; i < n; ++i)
      threads.emplace_back([this, i] {
        const auto name = "gobi-sip-" + std::to_string(i);
        ::pthread_setname_np(::pthread_self(), name.c_str());
        for (;;) {
          try {
            ioc.run();
            break;
          } catch (...) {
            // Something threw through Asio: keep serving the other calls.
          }
        }
      });
  } catch (const std::system_error& e) {
    stop_locked(); // joins the threads that did start
    return make_error(gobi::errc::unavailable,
                      std::string{"cannot start sip threads: "} + e.what());
  }
  return unit;
}

void transport::impl::stop() {
  std::lock_guard life(life_mu);
  stop_locked();
}

void transport::impl::stop_locked() {
  if (!started) {
    stopping = true; // never started: nothing to close, and no start() later
    return;
  }
  if (!stopping) {
    stopping = true;
    {
      std::lock_guard lk(mu);
      running = false; // send() queues nothing more
    }
    work_.reset();
    ioc.stop();
  }
  if (joined) return;
  // On one of our own threads (a handler called stop()): it cannot join itself; the
  // destructor, on another thread, does.
  const auto self = std::this_thread::get_id();
  for (auto& t : threads)
    if (t.get_id() == self) return;
  for (auto& t : threads)
    if (t.joinable()) t.join();
  threads.clear();
  joined = true;

  // No thread runs any more: sockets may be touched directly. Handlers still queued in the
  // io_context are destroyed with it, never run.
  error_code ec;
  udp_socket_.close(ec);
  acceptor_.close(ec);
  backoff_.cancel();
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> open_now;
  {
    std::lock_guard lk(mu);
    open_now.swap(connections);
    by_address.clear();
    open = 0;
  }
  for (auto& [id, c] : open_now)
    c->shut();
}

// --- transport ---------------------------------------------------------------------------

transport::transport(transport_options opts, std::shared_ptr<transport_handler> handler)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(handler))) {}

transport::~transport() {
  stop();
}

status transport::start() {
  return impl_->start();
}

void transport::stop() {
  impl_->stop();
}

std::uint16_t transport::port() const noexcept {
  return impl_->port;
}

const std::string& transport::host() const noexcept {
  return impl_->opts.host;
}

void transport::send(const peer& to, std::string bytes) {
  impl_->send(to, std::move(bytes));
}

void transport::send(const peer& to, const message& msg) {
  impl_->send(to, msg.to_string());
}

transport_stats transport::stats() const noexcept {
  const auto& i = *impl_;
  transport_stats s;
  s.received = i.received;
  s.sent = i.sent;
  s.malformed_answered = i.answered;
  s.malformed_dropped = i.dropped;
  s.send_errors = i.send_errors;
  s.connections_accepted = i.accepted;
  s.connections_open = i.open;
  return s;
}

} // namespace gobi::sip
