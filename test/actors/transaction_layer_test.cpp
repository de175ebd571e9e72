#include "actors/sip/transaction_layer.hpp"

#include "domain/sip/builder.hpp"
#include "domain/sip/parser.hpp"
#include "domain/sip/routing.hpp"

#include <doctest/doctest.h>

using namespace gobi;
using namespace gobi::actors::sip_layer;
using sip::millis;

namespace {

const sip::peer caller{sip::protocol::udp, "127.0.0.1", 5070, 0};

sip::message parse(const std::string& text) {
  auto m = sip::parse_message(text);
  REQUIRE(m.ok());
  return std::move(*m);
}

std::string invite_text(const std::string& branch = "z9hG4bK-inv-1",
                        const std::string& call_id = "call-1@127.0.0.1") {
  return "INVITE sip:15551230001@127.0.0.1:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" +
         branch +
         ";rport\r\n"
         "From: <sip:alice@127.0.0.1:5070>;tag=a1\r\n"
         "To: <sip:15551230001@127.0.0.1:5060>\r\n"
         "Call-ID: " +
         call_id +
         "\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:alice@127.0.0.1:5070>\r\n"
         "Max-Forwards: 70\r\n"
         "Content-Length: 0\r\n\r\n";
}

template <class T> std::vector<T> events_of(const output& out) {
  std::vector<T> v;
  for (auto& e : out.events)
    if (auto* x = std::get_if<T>(&e)) v.push_back(*x);
  return v;
}

int status_of_send(const send_item& s) {
  auto m = sip::parse_message(s.bytes);
  REQUIRE(m.ok());
  return m->status;
}

} // namespace

TEST_CASE("transaction layer: a new INVITE reaches the TU once; 100 Trying goes back") {
  transaction_layer layer;
  output out;
  layer.on_message(parse(invite_text()), caller, millis{0}, out);
  auto reqs = events_of<request_event>(out);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].msg.method == "INVITE");
  REQUIRE(out.sends.size() == 1);
  CHECK(status_of_send(out.sends[0]) == 100);
  CHECK(out.sends[0].to.port == 5070);
  out.clear();
  // The retransmission is absorbed (the 100 is sent again), not delivered.
  layer.on_message(parse(invite_text()), caller, millis{100}, out);
  CHECK(events_of<request_event>(out).empty());
  CHECK(layer.stats().retransmissions_absorbed == 1);
}

TEST_CASE("transaction layer: 200 is retransmitted until the ACK, which reaches the TU") {
  transaction_layer layer;
  output out;
  auto invite = parse(invite_text());
  layer.on_message(invite, caller, millis{0}, out);
  auto key = events_of<request_event>(out).at(0).key;
  out.clear();
  REQUIRE(layer.respond(key, sip::make_response(invite, 200, "b1"), millis{10}, out));
  REQUIRE(out.sends.size() == 1);
  CHECK(status_of_send(out.sends[0]) == 200);
  out.clear();
  // T1 later: resent.
  layer.on_timers(millis{600}, out);
  REQUIRE(out.sends.size() == 1);
  CHECK(status_of_send(out.sends[0]) == 200);
  out.clear();
  // The ACK (new branch) goes to the TU and stops the retransmissions.
  auto ack = "ACK sip:15551230001@127.0.0.1:5060 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ack-1\r\n"
             "From: <sip:alice@127.0.0.1:5070>;tag=a1\r\n"
             "To: <sip:15551230001@127.0.0.1:5060>;tag=b1\r\n"
             "Call-ID: call-1@127.0.0.1\r\n"
             "CSeq: 1 ACK\r\n"
             "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  layer.on_message(parse(ack), caller, millis{700}, out);
  CHECK(events_of<ack_event>(out).size() == 1);
  out.clear();
  layer.on_timers(millis{5000}, out);
  CHECK(out.sends.empty());
}

TEST_CASE("transaction layer: the ACK for a 2xx reaches the TU with its body (late offer)") {
  // RFC 3261 13.2.1: when the INVITE had no offer, the 200 has ours and the ACK the answer.
  const std::string answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  // A branch of its own (RFC 3261), and the INVITE's (RFC 2543 style): both reach the TU.
  for (std::string branch : {"z9hG4bK-ack-2", "z9hG4bK-inv-1"}) {
    CAPTURE(branch);
    transaction_layer layer;
    output out;
    auto invite = parse(invite_text());
    layer.on_message(invite, caller, millis{0}, out);
    auto key = events_of<request_event>(out).at(0).key;
    REQUIRE(layer.respond(key, sip::make_response(invite, 200, "b1"), millis{10}, out));
    out.clear();
    auto ack = "ACK sip:15551230001@127.0.0.1:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" +
               branch +
               "\r\n"
               "From: <sip:alice@127.0.0.1:5070>;tag=a1\r\n"
               "To: <sip:15551230001@127.0.0.1:5060>;tag=b1\r\n"
               "Call-ID: call-1@127.0.0.1\r\n"
               "CSeq: 1 ACK\r\n"
               "Max-Forwards: 70\r\n"
               "Content-Type: application/sdp\r\n"
               "Content-Length: " +
               std::to_string(answer.size()) + "\r\n\r\n" + answer;
    layer.on_message(parse(ack), caller, millis{20}, out);
    auto acks = events_of<ack_event>(out);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].msg.body == answer);
    REQUIRE(acks[0].msg.header("Content-Type") != nullptr);
    CHECK(*acks[0].msg.header("Content-Type") == "application/sdp");
    CHECK(acks[0].msg.cseq()->number == 1);
    out.clear();
    layer.on_timers(millis{5000}, out);
    CHECK(out.sends.empty()); // the 200 is no longer retransmitted
  }
}

TEST_CASE("transaction layer: no ACK for the 200 fails the server transaction") {
  transaction_layer layer;
  output out;
  auto invite = parse(invite_text());
  layer.on_message(invite, caller, millis{0}, out);
  auto key = events_of<request_event>(out).at(0).key;
  layer.respond(key, sip::make_response(invite, 200, "b1"), millis{0}, out);
  out.clear();
  for (int t = 0; t <= 40000; t += 250)
    layer.on_timers(millis{t}, out);
  auto failed = events_of<server_failed_event>(out);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].call_id == "call-1@127.0.0.1");
  CHECK(layer.server_transactions() == 0);
}

TEST_CASE("transaction layer: CANCEL answers 200 and the pending INVITE 487") {
  transaction_layer layer;
  output out;
  layer.on_message(parse(invite_text()), caller, millis{0}, out);
  out.clear();
  auto cancel = "CANCEL sip:15551230001@127.0.0.1:5060 SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv-1;rport\r\n"
                "From: <sip:alice@127.0.0.1:5070>;tag=a1\r\n"
                "To: <sip:15551230001@127.0.0.1:5060>\r\n"
                "Call-ID: call-1@127.0.0.1\r\n"
                "CSeq: 1 CANCEL\r\n"
                "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  layer.on_message(parse(cancel), caller, millis{50}, out);
  std::vector<int> statuses;
  for (auto& s : out.sends)
    statuses.push_back(status_of_send(s));
  CHECK(statuses == std::vector<int>{200, 487});
  auto c = events_of<cancelled_event>(out);
  REQUIRE(c.size() == 1);
  CHECK(c[0].call_id == "call-1@127.0.0.1");
  CHECK(events_of<request_event>(out).empty()); // the TU never sees the CANCEL
}

TEST_CASE("transaction layer: a CANCEL matching nothing gets 481") {
  transaction_layer layer;
  output out;
  auto cancel = "CANCEL sip:1@127.0.0.1 SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-none\r\n"
                "From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:1@127.0.0.1>\r\n"
                "Call-ID: x\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  layer.on_message(parse(cancel), caller, millis{0}, out);
  REQUIRE(out.sends.size() == 1);
  CHECK(status_of_send(out.sends[0]) == 481);
}

TEST_CASE("transaction layer: client INVITE retransmits, takes responses, times out") {
  transaction_layer layer;
  output out;
  sip::peer trunk{sip::protocol::udp, "127.0.0.1", 5080, 0};
  auto invite = parse(invite_text("z9hG4bK-out-1", "out-1@gobi"));
  auto key = layer.request(invite, trunk, millis{0}, out);
  REQUIRE(key.ok());
  REQUIRE(out.sends.size() == 1);
  CHECK(out.sends[0].to.port == 5080);
  out.clear();
  layer.on_timers(millis{500}, out);
  CHECK(out.sends.size() == 1); // timer A
  out.clear();
  // 180 from the trunk reaches the TU and stops the retransmissions.
  auto ringing = sip::make_response(invite, 180, "t1");
  layer.on_message(ringing, trunk, millis{600}, out);
  auto resp = events_of<response_event>(out);
  REQUIRE(resp.size() == 1);
  CHECK(resp[0].key == *key);
  CHECK(resp[0].msg.status == 180);
  out.clear();
  layer.on_timers(millis{1600}, out);
  CHECK(out.sends.empty());
  // Proceeding waits for the final response (the TU's ring timeout CANCELs): no timer B.
  layer.on_timers(millis{40000}, out);
  CHECK(events_of<client_failed_event>(out).empty());
  // Without any response, timer B (64*T1) ends it.
  out.clear();
  auto silent = parse(invite_text("z9hG4bK-out-9", "out-9@gobi"));
  REQUIRE(layer.request(silent, trunk, millis{50000}, out).ok());
  for (int t = 50000; t <= 90000; t += 250)
    layer.on_timers(millis{t}, out);
  auto f = events_of<client_failed_event>(out);
  REQUIRE(f.size() == 1);
  CHECK(f[0].method == "INVITE");
  CHECK_FALSE(f[0].provisional_seen);
}

TEST_CASE("transaction layer: a 486 to our INVITE is ACKed by the layer and delivered") {
  transaction_layer layer;
  output out;
  sip::peer trunk{sip::protocol::udp, "127.0.0.1", 5080, 0};
  auto invite = parse(invite_text("z9hG4bK-out-2", "out-2@gobi"));
  auto key = layer.request(invite, trunk, millis{0}, out);
  REQUIRE(key.ok());
  out.clear();
  layer.on_message(sip::make_response(invite, 486, "t2"), trunk, millis{100}, out);
  REQUIRE(events_of<response_event>(out).size() == 1);
  REQUIRE(out.sends.size() == 1);
  auto ack = sip::parse_message(out.sends[0].bytes);
  REQUIRE(ack.ok());
  CHECK(ack->method == "ACK");
}

TEST_CASE("transaction layer: a response for no transaction is stray") {
  transaction_layer layer;
  output out;
  auto invite = parse(invite_text("z9hG4bK-gone", "gone@gobi"));
  layer.on_message(sip::make_response(invite, 200, "t3"), caller, millis{0}, out);
  CHECK(events_of<stray_response_event>(out).size() == 1);
  CHECK(layer.stats().stray_responses == 1);
}

TEST_CASE("transaction layer: responses over UDP follow the Via's received/rport") {
  auto invite = parse(invite_text());
  sip::stamp_received(invite, "127.0.0.9", 6000);
  auto to = transaction_layer::response_target(invite, caller);
  CHECK(to.address == "127.0.0.9");
  CHECK(to.port == 6000);
  sip::peer tcp{sip::protocol::tcp, "127.0.0.1", 40000, 7};
  CHECK(transaction_layer::response_target(invite, tcp).connection == 7);
}
