#include "domain/sip/builder.hpp"
#include "domain/sip/parser.hpp"

#include <doctest/doctest.h>

using namespace gobi::sip;

namespace {
message invite() {
  request_spec s;
  s.method = "INVITE";
  s.request_uri = *parse_uri("sip:+15551234567@trunk.example.com");
  s.from = *parse_name_addr("\"Gobi\" <sip:+15550001111@gobi.example.com>;tag=ft1");
  s.to = *parse_name_addr("<sip:+15551234567@trunk.example.com>");
  s.call_id = "call-1@gobi";
  s.cseq = 101;
  s.via = *parse_via("SIP/2.0/UDP 192.0.2.10:5060;rport;branch=" + make_branch("abc"));
  s.contact = *parse_name_addr("<sip:gobi@192.0.2.10:5060>");
  s.route = {*parse_name_addr("<sip:proxy.example.com;lr>")};
  s.content_type = "application/sdp";
  s.body = "v=0\r\n";
  s.extra = {{"User-Agent", "gobi"}};
  return make_request(s);
}
} // namespace

TEST_CASE("sip builder: a request serialises and parses back") {
  const auto m = invite();
  const auto wire = m.to_string();
  CHECK(wire.rfind("INVITE sip:+15551234567@trunk.example.com SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bKabc\r\n"
                   "Max-Forwards: 70\r\n"
                   "Route: <sip:proxy.example.com;lr>\r\n"
                   "From: \"Gobi\" <sip:+15550001111@gobi.example.com>;tag=ft1\r\n",
                   0) == 0);
  const auto back = parse_message(wire);
  REQUIRE(back.ok());
  CHECK(back->cseq()->number == 101);
  CHECK(back->body == "v=0\r\n");
  CHECK(*back->header("User-Agent") == "gobi");
  CHECK(make_branch(random_token()).size() == 7 + 16);
  CHECK(random_token() != random_token());
}

TEST_CASE("sip builder: responses copy Via/From/To/Call-ID/CSeq and add a To-tag") {
  auto req = invite();
  req.push_front_header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
  req.add_header("Record-Route", "<sip:rr.example.com;lr>");
  req.add_header("Timestamp", "54");
  const auto trying = make_response(req, 100, "tt");
  CHECK(trying.reason == "Trying");
  CHECK(trying.to()->tag().empty()); // no tag on 100
  CHECK(*trying.header("Timestamp") == "54");
  CHECK(trying.header("Record-Route") == nullptr);
  const auto ok = make_response(req, 200, "tt");
  CHECK(ok.to()->tag() == "tt");
  CHECK(ok.header_values("Via").size() == 2);
  CHECK(ok.top_via()->host == "proxy.example.com");
  CHECK(*ok.header("Record-Route") == "<sip:rr.example.com;lr>");
  CHECK(ok.header("Contact") == nullptr);
  CHECK(ok.header("User-Agent") == nullptr);
  CHECK(ok.body.empty());
  const auto busy = make_response(req, 486, "tt");
  CHECK(busy.reason == "Busy Here");
  CHECK(busy.header("Record-Route") == nullptr);
  // an existing tag is kept
  const auto again = make_response(make_response(req, 180, "tt"), 200, "other");
  CHECK(again.to()->tag() == "tt");
  CHECK(make_response(req, 499, "x", "Custom").reason == "Custom");
}

TEST_CASE("sip builder: a failed parse answers 400 with the reason, garbage gets nothing") {
  auto bad = invite().to_string();
  bad.replace(bad.find("Max-Forwards: 70"), 16, "Max-Forwards: 999");
  auto r = parse_message(bad);
  REQUIRE_FALSE(r.ok());
  const auto resp = make_error_response(r.err(), "t9");
  REQUIRE(resp);
  CHECK(resp->status == 400);
  CHECK(resp->reason.find("Max-Forwards") != std::string::npos);
  CHECK(resp->to()->tag() == "t9");
  CHECK(parse_message(resp->to_string()).ok());
  CHECK_FALSE(make_error_response(parse_message("garbage").err(), "t"));
}

TEST_CASE("sip builder: ACK for a failure and CANCEL") {
  const auto inv = invite();
  auto busy = make_response(inv, 486, "callee-tag");
  const auto ack = make_ack_for_failure(inv, busy);
  CHECK(ack.method == "ACK");
  CHECK(ack.request_uri == inv.request_uri);
  CHECK(ack.top_via()->branch() == "z9hG4bKabc");
  CHECK(ack.to()->tag() == "callee-tag");
  CHECK(ack.cseq()->number == 101);
  CHECK(ack.cseq()->method == "ACK");
  CHECK(ack.header_count("Route") == 1);
  CHECK(ack.header("Contact") == nullptr);

  const auto cancel = make_cancel(inv, "SIP;cause=487;text=\"ring timeout\"");
  CHECK(cancel.method == "CANCEL");
  CHECK(cancel.top_via()->branch() == "z9hG4bKabc");
  CHECK(cancel.header_count("Via") == 1);
  CHECK(cancel.to()->tag().empty());
  CHECK(cancel.cseq()->number == 101);
  CHECK(cancel.cseq()->method == "CANCEL");
  CHECK(cancel.body.empty());
  CHECK(parse_message(cancel.to_string()).ok());
}
