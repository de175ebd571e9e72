#include "transport/sip/transport.hpp"

#include "domain/sip/builder.hpp"
#include "helpers.hpp"

#include <doctest/doctest.h>

using namespace gobi;
using namespace gobi::sip;
using namespace gobi::sip::test;
using namespace std::chrono_literals;

namespace {

const std::string tcp_via = "TCP 192.0.2.1:5070;branch=z9hG4bKt1;rport";

} // namespace

TEST_CASE("sip transport tcp: two messages in one write, one message over many writes") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  tcp_peer c{t->port()};
  c.write(options_request("one@x", tcp_via) + options_request("two@x", tcp_via));
  REQUIRE(h->wait_for(2));
  const auto a = h->at(0), b = h->at(1);
  CHECK(a.msg.call_id().value() == "one@x");
  CHECK(b.msg.call_id().value() == "two@x");
  CHECK(a.from.proto == protocol::tcp);
  CHECK(a.from.address == "127.0.0.1");
  CHECK(a.from.port == c.port());
  CHECK(a.from.connection != 0);
  CHECK(b.from.connection == a.from.connection);
  const auto via = a.msg.top_via();
  REQUIRE(via.ok());
  CHECK(via->received() == "127.0.0.1");
  CHECK(via->rport() == c.port());

  const std::string sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
  const auto split = options_request("three@x", tcp_via, "Content-Type: application/sdp\r\n", sdp);
  for (std::size_t i = 0; i < split.size(); i += 7)
    c.write(std::string_view{split}.substr(i, 7));
  REQUIRE(h->wait_for(3));
  CHECK(h->at(2).msg.call_id().value() == "three@x");
  CHECK(h->at(2).msg.body == sdp);
  CHECK(h->count() == 3);
  const auto s = t->stats();
  CHECK(s.received == 3);
  CHECK(s.connections_accepted == 1);
  CHECK(s.connections_open == 1);
}

TEST_CASE("sip transport tcp: a CRLFCRLF ping gets a CRLF pong; answers go back on the "
          "connection the request came on") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  tcp_peer c{t->port()}, other{t->port()};
  c.write("\r\n\r\n");
  REQUIRE(c.read_at_least(2));
  CHECK(c.buffer() == "\r\n");
  c.buffer().clear();

  other.write(options_request("other@x", tcp_via));
  c.write(options_request("mine@x", tcp_via));
  REQUIRE(h->wait_for(2));
  const auto a = h->at(0).msg.call_id().value() == "mine@x" ? h->at(0) : h->at(1);
  // Via names 192.0.2.1:5070: the answer must still use the connection, not the Via.
  t->send(a.from, make_response(a.msg, 200, "t2"));
  REQUIRE(c.read_until("\r\n\r\n"));
  CHECK(status_of(c.buffer()) == 200);
  CHECK(c.buffer().find("Call-ID: mine@x") != std::string::npos);
  CHECK(!other.read_at_least(1, 50ms));
  CHECK(eventually([&] { return t->stats().sent == 1; })); // the pong is no message
}

TEST_CASE("sip transport tcp: send() to an address without a connection opens one, queues "
          "meanwhile and reuses it") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  tcp_listener carrier;
  const peer to{protocol::tcp, "127.0.0.1", carrier.port(), 0};
  const auto first = options_request("q1@x", tcp_via), second = options_request("q2@x", tcp_via);
  t->send(to, first);
  t->send(to, second);
  auto conn = carrier.accept();
  REQUIRE(conn);
  REQUIRE(conn->read_at_least(first.size() + second.size()));
  CHECK(conn->buffer() == first + second);
  conn->buffer().clear();

  const auto third = options_request("q3@x", tcp_via);
  t->send(to, third);
  REQUIRE(conn->read_at_least(third.size()));
  CHECK(conn->buffer() == third);
  CHECK(!carrier.accept(50ms)); // no second connection

  // What the carrier sends back arrives from that connection, and can be answered on it.
  conn->write(ok_response("q1@x"));
  REQUIRE(h->wait_for(1));
  const auto a = h->at(0);
  CHECK(a.msg.status == 200);
  CHECK(a.from.proto == protocol::tcp);
  CHECK(a.from.port == carrier.port());
  CHECK(a.from.connection != 0);
  const auto s = t->stats();
  CHECK(s.connections_accepted == 0);
  CHECK(s.connections_open == 1);
  CHECK(s.sent == 3);
}

TEST_CASE("sip transport tcp: a refused connect ends in on_send_error for each queued send") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  const auto port = unused_tcp_port();
  const peer to{protocol::tcp, "127.0.0.1", port, 0};
  t->send(to, options_request("r1@x", tcp_via));
  t->send(to, options_request("r2@x", tcp_via));
  REQUIRE(eventually([&] { return h->error_count() == 2; }));
  for (std::size_t i = 0; i < 2; ++i) {
    const auto e = h->error_at(i);
    CHECK(e.to.proto == protocol::tcp);
    CHECK(e.to.port == port);
    CHECK(e.what.find("refused") != std::string::npos);
    CHECK(e.thread.starts_with("gobi-sip-"));
  }
  CHECK(eventually([&] { return t->stats().connections_open == 0; }));
  CHECK(t->stats().send_errors == 2);

  // A closed connection id falls back to the address: here refused again.
  t->send(peer{protocol::tcp, "127.0.0.1", port, 999}, "x");
  REQUIRE(eventually([&] { return h->error_count() == 3; }));
  t->send(peer{protocol::tcp, "not an address", 5060, 0}, "x");
  REQUIRE(eventually([&] { return h->error_count() == 4; }));
}

TEST_CASE("sip transport tcp: malformed messages are answered on the connection; a framing "
          "error closes that connection only") {
  auto h = std::make_shared<recording_handler>();
  auto o = loopback_options();
  o.limits.max_message_bytes = 4096;
  auto t = started(h, o);
  tcp_peer c{t->port()}, bystander{t->port()};

  auto bad = options_request("bad@x", tcp_via);
  bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
  c.write(bad);
  REQUIRE(c.read_until("\r\n\r\n"));
  CHECK(status_of(c.buffer()) == 400);
  CHECK(c.buffer().find("Call-ID: bad@x") != std::string::npos);
  c.buffer().clear();
  // The stream is still in step: the connection stays and the next message arrives.
  c.write(options_request("good@x", tcp_via));
  REQUIRE(h->wait_for(1));
  CHECK(h->at(0).msg.call_id().value() == "good@x");

  SUBCASE("an unusable Content-Length") {
    c.write("OPTIONS sip:gobi@127.0.0.1 SIP/2.0\r\nContent-Length: lots\r\n\r\n");
  }
  SUBCASE("headers over max_message_bytes") {
    c.write(options_request("big@x", tcp_via, "X-Big: " + std::string(5000, 'a') + "\r\n"));
  }
  CHECK(c.closed_by_peer());
  CHECK(c.buffer().empty()); // dropped, not answered: the stream is lost
  CHECK(eventually([&] { return t->stats().connections_open == 1; }));
  CHECK(t->stats().malformed_dropped == 1);
  CHECK(t->stats().malformed_answered == 1);

  bystander.write(options_request("still@x", tcp_via));
  REQUIRE(h->wait_for(2));
  CHECK(h->at(1).msg.call_id().value() == "still@x");
}

TEST_CASE("sip transport tcp: connections over max_connections are closed at once; idle ones "
          "after idle_timeout") {
  auto h = std::make_shared<recording_handler>();
  auto o = loopback_options();
  o.max_connections = 1;
  o.idle_timeout = std::chrono::seconds(1);
  auto t = started(h, o);
  tcp_peer first{t->port()};
  first.write(options_request("first@x", tcp_via));
  REQUIRE(h->wait_for(1));
  tcp_peer second{t->port()};
  CHECK(second.closed_by_peer());
  CHECK(t->stats().connections_accepted == 1);
  // An outgoing connection counts too.
  t->send(peer{protocol::tcp, "127.0.0.1", unused_tcp_port(), 0}, "x");
  REQUIRE(eventually([&] { return h->error_count() == 1; }));
  CHECK(h->error_at(0).what.find("connections") != std::string::npos);

  CHECK(first.closed_by_peer()); // silent for a second
  CHECK(eventually([&] { return t->stats().connections_open == 0; }));
}

TEST_CASE("sip transport: stop() with open connections is clean and final") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  tcp_peer inbound{t->port()};
  inbound.write(options_request("in@x", tcp_via));
  REQUIRE(h->wait_for(1));
  tcp_listener carrier;
  t->send(peer{protocol::tcp, "127.0.0.1", carrier.port(), 0}, options_request("out@x", tcp_via));
  auto outbound = carrier.accept();
  REQUIRE(outbound);
  REQUIRE(outbound->read_until("\r\n\r\n"));
  CHECK(t->stats().connections_open == 2);

  t->stop();
  CHECK(inbound.closed_by_peer());
  CHECK(outbound->closed_by_peer());
  CHECK(t->stats().connections_open == 0);
  t->stop(); // idempotent
  const auto before = t->stats();
  t->send(peer{protocol::udp, "127.0.0.1", 9, 0}, "x"); // dropped: no callback, no count
  t->send(peer{protocol::tcp, "127.0.0.1", carrier.port(), 0}, "x");
  CHECK(!carrier.accept(50ms));
  CHECK(t->stats().sent == before.sent);
  CHECK(h->error_count() == 0);
  CHECK(!t->start().ok());
}

namespace {

/// Stops its transport from the handler, on a transport thread.
class stopping_handler : public recording_handler {
public:
  transport* target = nullptr;
  void on_message(message msg, peer from) override {
    recording_handler::on_message(std::move(msg), std::move(from));
    target->stop();
  }
};

} // namespace

TEST_CASE("sip transport: stop() from a handler returns; the destructor joins") {
  auto h = std::make_shared<stopping_handler>();
  auto t = std::make_unique<transport>(loopback_options(), h);
  h->target = t.get();
  REQUIRE(t->start().ok());
  udp_peer phone;
  phone.send_to(t->port(), options_request("stop@x", "UDP 127.0.0.1:5070;branch=z9hG4bKs1"));
  REQUIRE(h->wait_for(1));
  t.reset(); // joins without deadlock
  CHECK(h->count() == 1);
}
