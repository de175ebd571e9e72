#include "transport/http/server.hpp"
#include "transport/json/json.hpp"

#include <doctest/doctest.h>

#include <utility> // before Asio, for GCC 12

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace gobi;
using namespace gobi::http;

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using reply = bhttp::response<bhttp::string_body>;

/// How long the test client waits for the server before failing the test.
constexpr auto client_deadline = std::chrono::seconds(5);

/// A test HTTP client on one raw TCP connection. Every operation runs with a deadline, so a
/// misbehaving server fails the test instead of hanging it.
class client {
public:
  explicit client(std::uint16_t port)
      : stream_(ioc_) {
    stream_.expires_after(client_deadline);
    stream_.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }

  void send(std::string_view raw) {
    beast::error_code ec;
    stream_.expires_after(client_deadline);
    net::async_write(stream_, net::buffer(raw.data(), raw.size()),
                     [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) throw std::runtime_error("client write: " + ec.message());
  }

  /// Reads one response; `head` when it answers a HEAD request (no body follows).
  reply read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    parser.skip(head);
    beast::error_code ec;
    stream_.expires_after(client_deadline);
    bhttp::async_read(stream_, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) throw std::runtime_error("client read: " + ec.message());
    return parser.release();
  }

  reply get(std::string_view target, bool head = false) {
    send(std::string{head ? "HEAD " : "GET "} + std::string{target} +
         " HTTP/1.1\r\nHost: test\r\n\r\n");
    return read(head);
  }

  /// True when the server closed the connection (we read end-of-file or a reset) before
  /// the deadline, with no further bytes.
  bool closed_by_server() {
    beast::error_code ec;
    char c;
    stream_.expires_after(client_deadline);
    stream_.async_read_some(net::buffer(&c, 1), [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    return buffer_.size() == 0 && (ec == net::error::eof || ec == net::error::connection_reset);
  }

private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

/// A server on 127.0.0.1 with an ephemeral port and a handler routing on the path:
///   /echo...  the request as JSON       /thread   answered from another thread
///   /drop     never answered            /hold     answered later by the test
///   /shared   a 50 KB shared body       /headers  extra (some invalid) headers
///   /throw    the handler throws        /nobody   204 No Content
struct fixture {
  std::shared_ptr<const std::string> big = std::make_shared<const std::string>(make_big());
  std::mutex mu;
  std::vector<std::thread> helpers;
  std::vector<responder> held;
  std::unique_ptr<server> srv;

  ~fixture() {
    srv.reset();
    for (auto& t : helpers)
      t.join();
  }

  static std::string make_big() {
    json::writer w;
    w.begin_array();
    for (int i = 0; w.view().size() < 50'000; ++i)
      w.begin_object().field("id", i).field("name", "cached entry").end_object();
    w.end_array();
    return w.take();
  }

  void start(server_options o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    srv = std::make_unique<server>(
        o, [this](request&& rq, responder&& rs) { handle(std::move(rq), std::move(rs)); });
    auto st = srv->start();
    REQUIRE(st.ok());
    REQUIRE(srv->port() != 0);
  }

  std::uint16_t port() const { return srv->port(); }

  void handle(request&& rq, responder&& rs) {
    std::string_view path = rq.path;
    if (path.starts_with("/echo")) {
      json::writer w;
      w.begin_object()
          .field("method", to_string(rq.method))
          .field("target", rq.target)
          .field("path", rq.path)
          .field("query", rq.query)
          .field("q", rq.query_param("q", "none"))
          .field("body", rq.body)
          .field("content_type", rq.content_type)
          .field("authorization", rq.authorization)
          .field("remote", rq.remote_address)
          .field("x_test", rq.header("x-test"))
          .field("headers", static_cast<std::int64_t>(rq.headers.size()))
          .end_object();
      response r;
      r.body = w.take();
      rs(std::move(r));
    } else if (path == "/thread") {
      std::lock_guard lk(mu);
      helpers.emplace_back([r = std::move(rs)]() mutable {
        response resp;
        resp.content_type = "text/plain";
        resp.body = "from another thread";
        r(std::move(resp));
      });
    } else if (path == "/drop") {
      // The responder goes out of scope unanswered.
    } else if (path == "/hold") {
      std::lock_guard lk(mu);
      held.push_back(std::move(rs));
    } else if (path == "/shared") {
      response r;
      r.shared_body = big;
      rs(std::move(r));
    } else if (path == "/headers") {
      response r;
      r.status = 201;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "made";
      r.headers = {{"Location", "/things/1"},
                   {"X-Evil", "a\r\nSet-Cookie: stolen=1"},
                   {"Bad Name", "x"},
                   {"Content-Length", "999"}};
      rs(std::move(r));
    } else if (path == "/throw") {
      throw std::runtime_error("handler bug");
    } else if (path == "/nobody") {
      response r;
      r.status = 204;
      rs(std::move(r));
    } else {
      response r;
      r.status = 404;
      r.body = R"({"error":{"code":"not_found","message":"no route"}})";
      rs(std::move(r));
    }
  }
};

json::document body_json(const reply& r) {
  auto doc = json::parse(r.body());
  REQUIRE(doc);
  return std::move(doc).value();
}

std::string field(const json::document& d, std::string_view key) {
  auto v = d.root().get(key);
  REQUIRE(v);
  return std::string{v->as_string()};
}

/// Waits for `cond` with a deadline: for effects that land just after the client saw its reply.
template <class F> bool eventually(F cond) {
  auto until = std::chrono::steady_clock::now() + client_deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

} // namespace

TEST_CASE_FIXTURE(fixture, "GET: status, standard headers and the request's fields") {
  start();
  client c{port()};
  c.send("GET /echo/a%20b%2Fc?x=1&q=hello+w%C3%B6rld HTTP/1.1\r\nHost: test\r\n"
         "X-Test: Yes\r\nAuthorization: Bearer k1\r\n\r\n");
  reply r = c.read();
  CHECK(r.result_int() == 200);
  CHECK(r[bhttp::field::server] == "gobi");
  CHECK(r[bhttp::field::content_type] == "application/json");
  CHECK(r[bhttp::field::content_length] == std::to_string(r.body().size()));
  CHECK_FALSE(r[bhttp::field::date].empty());
  CHECK(r.keep_alive());
  auto d = body_json(r);
  CHECK(field(d, "method") == "GET");
  CHECK(field(d, "target") == "/echo/a%20b%2Fc?x=1&q=hello+w%C3%B6rld");
  CHECK(field(d, "path") == "/echo/a b/c");
  CHECK(field(d, "query") == "x=1&q=hello+w%C3%B6rld");
  CHECK(field(d, "q") == "hello w\xC3\xB6rld");
  CHECK(field(d, "x_test") == "Yes");
  CHECK(field(d, "authorization") == "Bearer k1");
  CHECK(field(d, "remote") == "127.0.0.1");
  CHECK(d.root().get("headers")->as_int() == 3);
}

TEST_CASE_FIXTURE(fixture, "absolute-form targets route on their path") {
  start();
  client c{port()};
  struct row {
    std::string_view target, path, query;
  };
  for (auto [target, path, query] :
       std::vector<row>{{"http://example.com/echo/x?q=1", "/echo/x", "q=1"},
                        {"https://example.com:8443/echo", "/echo", ""}}) {
    CAPTURE(target);
    reply r = c.get(target);
    REQUIRE(r.result_int() == 200);
    auto d = body_json(r);
    CHECK(field(d, "path") == path);
    CHECK(field(d, "query") == query);
    CHECK(field(d, "target") == target);
  }
}

TEST_CASE_FIXTURE(fixture, "an error after a HEAD request still carries its body") {
  start();
  client c{port()};
  CHECK(c.get("/shared", true).result_int() == 200);
  c.send("GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n");
  reply r = c.read();
  CHECK(r.result_int() == 400);
  CHECK(r.body().find("malformed HTTP request") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "POST: the body and its content type reach the handler") {
  start();
  client c{port()};
  c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n"
         "Content-Length: 11\r\n\r\nhello world");
  reply r = c.read();
  CHECK(r.result_int() == 200);
  auto d = body_json(r);
  CHECK(field(d, "method") == "POST");
  CHECK(field(d, "body") == "hello world");
  CHECK(field(d, "content_type") == "text/plain");

  // Chunked bodies are assembled.
  c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto d2 = body_json(c.read());
  CHECK(field(d2, "method") == "PUT");
  CHECK(field(d2, "body") == "hello world");
}

TEST_CASE_FIXTURE(fixture, "keep-alive: several requests on one connection") {
  start();
  client c{port()};
  for (int i = 0; i < 5; ++i) {
    reply r = c.get("/echo?q=" + std::to_string(i));
    CHECK(r.result_int() == 200);
    CHECK(field(body_json(r), "q") == std::to_string(i));
  }
  CHECK(c.get("/thread").body() == "from another thread");
  CHECK(c.get("/nowhere").result_int() == 404);
  CHECK(c.get("/echo?q=last").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "pipelined requests are answered in order") {
  start();
  client c{port()};
  std::string batch;
  for (std::string_view target : {"/echo?q=1", "/thread", "/echo?q=3", "/shared", "/echo?q=5"})
    batch += "GET " + std::string{target} + " HTTP/1.1\r\nHost: test\r\n\r\n";
  c.send(batch);
  CHECK(field(body_json(c.read()), "q") == "1");
  CHECK(c.read().body() == "from another thread");
  CHECK(field(body_json(c.read()), "q") == "3");
  CHECK(c.read().body() == *big);
  CHECK(field(body_json(c.read()), "q") == "5");
}

TEST_CASE_FIXTURE(fixture, "a responder called from another thread") {
  start();
  client c{port()};
  reply r = c.get("/thread");
  CHECK(r.result_int() == 200);
  CHECK(r[bhttp::field::content_type] == "text/plain");
  CHECK(r.body() == "from another thread");
}

TEST_CASE_FIXTURE(fixture, "a dropped responder answers 500 and the connection lives on") {
  start();
  client c{port()};
  for (std::string_view target : {"/drop", "/throw"}) {
    reply r = c.get(target);
    CHECK(r.result_int() == 500);
    CHECK(r.body() == R"({"error":{"code":"internal_error","message":"no response"}})");
  }
  CHECK(c.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "Content-Length over the limit: 413 at once, then close") {
  server_options o;
  o.body_limit = 1024;
  start(o);
  {
    client c{port()};
    // The body is never sent: the 413 must not wait for it.
    c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n");
    reply r = c.read();
    CHECK(r.result_int() == 413);
    CHECK_FALSE(r.keep_alive());
    auto d = body_json(r);
    CHECK(d.root().get("error")->get("code")->as_string() == "too_large");
    CHECK(d.root().get("error")->get("message")->as_string() == "request body exceeds 1024 bytes");
    CHECK(c.closed_by_server());
  }
  {
    // A client that keeps sending still reads its 413.
    client c{port()};
    c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 200000\r\n\r\n" +
           std::string(100000, 'x'));
    CHECK(c.read().result_int() == 413);
  }
  {
    // Exactly at the limit is fine.
    client c{port()};
    c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1024\r\n\r\n" +
           std::string(1024, 'y'));
    CHECK(c.read().result_int() == 200);
  }
  client next{port()};
  CHECK(next.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "a chunked body growing over the limit: 413") {
  server_options o;
  o.body_limit = 1024;
  start(o);
  client c{port()};
  c.send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
         "300\r\n" +
         std::string(0x300, 'a') + "\r\n300\r\n" + std::string(0x300, 'b') + "\r\n0\r\n\r\n");
  reply r = c.read();
  CHECK(r.result_int() == 413);
  CHECK(c.closed_by_server());
  client next{port()};
  CHECK(next.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "garbage: 400 and close") {
  start();
  for (std::string_view garbage :
       {std::string_view{"\x16\x03\x01\x02\x00 binary\r\n\r\n", 16},
        std::string_view{"GET / HTTP/9.9\r\n\r\n"}, std::string_view{"GET /\r\n\r\n"},
        std::string_view{"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"}}) {
    CAPTURE(garbage);
    client c{port()};
    c.send(garbage);
    reply r = c.read();
    CHECK(r.result_int() == 400);
    CHECK(r[bhttp::field::connection] == "close");
    auto d = body_json(r);
    CHECK(d.root().get("error")->get("code")->as_string() == "invalid_argument");
    CHECK(
        d.root().get("error")->get("message")->as_string().starts_with("malformed HTTP request: "));
    CHECK(c.closed_by_server());
  }
  client next{port()};
  CHECK(next.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "headers over the limit: 431") {
  server_options o;
  o.header_limit = 1024;
  start(o);
  client c{port()};
  c.send("GET /echo HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n");
  reply r = c.read();
  CHECK(r.result_int() == 431);
  CHECK(body_json(r).root().get("error")->get("code")->as_string() == "header_too_large");
  CHECK(c.closed_by_server());
}

TEST_CASE_FIXTURE(fixture, "HEAD: headers only, with the body's length") {
  start();
  client c{port()};
  reply r = c.get("/shared", true);
  CHECK(r.result_int() == 200);
  CHECK(r[bhttp::field::content_length] == std::to_string(big->size()));
  CHECK(r.body().empty());
  // No body bytes followed: the next response on the connection parses.
  CHECK(c.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "shared bodies are sent whole and released after the write") {
  start();
  client c{port()};
  for (int i = 0; i < 3; ++i) {
    reply r = c.get("/shared");
    CHECK(r.result_int() == 200);
    CHECK(r.body() == *big);
  }
  CHECK(eventually([&] { return big.use_count() == 1; }));
}

TEST_CASE_FIXTURE(fixture, "extra headers: valid ones sent, injected or reserved ones dropped") {
  start();
  client c{port()};
  reply r = c.get("/headers");
  CHECK(r.result_int() == 201);
  CHECK(r[bhttp::field::location] == "/things/1");
  CHECK(r[bhttp::field::content_type] == "text/plain; charset=utf-8");
  CHECK(r[bhttp::field::content_length] == "4");
  CHECK(r.count("X-Evil") == 0);
  CHECK(r.count(bhttp::field::set_cookie) == 0);
  CHECK(r.body() == "made");

  reply none = c.get("/nobody");
  CHECK(none.result_int() == 204);
  CHECK(none.count(bhttp::field::content_length) == 0);
  CHECK(c.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "HTTP/1.0 and Connection: close end the connection") {
  start();
  {
    client c{port()};
    c.send("GET /echo HTTP/1.0\r\n\r\n");
    reply r = c.read();
    CHECK(r.version() == 10);
    CHECK(r.result_int() == 200);
    CHECK(c.closed_by_server());
  }
  {
    client c{port()};
    c.send("GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    reply r = c.read();
    CHECK(r[bhttp::field::connection] == "close");
    CHECK(c.closed_by_server());
  }
}

TEST_CASE_FIXTURE(fixture, "Expect: 100-continue") {
  start();
  client c{port()};
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  CHECK(c.read().result_int() == 100);
  c.send("data");
  reply r = c.read();
  CHECK(r.result_int() == 200);
  CHECK(field(body_json(r), "body") == "data");
}

TEST_CASE_FIXTURE(fixture, "an idle connection is closed after the idle timeout") {
  server_options o;
  o.idle_timeout_s = 1;
  start(o);
  client c{port()};
  CHECK(c.get("/echo").result_int() == 200);
  CHECK(c.closed_by_server());
}

TEST_CASE_FIXTURE(fixture, "connections over max_connections get 503") {
  server_options o;
  o.max_connections = 1;
  start(o);
  client first{port()};
  CHECK(first.get("/echo").result_int() == 200);
  {
    client second{port()};
    reply r = second.read(); // answered without a request
    CHECK(r.result_int() == 503);
    CHECK(second.closed_by_server());
  }
  CHECK(first.get("/echo").result_int() == 200);
}

TEST_CASE_FIXTURE(fixture, "stop() closes open connections and joins") {
  start();
  client idle{port()};
  CHECK(idle.get("/echo").result_int() == 200);
  client waiting{port()};
  waiting.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  REQUIRE(eventually([&] {
    std::lock_guard lk(mu);
    return held.size() == 1;
  }));

  auto t0 = std::chrono::steady_clock::now();
  srv->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  CHECK(idle.closed_by_server());
  CHECK(waiting.closed_by_server());
  srv->stop(); // idempotent

  // The held responder outlives the server's threads: answering or dropping it is harmless.
  held[0](response{});
  held.clear();
  CHECK_THROWS(client{port()});
  srv.reset();
}

TEST_CASE_FIXTURE(fixture, "a responder may outlive the server itself") {
  start();
  client waiting{port()};
  waiting.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  REQUIRE(eventually([&] {
    std::lock_guard lk(mu);
    return held.size() == 1;
  }));
  srv.reset();
  held.clear(); // answers 500 into a connection whose server is gone
}

TEST_CASE("start() reports an address in use") {
  fixture a;
  a.start();
  server_options o;
  o.host = "127.0.0.1";
  o.port = a.port();
  server b{o, [](request&&, responder&&) {}};
  auto st = b.start();
  REQUIRE_FALSE(st.ok());
  CHECK(st.err().code == errc::unavailable);
  CHECK(st.err().message.find("cannot listen on 127.0.0.1:") == 0);
}

TEST_CASE("start() resolves host names") {
  server_options o;
  o.host = "localhost";
  o.port = 0;
  server s{o, [](request&&, responder&& r) { r(response{}); }};
  REQUIRE(s.start().ok());
  CHECK(s.port() != 0);
}

TEST_CASE_FIXTURE(fixture, "many clients at once, answered from transport and other threads") {
  start();
  constexpr int clients = 8;
  constexpr int requests = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      try {
        client c{port()};
        for (int i = 0; i < requests; ++i) {
          std::string_view target = i % 3 == 0 ? "/thread" : i % 3 == 1 ? "/shared" : "/echo";
          reply r = c.get(std::string{target} + "?q=" + std::to_string(t * 1000 + i));
          bool good =
              r.result_int() == 200 && (target != "/shared" || r.body().size() == big->size()) &&
              (target != "/echo" || r.body().find("\"q\":\"" + std::to_string(t * 1000 + i) +
                                                  "\"") != std::string::npos);
          if (good) ++ok;
        }
      } catch (const std::exception&) {
        // counted as failures below
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(ok == clients * requests);
}

TEST_CASE_FIXTURE(fixture, "drain() answers requests in flight, closes idle ones, then stops") {
  start();
  client idle{port()};
  CHECK(idle.get("/echo").result_int() == 200);
  client waiting{port()};
  waiting.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  REQUIRE(eventually([&] {
    std::lock_guard lk(mu);
    return held.size() == 1;
  }));
  // Answer the held request from another thread while drain() waits for it.
  std::thread answer{[this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard lk(mu);
    response r;
    r.body = R"({"late":true})";
    held[0](std::move(r));
    held.clear();
  }};
  bool all_answered = srv->drain(std::chrono::seconds(5));
  answer.join();
  CHECK(all_answered);
  auto r = waiting.read();
  CHECK(r.result_int() == 200);
  CHECK(r.body() == R"({"late":true})");
  CHECK(waiting.closed_by_server());
  CHECK(idle.closed_by_server());
  CHECK_THROWS(client{port()});
}

TEST_CASE_FIXTURE(fixture, "drain() gives up on an unanswered request after its timeout") {
  start();
  client waiting{port()};
  waiting.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
  REQUIRE(eventually([&] {
    std::lock_guard lk(mu);
    return held.size() == 1;
  }));
  CHECK_FALSE(srv->drain(std::chrono::milliseconds(100)));
  CHECK(waiting.closed_by_server());
  held.clear();
}
