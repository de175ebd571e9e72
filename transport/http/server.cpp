#include "transport/http/server.hpp"

#include "transport/json/json.hpp"

#include <utility> // before Asio, for GCC 12

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace gobi::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using strand_type = net::strand<net::io_context::executor_type>;
/// Streams and sockets typed on the strand itself rather than Asio's type-erased
/// any_io_executor: every operation skips the type erasure (measurable at 30k+ requests/s).
using socket_type = net::basic_stream_socket<tcp, strand_type>;
using stream_type = beast::basic_stream<tcp, strand_type, beast::unlimited_rate_policy>;

/// After an error response (400, 413, 431, 503) the client may still be sending; closing at
/// once would make the kernel reset the connection and could destroy the response before the
/// client reads it. So we stop sending and read and discard for at most this long, or this
/// many bytes, before closing.
constexpr auto linger_timeout = std::chrono::milliseconds(2000);
constexpr std::size_t linger_limit_bytes = 16u << 20;
/// How long stop() lets connections and handlers finish before stopping the io_context.
constexpr auto stop_grace = std::chrono::seconds(5);
/// Pause before accepting again after accept failed (e.g. out of file descriptors).
constexpr auto accept_backoff = std::chrono::milliseconds(100);

verb from_beast(bhttp::verb v) noexcept {
  switch (v) {
  case bhttp::verb::get:
    return verb::get;
  case bhttp::verb::head:
    return verb::head;
  case bhttp::verb::post:
    return verb::post;
  case bhttp::verb::put:
    return verb::put;
  case bhttp::verb::patch:
    return verb::patch;
  case bhttp::verb::delete_:
    return verb::del;
  case bhttp::verb::options:
    return verb::options;
  default:
    return verb::other;
  }
}

/// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted at most
/// once a second per thread. Written by hand: strftime's names depend on the locale.
std::string_view http_date() {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached = -1;
  thread_local char buf[32];
  thread_local std::size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                          days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                          tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    len = n > 0 ? static_cast<std::size_t>(n) : 0;
    cached = now;
  }
  return {buf, len};
}

/// RFC 7230 token characters, for header names.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
              std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

/// A header value must not smuggle a line break (response splitting) or a NUL.
bool is_field_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// Headers the server writes itself; a handler's copies are dropped.
bool is_reserved_header(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "content-type") ||
         iequals(name, "transfer-encoding") || iequals(name, "connection") ||
         iequals(name, "server") || iequals(name, "date");
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

/// Whether a status may carry a body and Content-Length (RFC 7230 section 3.3).
bool status_has_body(unsigned status) noexcept {
  return status >= 200 && status != 204 && status != 304;
}

enum class conn_mode { keep_alive, close };

/// Writes the status line and headers of `r` into `out` (cleared first, capacity kept).
void compose_head(std::string& out, unsigned version, const response& r, std::size_t body_size,
                  conn_mode mode) {
  unsigned status = r.status >= 100 && r.status <= 999 ? r.status : 500;
  std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (reason.empty() || reason.front() == '<') reason = "Unknown";
  out.clear();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, status);
  out.push_back(' ');
  out.append(reason);
  out.append("\r\nServer: gobi\r\nDate: ");
  out.append(http_date());
  if (status_has_body(status)) {
    out.append("\r\nContent-Type: ");
    bool ct_ok = !r.content_type.empty() && is_field_value(r.content_type);
    out.append(ct_ok ? std::string_view{r.content_type} : "application/octet-stream");
    out.append("\r\nContent-Length: ");
    append_number(out, body_size);
  }
  if (mode == conn_mode::close)
    out.append("\r\nConnection: close");
  else if (version == 10)
    out.append("\r\nConnection: keep-alive");
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name) || !is_field_value(value) || is_reserved_header(name)) continue;
    out.append("\r\n");
    out.append(name);
    out.append(": ");
    out.append(value);
  }
  out.append("\r\n\r\n");
}

response error_response(unsigned status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  json::writer w;
  w.begin_object().key("error").begin_object();
  w.field("code", code).field("message", message);
  w.end_object().end_object();
  r.body = w.take();
  return r;
}

class connection;

/// What the server, its connections and outstanding responders share. Connections hold it by
/// shared_ptr, so the io_context outlives every socket and strand even when a responder
/// still held by an actor outlives the server.
struct core {
  core(server_options o, handler h)
      : opts(std::move(o))
      , on_request(std::move(h))
      , ioc(static_cast<int>(opts.threads == 0 ? 1 : opts.threads)) {}

  const server_options opts;
  const handler on_request;
  net::io_context ioc;

  /// Guards the fields below. Never held while a connection could be destroyed (its
  /// destructor takes it).
  std::mutex mu;
  bool stopping = false; ///< set by stop(): no new connections, responders drop answers
  bool draining = false; ///< set by drain(): answer what is in flight, then close
  std::size_t busy = 0;  ///< requests handed to the handler whose answer is not written yet
  std::condition_variable idle_cv; ///< signalled when `busy` drops
  std::uint64_t next_id = 0;
  std::size_t admitted = 0; ///< connections counted against max_connections
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> connections;
};

/*
  One accepted TCP connection. Owned by shared_ptrs held by its pending asynchronous
  operations and by the responder of the request in flight; every member function except
  respond() runs on the connection's strand.

      start
        |
        v
    +-> reading --header/body error--> write 4xx --> lingering --> closed
    |     | request complete
    |     v
    |   awaiting (handler has the responder; nothing is read meanwhile)
    |     | respond()
    |     v
    +-- writing --not keep-alive--> closed

  Reading the next request only after the response is written keeps pipelined responses in
  order and bounds the memory per connection.
*/
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(std::shared_ptr<core> c, socket_type socket, strand_type strand)
      : core_(std::move(c))
      , strand_(std::move(strand))
      , stream_(std::move(socket)) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  ~connection() {
    if (id_ == 0 && !counted_) return;
    std::lock_guard lk(core_->mu);
    if (counted_) {
      --core_->busy;
      core_->idle_cv.notify_all();
    }
    if (id_ == 0) return;
    core_->connections.erase(id_);
    if (admitted_) --core_->admitted;
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Set by the acceptor, under core::mu, before the connection runs.
  void registered(std::uint64_t id, bool admitted) {
    id_ = id;
    admitted_ = admitted;
  }

  const strand_type& strand() const noexcept { return strand_; }

  void start() { read_header(); }

  /// Over max_connections: answer 503 and close.
  void reject() { fail(503, "unavailable", "too many connections; try again later"); }

  /// From drain(), on the strand: a connection waiting for its next request closes now; one
  /// whose request is with the handler closes after writing the answer (see on_write).
  void quiesce() {
    if (phase_ == phase::reading) shut();
  }

  /// From stop(): closes the socket, which aborts whatever operation is pending.
  void shut() {
    phase_ = phase::closed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  /// The responder's send function: callable from any thread.
  void respond(response r) noexcept {
    try {
      if (strand_.running_in_this_thread()) {
        write(std::move(r));
        return;
      }
      // Posting under the lock means stop() cannot finish in between: once it has set
      // `stopping` and joined the threads, nothing more is queued on the io_context.
      std::lock_guard lk(core_->mu);
      if (core_->stopping) return;
      net::post(strand_, [self = shared_from_this(), r = std::move(r)]() mutable {
        self->write(std::move(r));
      });
    } catch (...) {
      // Out of memory while queueing: the client times out rather than a thread dying.
    }
  }

private:
  enum class phase { reading, awaiting, writing, lingering, closed };

  /// Bounds the next read or write by the idle timeout (0: no timeout).
  void arm_idle_timer() {
    if (core_->opts.idle_timeout_s == 0)
      stream_.expires_never();
    else
      stream_.expires_after(std::chrono::seconds(core_->opts.idle_timeout_s));
  }

  void read_header() {
    phase_ = phase::reading;
    version_ = 11; // until a request says otherwise: errors answer as HTTP/1.1 with a body
    head_request_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        core_->opts.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(core_->opts.body_limit);
    arm_idle_timer();
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return dispatch();
    const auto& msg = parser_->get();
    if (msg.version() >= 11 && iequals(msg[bhttp::field::expect], "100-continue")) {
      // The client waits for this before sending the body (curl does for large uploads).
      static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(continue_line.data(), continue_line.size()),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->dispatch();
                      });
  }

  void on_read_error(beast::error_code ec) {
    if (phase_ == phase::closed) return;
    if (ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category() ||
        ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
      return close(); // the peer left, timed out, or stop() closed us: nobody to answer
    if (ec == bhttp::error::header_limit)
      return fail(431, "header_too_large",
                  "request headers exceed " + std::to_string(core_->opts.header_limit) + " bytes");
    if (ec == bhttp::error::body_limit)
      return fail(413, "too_large",
                  "request body exceeds " + std::to_string(core_->opts.body_limit) + " bytes");
    return fail(400, "invalid_argument", "malformed HTTP request: " + ec.message());
  }

  /// Hands the complete request to the handler; the connection then waits for the answer.
  void dispatch() {
    auto& msg = parser_->get();
    request req;
    req.method = from_beast(msg.method());
    req.target = std::string{msg.target()};
    std::string_view target = req.target;
    // Absolute form ("http://host/path?q", RFC 7230 section 5.3.2): route on the path.
    if (target.starts_with("http://") || target.starts_with("https://")) {
      auto authority_end = target.find_first_of("/?", target.find("//") + 2);
      target = authority_end == target.npos ? std::string_view{} : target.substr(authority_end);
    }
    auto q = target.find('?');
    req.path = percent_decode(target.substr(0, q));
    if (req.path.empty()) req.path = "/";
    if (q != std::string_view::npos) req.query = std::string{target.substr(q + 1)};
    req.headers.reserve(8);
    for (const auto& f : msg) {
      std::string name{f.name_string()};
      for (char& c : name)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (name == "content-type" && req.content_type.empty())
        req.content_type = std::string{f.value()};
      else if (name == "authorization" && req.authorization.empty())
        req.authorization = std::string{f.value()};
      req.headers.emplace_back(std::move(name), std::string{f.value()});
    }
    req.remote_address = remote_;
    req.body = std::move(msg.body());
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    head_request_ = req.method == verb::head;
    parser_.reset();

    phase_ = phase::awaiting;
    {
      std::lock_guard lk(core_->mu);
      ++core_->busy;
      counted_ = true;
    }
    stream_.expires_never(); // the handler's time is the actors' business, not a read timeout
    responder r{[self = shared_from_this()](response resp) { self->respond(std::move(resp)); }};
    try {
      core_->on_request(std::move(req), std::move(r));
    } catch (...) {
      // A throwing handler must not take the transport thread down; if it did not answer,
      // the responder's destructor sends the 500.
    }
  }

  void write(response r) {
    if (phase_ != phase::awaiting) return; // closed meanwhile, or a second answer
    phase_ = phase::writing;
    out_ = std::move(r);
    send(keep_alive_ ? conn_mode::keep_alive : conn_mode::close);
  }

  /// Writes `out_` (header and body in one gather write: the body is never copied).
  void send(conn_mode mode) {
    std::string_view body = out_.body_view();
    bool has_body = status_has_body(out_.status);
    compose_head(head_, version_, out_, has_body ? body.size() : 0, mode);
    if (head_request_ || !has_body) body = {};
    std::array<net::const_buffer, 2> buffers{net::buffer(head_.data(), head_.size()),
                                             net::buffer(body.data(), body.size())};
    arm_idle_timer();
    net::async_write(stream_, buffers,
                     [self = shared_from_this(), mode](beast::error_code ec, std::size_t) {
                       self->on_write(ec, mode);
                     });
  }

  void on_write(beast::error_code ec, conn_mode mode) {
    out_ = response{}; // releases a shared body as soon as it is on the wire
    bool draining = release();
    if (ec || phase_ == phase::closed) return close();
    if (phase_ == phase::lingering) return linger();
    if (mode == conn_mode::close || draining) return close();
    read_header();
  }

  /// The answer to a dispatched request is written (or never will be): stop counting it.
  /// Answers whether the server is draining.
  bool release() {
    bool draining = false;
    {
      std::lock_guard lk(core_->mu);
      if (counted_) {
        --core_->busy;
        counted_ = false;
      }
      draining = core_->draining;
    }
    core_->idle_cv.notify_all();
    return draining;
  }

  /// Answers an error that ends the connection, then lingers before closing.
  void fail(unsigned status, std::string_view code, const std::string& message) {
    parser_.reset();
    phase_ = phase::lingering;
    out_ = error_response(status, code, message);
    send(conn_mode::close);
  }

  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    buffer_.clear();
    stream_.expires_after(linger_timeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](
                                                            beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > linger_limit_bytes || self->phase_ == phase::closed)
        return self->close();
      self->drain();
    });
  }

  void close() {
    release();
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  std::shared_ptr<core> core_;
  strand_type strand_;
  stream_type stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  std::string head_; ///< the response header being written; its capacity is reused
  response out_;     ///< the response being written: keeps its (shared) body alive
  phase phase_ = phase::reading;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_request_ = false;
  std::size_t lingered_ = 0;
  std::uint64_t id_ = 0;
  bool admitted_ = false;
  bool counted_ = false; ///< counted in core::busy (guarded by core::mu)
};

} // namespace

/// The listener: owned by the server; its acceptor and back-off timer run on one strand.
struct server::impl {
  impl(server_options opts, handler h)
      : core_(std::make_shared<core>(std::move(opts), std::move(h)))
      , acceptor_(net::make_strand(core_->ioc))
      , backoff_(acceptor_.get_executor()) {}

  status start();
  void stop();
  void stop_locked(); ///< stop() with life_mu_ held
  /// Sets `flag` (stopping or draining) under the core's lock, closes the acceptor on its
  /// executor, and answers the connections open now (kept alive by the vector).
  std::vector<std::shared_ptr<connection>> close_intake(bool core::*flag);
  bool drain(std::chrono::milliseconds timeout);

  void accept() {
    pending_strand_.emplace(net::make_strand(core_->ioc));
    acceptor_.async_accept(*pending_strand_, [this](beast::error_code ec, socket_type s) {
      on_accept(ec, std::move(s));
    });
  }

  void on_accept(beast::error_code ec, socket_type socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      backoff_.expires_after(accept_backoff);
      backoff_.async_wait([this](beast::error_code wec) {
        if (!wec && acceptor_.is_open()) accept();
      });
      return;
    }
    auto conn = std::make_shared<connection>(core_, std::move(socket), *pending_strand_);
    bool admitted = false;
    bool stopping = false;
    {
      std::lock_guard lk(core_->mu);
      stopping = core_->stopping;
      if (!stopping) {
        admitted = core_->admitted < core_->opts.max_connections;
        if (admitted) ++core_->admitted;
        std::uint64_t id = ++core_->next_id;
        conn->registered(id, admitted);
        core_->connections.emplace(id, conn);
      }
    }
    if (stopping) return; // `conn` closes its socket as it goes
    net::post(conn->strand(), [conn, admitted] { admitted ? conn->start() : conn->reject(); });
    accept();
  }

  std::shared_ptr<core> core_; // first: destroyed last
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  std::optional<strand_type> pending_strand_;
  std::atomic<std::uint16_t> port_{0};
  /// Keeps run() from returning until stop() has queued every close: without it the threads
  /// could run out of work between two of those posts and leave the rest queued forever.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;

  std::mutex life_mu_; ///< serialises start() and stop(); guards the fields below
  bool started_ = false;
  bool closing_ = false; ///< stop() has begun closing
  bool joined_ = false;  ///< stop() has joined the threads
  std::vector<std::thread> threads_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::size_t threads_done_ = 0;
};

status server::impl::start() {
  std::lock_guard life(life_mu_);
  if (started_) return make_error(errc::internal, "http server already started");
  const auto& o = core_->opts;
  std::string where = o.host + ":" + std::to_string(o.port);
  auto fail = [&](std::string_view what, const beast::error_code& ec) -> error {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return make_error(errc::unavailable,
                      "cannot listen on " + where + ": " + std::string{what} + ": " + ec.message());
  };

  beast::error_code ec;
  tcp::endpoint ep;
  auto addr = net::ip::make_address(o.host, ec);
  if (!ec) {
    ep = tcp::endpoint{addr, o.port};
  } else {
    // A host name ("localhost"): resolved once, at start-up.
    tcp::resolver resolver{core_->ioc};
    auto found = resolver.resolve(o.host, std::to_string(o.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty()) return fail("resolve", ec);
    ep = found.begin()->endpoint();
  }
  acceptor_.open(ep.protocol(), ec);
  if (ec) return fail("open", ec);
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR", ec);
  acceptor_.bind(ep, ec);
  if (ec) return fail("bind", ec);
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  port_ = acceptor_.local_endpoint(ec).port();

  work_.emplace(core_->ioc.get_executor());
  accept();
  unsigned n = o.threads == 0 ? 1 : o.threads;
  try {
    for (unsigned i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        for (;;) {
          try {
            core_->ioc.run();
            break;
          } catch (...) {
            // A handler threw through Asio: keep serving the other connections.
          }
        }
        std::lock_guard lk(done_mu_);
        ++threads_done_;
        done_cv_.notify_all();
      });
  } catch (const std::system_error& e) {
    started_ = true; // so that stop_locked() joins the threads that did start
    stop_locked();
    return make_error(errc::unavailable, std::string{"cannot start http threads: "} + e.what());
  }
  started_ = true;
  return unit;
}

void server::impl::stop() {
  std::lock_guard life(life_mu_);
  stop_locked();
}

bool server::impl::drain(std::chrono::milliseconds timeout) {
  {
    std::lock_guard life(life_mu_);
    if (!started_ || closing_) return true;
    for (auto& c : close_intake(&core::draining))
      net::post(c->strand(), [c] { c->quiesce(); });
  }
  bool idle = false;
  {
    std::unique_lock lk(core_->mu);
    idle = core_->idle_cv.wait_for(lk, timeout, [&] { return core_->busy == 0; });
  }
  stop();
  return idle;
}

std::vector<std::shared_ptr<connection>> server::impl::close_intake(bool core::*flag) {
  std::vector<std::shared_ptr<connection>> open;
  {
    std::lock_guard lk(core_->mu);
    (*core_).*flag = true;
    for (auto& [id, weak] : core_->connections)
      if (auto c = weak.lock()) open.push_back(std::move(c));
  }
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
  });
  return open;
}

void server::impl::stop_locked() {
  if (!started_ || joined_) return;
  if (!closing_) {
    closing_ = true;
    auto open = close_intake(&core::stopping);
    for (auto& c : open)
      net::post(c->strand(), [c] { c->shut(); });
    open.clear(); // outside core::mu: this may destroy connections
    // Everything is queued: the threads may now run out of work and return.
    work_.reset();
  }

  // Called from one of our own threads (a handler): it cannot join itself. Closing is under
  // way; a later stop() or the destructor, on another thread, joins.
  auto self = std::this_thread::get_id();
  for (auto& t : threads_)
    if (t.get_id() == self) return;

  {
    std::unique_lock lk(done_mu_);
    if (!done_cv_.wait_for(lk, stop_grace, [&] { return threads_done_ == threads_.size(); }))
      core_->ioc.stop(); // something is still running (a stuck handler?): stop regardless
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  joined_ = true;
  beast::error_code ec;
  acceptor_.close(ec); // no thread runs any more: safe to touch directly
}

server::server(server_options opts, handler h)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(h))) {}

server::~server() {
  stop();
}

status server::start() {
  return impl_->start();
}

void server::stop() {
  impl_->stop();
}

bool server::drain(std::chrono::milliseconds timeout) {
  return impl_->drain(timeout);
}

std::uint16_t server::port() const noexcept {
  return impl_->port_;
}

} // namespace gobi::http
