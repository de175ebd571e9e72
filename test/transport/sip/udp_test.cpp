#include "transport/sip/transport.hpp"

#include "../../domain/sip/sip_test_util.hpp"
#include "domain/sip/builder.hpp"
#include "domain/sip/routing.hpp"
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace gobi;
using namespace gobi::sip;
using namespace gobi::sip::test;
using namespace std::chrono_literals;

namespace {

std::uint64_t handled(const transport_stats& s) {
  return s.received + s.malformed_answered + s.malformed_dropped;
}

} // namespace

TEST_CASE("sip transport: binds UDP and TCP on one free port; a taken port or a bad host fails") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  REQUIRE(t->port() != 0);
  CHECK(t->host() == "127.0.0.1");
  udp_peer phone;
  phone.send_to(t->port(), options_request("bind@x", "UDP 127.0.0.1:5070;branch=z9hG4bKb1"));
  REQUIRE(h->wait_for(1));
  tcp_peer c{t->port()};
  CHECK(eventually([&] { return t->stats().connections_accepted == 1; }));
  CHECK(!t->start().ok()); // once

  auto o = loopback_options();
  o.port = t->port();
  transport udp_taken{o, h};
  auto st = udp_taken.start();
  REQUIRE(!st.ok());
  CHECK(st.err().code == gobi::errc::unavailable);
  CHECK(st.err().message.find("127.0.0.1:" + std::to_string(t->port())) != std::string::npos);
  o.udp = false;
  transport tcp_taken{o, h};
  st = tcp_taken.start();
  REQUIRE(!st.ok());
  CHECK(st.err().code == gobi::errc::unavailable);
  CHECK(st.err().message.find("TCP") != std::string::npos);

  o = loopback_options();
  o.host = "sip.example.com";
  transport named{o, h};
  st = named.start();
  REQUIRE(!st.ok());
  CHECK(st.err().code == gobi::errc::invalid_argument);
  o = loopback_options();
  o.udp = o.tcp = false;
  transport nothing{o, h};
  CHECK(nothing.start().err().code == gobi::errc::invalid_argument);
}

TEST_CASE("sip transport: a UDP request arrives with received and rport stamped; the answer "
          "goes back") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  udp_peer phone;
  phone.send_to(t->port(), options_request("u1@x", "UDP 192.0.2.1:5070;branch=z9hG4bKu1;rport"));
  REQUIRE(h->wait_for(1));
  const auto a = h->at(0);
  CHECK(a.thread.starts_with("gobi-sip-"));
  CHECK(a.from.proto == protocol::udp);
  CHECK(a.from.address == "127.0.0.1");
  CHECK(a.from.port == phone.port());
  CHECK(a.from.connection == 0);
  CHECK(a.msg.method == "OPTIONS");
  const auto via = a.msg.top_via();
  REQUIRE(via.ok());
  CHECK(via->received() == "127.0.0.1");
  CHECK(via->rport() == phone.port());
  CHECK(response_destination(*via).port == phone.port());

  t->send(a.from, make_response(a.msg, 200, "t1"));
  const auto got = phone.receive();
  REQUIRE(got);
  CHECK(status_of(*got) == 200);
  CHECK(got->find("Call-ID: u1@x") != std::string::npos);
  CHECK(got->find("received=127.0.0.1") != std::string::npos);
  CHECK(eventually([&] { return t->stats().sent == 1; }));
}

TEST_CASE("sip transport: send() over UDP reaches a plain socket byte for byte; responses "
          "arrive unstamped; keep-alives are ignored") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  udp_peer carrier;
  const auto wire = ok_response("out@x");
  t->send(peer{protocol::udp, "127.0.0.1", carrier.port(), 0}, wire);
  const auto got = carrier.receive();
  REQUIRE(got);
  CHECK(*got == wire);

  carrier.send_to(t->port(), "\r\n\r\n");
  carrier.send_to(t->port(), "\r\n");
  carrier.send_to(t->port(), ok_response("in@x"));
  REQUIRE(h->wait_for(1));
  const auto a = h->at(0);
  CHECK(a.msg.status == 200);
  const auto via = a.msg.top_via();
  REQUIRE(via.ok());
  CHECK(!via->received());
  CHECK(via->rport() == 0); // as sent: asked for, never filled in
  const auto s = t->stats();
  CHECK(s.received == 1);
  CHECK(s.malformed_dropped == 0); // the keep-alives were no messages at all
  CHECK(s.sent == 1);

  // A destination that is no IP literal ends in on_send_error, on a transport thread.
  t->send(peer{protocol::udp, "sip.example.com", 5060, 0}, wire);
  REQUIRE(eventually([&] { return h->error_count() == 1; }));
  CHECK(h->error_at(0).to.address == "sip.example.com");
  CHECK(h->error_at(0).thread.starts_with("gobi-sip-"));
  CHECK(t->stats().send_errors == 1);
}

TEST_CASE("sip transport: malformed UDP input is answered or dropped, never handed on, and "
          "the next message still arrives") {
  auto h = std::make_shared<recording_handler>();
  auto o = loopback_options();
  o.limits.max_message_bytes = 4096;
  auto t = started(h, o);
  udp_peer phone;
  const auto via = std::string{"UDP 192.0.2.1:5070;branch=z9hG4bKm1"}; // no rport: port unused
  auto expect_handled = [&](std::uint64_t n) {
    return eventually([&] { return handled(t->stats()) == n; });
  };

  SUBCASE("garbage is dropped") {
    phone.send_to(t->port(), std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16));
    REQUIRE(expect_handled(1));
    phone.send_to(t->port(), "hello there");
    REQUIRE(expect_handled(2));
    CHECK(t->stats().malformed_dropped == 2);
  }
  SUBCASE("a request with an unusable CSeq cannot be answered: dropped") {
    auto bad = options_request("cseq@x", via);
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: x OPTIONS");
    phone.send_to(t->port(), bad);
    REQUIRE(expect_handled(1));
    CHECK(t->stats().malformed_dropped == 1);
  }
  SUBCASE("a CSeq naming another method is answered 400, to the source address") {
    auto bad = options_request("cseq@x", via);
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
    phone.send_to(t->port(), bad);
    const auto got = phone.receive();
    REQUIRE(got);
    CHECK(status_of(*got) == 400);
    CHECK(got->find("Call-ID: cseq@x") != std::string::npos);
    CHECK(got->find(";tag=") != std::string::npos);
    CHECK(t->stats().malformed_answered == 1);
  }
  SUBCASE("a message over max_message_bytes is answered 513") {
    const auto big = options_request("big@x", via, "X-Big: " + std::string(5000, 'a') + "\r\n");
    phone.send_to(t->port(), big);
    const auto got = phone.receive();
    REQUIRE(got);
    CHECK(status_of(*got) == 513);
    CHECK(t->stats().malformed_answered == 1);
  }
  SUBCASE("a Content-Length longer than the body is answered 400") {
    auto short_body = options_request("cl@x", via, "Content-Type: application/sdp\r\n", "v=0\r\n");
    short_body.replace(short_body.find("Content-Length: 5"), 17, "Content-Length: 100");
    phone.send_to(t->port(), short_body);
    const auto got = phone.receive();
    REQUIRE(got);
    CHECK(status_of(*got) == 400);
    CHECK(got->find("Content-Length") != std::string::npos);
  }
  SUBCASE("a malformed ACK is dropped, never answered") {
    std::string ack = "ACK sip:gobi@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa"
                      "\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: ack@x\r\n"
                      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    phone.send_to(t->port(), ack);
    REQUIRE(expect_handled(1));
    CHECK(t->stats().malformed_dropped == 1);
  }

  // Whatever came before, a valid request is delivered, and nothing else was sent back:
  // the marker sent after it is the next datagram the phone sees.
  const auto before = handled(t->stats());
  phone.send_to(t->port(), options_request("after@x", via));
  REQUIRE(h->wait_for(1));
  CHECK(h->count() == 1);
  CHECK(h->at(0).msg.call_id().value() == "after@x");
  CHECK(handled(t->stats()) == before + 1);
  t->send(peer{protocol::udp, "127.0.0.1", phone.port(), 0}, ok_response("marker@x"));
  const auto next = phone.receive();
  REQUIRE(next);
  CHECK(next->find("marker@x") != std::string::npos);
}

TEST_CASE("sip transport: RFC 4475 torture messages over UDP") {
  auto h = std::make_shared<recording_handler>();
  auto t = started(h);
  udp_peer phone;
  const auto dir = std::filesystem::path(GOBI_TEST_DATA) / "sip/rfc4475";
  const auto files = sip_test::files_in(dir, ".sip");
  REQUIRE(files.size() >= 40);
  std::size_t delivered = 0;
  for (const auto& path : files) {
    const auto g = sip_test::load_golden(path);
    CAPTURE(g.name);
    const auto before = t->stats();
    phone.send_to(t->port(), g.bytes);
    REQUIRE(eventually([&] { return handled(t->stats()) == handled(before) + 1; }));
    const auto after = t->stats();
    if (g.expect == "valid") {
      CHECK(after.received == before.received + 1);
      ++delivered;
    } else if (g.expect == "400" || g.expect == "505") {
      CHECK(after.malformed_answered == before.malformed_answered + 1);
      const auto got = phone.receive();
      REQUIRE(got);
      CHECK(status_of(*got) == std::stoi(g.expect));
    } else {
      CHECK(after.malformed_dropped == before.malformed_dropped + 1);
    }
  }
  CHECK(h->wait_for(delivered));
  CHECK(h->count() == delivered);
  CHECK(!phone.receive(0ms)); // nothing answered beyond the 400s and 505s read above
}
