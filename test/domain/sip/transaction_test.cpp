#include "domain/sip/builder.hpp"
#include "domain/sip/dialog.hpp"
#include "domain/sip/outcome.hpp"
#include "domain/sip/parser.hpp"
#include "domain/sip/transaction.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace gobi::sip;
using namespace std::chrono_literals;

namespace {

/// Carries out a machine's actions on a virtual timeline, as the SIP endpoint would.
struct timeline {
  std::map<timer_id, millis> timers;
  std::vector<std::pair<millis, message>> sent;
  std::vector<message> delivered;
  std::optional<terminated> ended;
  millis ended_at{-1};

  void apply(const actions& as, millis now) {
    for (const auto& a : as) {
      if (const auto* s = std::get_if<send_message>(&a))
        sent.emplace_back(now, s->msg);
      else if (const auto* st = std::get_if<start_timer>(&a))
        timers[st->timer] = st->at;
      else if (const auto* sp = std::get_if<stop_timer>(&a))
        timers.erase(sp->timer);
      else if (const auto* d = std::get_if<deliver>(&a))
        delivered.push_back(d->msg);
      else if (const auto* t = std::get_if<terminated>(&a)) {
        ended = *t;
        ended_at = now;
      }
    }
  }

  /// Fires due timers in time order up to `until`.
  template <class Machine> void run_until(Machine& m, millis until) {
    while (!ended && !timers.empty()) {
      auto next = timers.begin();
      for (auto it = timers.begin(); it != timers.end(); ++it)
        if (it->second < next->second) next = it;
      if (next->second > until) break;
      const auto [id, at] = *next;
      timers.erase(next);
      apply(m.on_timer(id, at), at);
    }
  }

  std::vector<millis> send_times(std::string_view method_or_status) const {
    std::vector<millis> out;
    for (const auto& [t, m] : sent)
      if (m.method == method_or_status || std::to_string(m.status) == method_or_status)
        out.push_back(t);
    return out;
  }
};

message invite_request(std::string_view branch = "z9hG4bKinv1") {
  request_spec s;
  s.method = "INVITE";
  s.request_uri = *parse_uri("sip:+15551234567@trunk.example.com");
  s.from = *parse_name_addr("<sip:gobi@gobi.example.com>;tag=local1");
  s.to = *parse_name_addr("<sip:+15551234567@trunk.example.com>");
  s.call_id = "c1@gobi";
  s.cseq = 1;
  s.via = *parse_via("SIP/2.0/UDP 192.0.2.10:5060;rport;branch=" + std::string(branch));
  s.contact = *parse_name_addr("<sip:gobi@192.0.2.10:5060>");
  return make_request(s);
}

message response_to(const message& req, int status, std::string_view tag = "remote1") {
  auto r = make_response(req, status, tag);
  if (status >= 101 && status < 300) r.add_header("Contact", "<sip:callee@198.51.100.7:5060>");
  return r;
}

} // namespace

TEST_CASE("sip transaction: client INVITE retransmits with doubling Timer A, times out at B") {
  client_invite_transaction tx(invite_request(), transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.run_until(tx, 40000ms);
  // sent at 0, then 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; B at 64*T1 = 32 s
  CHECK(tl.send_times("INVITE") ==
        std::vector<millis>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms});
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::timeout);
  CHECK_FALSE(tl.ended->provisional_seen);
  CHECK(tl.ended_at == 32000ms);
  CHECK(tx.current() == client_invite_transaction::state::terminated);
  const auto v = verdict_for_no_response(invite_progress::sent, false);
  CHECK(v.redial == redial::unsafe);
}

TEST_CASE("sip transaction: client INVITE, 180 stops retransmission, 486 is ACKed") {
  const auto inv = invite_request();
  client_invite_transaction tx(inv, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.run_until(tx, 1000ms); // one retransmission at 0.5 s
  tl.apply(tx.on_response(response_to(inv, 180), 1200ms), 1200ms);
  CHECK(tx.current() == client_invite_transaction::state::proceeding);
  CHECK(tx.provisional_seen());
  tl.run_until(tx, 20000ms);
  CHECK(tl.send_times("INVITE") == std::vector<millis>{0ms, 500ms});
  CHECK_FALSE(tl.ended); // no Timer B once proceeding: the TU's ring timeout decides

  tl.apply(tx.on_response(response_to(inv, 486), 21000ms), 21000ms);
  REQUIRE(tl.send_times("ACK").size() == 1);
  const auto& ack = tl.sent.back().second;
  CHECK(ack.top_via()->branch() == "z9hG4bKinv1");
  CHECK(ack.to()->tag() == "remote1");
  CHECK(ack.cseq()->method == "ACK");
  CHECK(tl.delivered.back().status == 486);
  // a retransmitted 486 is ACKed again but not delivered twice
  const auto delivered = tl.delivered.size();
  tl.apply(tx.on_response(response_to(inv, 486), 21500ms), 21500ms);
  CHECK(tl.send_times("ACK").size() == 2);
  CHECK(tl.delivered.size() == delivered);
  tl.run_until(tx, 60000ms);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::completed);
  CHECK(tl.ended->final_status == 486);
  CHECK(tl.ended_at == 21000ms + 32000ms); // Timer D
  CHECK(verdict_for_response(486).outcome == call_outcome::busy);
}

TEST_CASE("sip transaction: client INVITE 2xx goes to Accepted; retransmitted 2xx reach the TU") {
  const auto inv = invite_request();
  client_invite_transaction tx(inv, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.apply(tx.on_response(response_to(inv, 200), 300ms), 300ms);
  CHECK(tx.current() == client_invite_transaction::state::accepted);
  CHECK(tl.send_times("ACK").empty()); // the ACK for 2xx is the TU's (dialog::make_ack)
  tl.apply(tx.on_response(response_to(inv, 200), 800ms), 800ms);
  CHECK(tl.delivered.size() == 2);
  tl.run_until(tx, 60000ms);
  CHECK(tl.send_times("INVITE") == std::vector<millis>{0ms});
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::completed);
  CHECK(tl.ended_at == 300ms + 32000ms); // Timer M
}

TEST_CASE("sip transaction: client INVITE over TCP has no retransmissions; CANCEL guard") {
  const auto inv = invite_request();
  client_invite_transaction tx(inv, transport_reliability::reliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  CHECK(tl.timers.count(timer_id::A) == 0);
  tl.apply(tx.on_response(response_to(inv, 183), 100ms), 100ms);
  tl.run_until(tx, 30000ms);
  CHECK(tl.send_times("INVITE").size() == 1);
  // ring timeout: the TU sends CANCEL; no final answer ever comes
  tl.apply(tx.on_cancel_sent(30000ms), 30000ms);
  tl.run_until(tx, 70000ms);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::timeout);
  CHECK(tl.ended->provisional_seen);
  CHECK(tl.ended_at == 62000ms);
  const auto v = verdict_for_no_response(invite_progress::provisional_received, false,
                                         cancel_reason::ring_timeout);
  CHECK(v.outcome == call_outcome::no_answer);
  CHECK(v.redial == redial::unsafe);

  // a 486 over TCP ends at once (Timer D = 0)
  client_invite_transaction tx2(inv, transport_reliability::reliable);
  timeline tl2;
  tl2.apply(tx2.start(0ms), 0ms);
  tl2.apply(tx2.on_response(response_to(inv, 486), 10ms), 10ms);
  REQUIRE(tl2.ended);
  CHECK(tl2.ended_at == 10ms);
  CHECK(tl2.send_times("ACK").size() == 1);
}

TEST_CASE("sip transaction: transport errors end a transaction with that verdict") {
  client_invite_transaction tx(invite_request(), transport_reliability::reliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.apply(tx.on_transport_error(5ms), 5ms);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::transport_error);
  CHECK(tl.timers.empty());
  CHECK(tx.on_transport_error(6ms).empty());
}

TEST_CASE("sip transaction: client non-INVITE, Timer E caps at T2, F times out, K after final") {
  request_spec s;
  s.method = "OPTIONS";
  s.request_uri = *parse_uri("sip:trunk.example.com");
  s.from = *parse_name_addr("<sip:gobi@gobi.example.com>;tag=o1");
  s.to = *parse_name_addr("<sip:trunk.example.com>");
  s.call_id = "opt1";
  s.via = *parse_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKopt1");
  const auto req = make_request(s);

  client_non_invite_transaction tx(req, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.run_until(tx, 40000ms);
  CHECK(tl.send_times("OPTIONS") == std::vector<millis>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms,
                                                        15500ms, 19500ms, 23500ms, 27500ms,
                                                        31500ms});
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::timeout);
  CHECK(tl.ended_at == 32000ms);

  client_non_invite_transaction tx2(req, transport_reliability::unreliable);
  timeline tl2;
  tl2.apply(tx2.start(0ms), 0ms);
  tl2.apply(tx2.on_response(make_response(req, 100), 100ms), 100ms);
  tl2.run_until(tx2, 9000ms);
  // proceeding: retransmit every T2
  CHECK(tl2.send_times("OPTIONS") == std::vector<millis>{0ms, 500ms, 4500ms, 8500ms});
  tl2.apply(tx2.on_response(make_response(req, 200, "t"), 9000ms), 9000ms);
  tl2.run_until(tx2, 20000ms);
  REQUIRE(tl2.ended);
  CHECK(tl2.ended->final_status == 200);
  CHECK(tl2.ended_at == 14000ms); // K = T4
  CHECK(tl2.delivered.size() == 2);
}

TEST_CASE("sip transaction: server INVITE absorbs retransmissions, 486 retransmitted until ACK") {
  const auto inv = invite_request();
  server_invite_transaction tx(inv, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  REQUIRE(tl.delivered.size() == 1);
  CHECK(tl.send_times("100") == std::vector<millis>{0ms});
  // a duplicate INVITE is absorbed: 100 again, not delivered again
  tl.apply(tx.on_request(inv, 500ms), 500ms);
  CHECK(tl.delivered.size() == 1);
  CHECK(tl.send_times("100").size() == 2);
  tl.apply(tx.on_tu_response(make_response(inv, 180, "me"), 600ms), 600ms);
  tl.apply(tx.on_request(inv, 1500ms), 1500ms);
  CHECK(tl.send_times("180") == std::vector<millis>{600ms, 1500ms});

  tl.apply(tx.on_tu_response(make_response(inv, 486, "me"), 2000ms), 2000ms);
  tl.run_until(tx, 6000ms);
  CHECK(tl.send_times("486") == std::vector<millis>{2000ms, 2500ms, 3500ms, 5500ms});
  // a late TU response is ignored
  CHECK(tx.on_tu_response(make_response(inv, 200, "me"), 6000ms).empty());
  auto ack = make_ack_for_failure(inv, make_response(inv, 486, "me"));
  tl.apply(tx.on_request(ack, 6000ms), 6000ms);
  CHECK(tx.current() == server_invite_transaction::state::confirmed);
  tl.apply(tx.on_request(ack, 6100ms), 6100ms); // absorbed
  tl.run_until(tx, 20000ms);
  CHECK(tl.send_times("486").size() == 4);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::completed);
  CHECK(tl.ended_at == 11000ms); // Timer I = T4
}

TEST_CASE("sip transaction: server INVITE without ACK times out at H") {
  const auto inv = invite_request();
  server_invite_transaction tx(inv, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.apply(tx.on_tu_response(make_response(inv, 503, "me"), 0ms), 0ms);
  tl.run_until(tx, 60000ms);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::timeout);
  CHECK(tl.ended_at == 32000ms);
  // G doubled up to T2 = 4 s: 0, .5, 1.5, 3.5, 7.5, 11.5, ... 31.5
  CHECK(tl.send_times("503").size() == 11);
}

TEST_CASE("sip transaction: server INVITE 2xx retransmitted until the ACK, then L") {
  const auto inv = invite_request();
  server_invite_transaction tx(inv, transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.apply(tx.on_tu_response(make_response(inv, 200, "me"), 1000ms), 1000ms);
  CHECK(tx.current() == server_invite_transaction::state::accepted);
  tl.run_until(tx, 5000ms);
  CHECK(tl.send_times("200") == std::vector<millis>{1000ms, 1500ms, 2500ms, 4500ms});
  tl.apply(tx.on_request(inv, 5000ms), 5000ms); // INVITE retransmission: 2xx again
  CHECK(tl.send_times("200").size() == 5);
  tl.apply(tx.on_ack_for_2xx(5100ms), 5100ms);
  tl.run_until(tx, 60000ms);
  CHECK(tl.send_times("200").size() == 5);
  REQUIRE(tl.ended);
  CHECK(tl.ended->reason == termination::completed);
  CHECK(tl.ended_at == 33000ms);

  // never ACKed: L ends it with a timeout (the TU should send BYE)
  server_invite_transaction tx2(inv, transport_reliability::reliable);
  timeline tl2;
  tl2.apply(tx2.start(0ms), 0ms);
  tl2.apply(tx2.on_tu_response(make_response(inv, 200, "me"), 0ms), 0ms);
  tl2.run_until(tx2, 60000ms);
  CHECK(tl2.send_times("200").size() == 1); // reliable: no 2xx retransmission
  REQUIRE(tl2.ended);
  CHECK(tl2.ended->reason == termination::timeout);
}

TEST_CASE("sip transaction: CANCEL gets 200 and the INVITE 487") {
  const auto inv = invite_request();
  server_invite_transaction itx(inv, transport_reliability::unreliable);
  timeline itl;
  itl.apply(itx.start(0ms), 0ms);
  itl.apply(itx.on_tu_response(make_response(inv, 180, "me"), 10ms), 10ms);

  const auto cancel = make_cancel(inv);
  const auto ckey = server_key(cancel);
  const auto ikey = server_key(inv);
  REQUIRE(ckey.ok());
  REQUIRE(ikey.ok());
  CHECK(ckey->method == "CANCEL");
  CHECK(cancel_target(*ckey) == *ikey);

  server_non_invite_transaction ctx(cancel, transport_reliability::unreliable);
  timeline ctl;
  ctl.apply(ctx.start(2000ms), 2000ms);
  ctl.apply(ctx.on_tu_response(make_response(cancel, 200, "me"), 2000ms), 2000ms);
  itl.apply(itx.on_cancel("me", 2000ms), 2000ms);
  CHECK(ctl.send_times("200").size() == 1);
  CHECK(ctl.sent.back().second.cseq()->method == "CANCEL");
  REQUIRE(itl.send_times("487").size() == 1);
  CHECK(itl.sent.back().second.to()->tag() == "me");
  CHECK(itl.sent.back().second.cseq()->method == "INVITE");
  CHECK(itx.current() == server_invite_transaction::state::completed);
  // the CANCEL retransmitted gets the same 200; J ends its transaction after 64*T1
  ctl.apply(ctx.on_request(cancel, 2500ms), 2500ms);
  CHECK(ctl.send_times("200").size() == 2);
  ctl.run_until(ctx, 40000ms);
  REQUIRE(ctl.ended);
  CHECK(ctl.ended_at == 34000ms);
  // a CANCEL after the final response changes nothing
  CHECK(itx.on_cancel("me", 2100ms).empty());
  CHECK(verdict_for_response(487, cancel_reason::hangup).outcome == call_outcome::cancelled);
}

TEST_CASE("sip transaction: server non-INVITE over TCP ends with the final response") {
  auto req = invite_request();
  req.method = "OPTIONS";
  req.set_header("CSeq", "1 OPTIONS");
  server_non_invite_transaction tx(req, transport_reliability::reliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  tl.apply(tx.on_request(req, 10ms), 10ms); // absorbed in trying
  CHECK(tl.sent.empty());
  tl.apply(tx.on_tu_response(make_response(req, 200, "x"), 20ms), 20ms);
  REQUIRE(tl.ended);
  CHECK(tl.ended_at == 20ms);
  CHECK(tl.timers.empty());
}

TEST_CASE("sip transaction: stale timers are ignored") {
  client_invite_transaction tx(invite_request(), transport_reliability::unreliable);
  timeline tl;
  tl.apply(tx.start(0ms), 0ms);
  CHECK(tx.on_timer(timer_id::A, 100ms).empty());    // not due yet
  CHECK(tx.on_timer(timer_id::D, 100000ms).empty()); // never started
  tl.apply(tx.on_response(response_to(tx.request(), 180), 200ms), 200ms);
  CHECK(tx.on_timer(timer_id::A, 500ms).empty()); // stopped by the 180
}

TEST_CASE("sip transaction: matching keys") {
  const auto inv = invite_request("z9hG4bKabc");
  const auto k = server_key(inv);
  REQUIRE(k.ok());
  CHECK(k->branch == "z9hG4bKabc");
  CHECK(k->sent_by == "192.0.2.10:5060");
  CHECK(k->method == "INVITE");
  // the ACK for a non-2xx matches the INVITE's server transaction
  CHECK(*server_key(make_ack_for_failure(inv, make_response(inv, 486, "t"))) == *k);
  // same branch from another host is another transaction
  auto other = inv;
  other.set_header("Via", "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKabc");
  CHECK_FALSE(*server_key(other) == *k);
  // client side: branch + CSeq method
  const auto ck = client_key(make_response(inv, 180, "t"));
  CHECK(*ck == *client_key_for_request(inv));
  CHECK_FALSE(*client_key(make_response(make_cancel(inv), 200, "t")) == *ck);
  // RFC 2543 peers (no magic cookie) and a bare cookie get the legacy key
  auto legacy = inv;
  legacy.set_header("Via", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK");
  CHECK(server_key(legacy)->branch.rfind("2543:", 0) == 0);
}

TEST_CASE("sip dialog: UAC dialog from 180 and 200, BYE and ACK through the route set") {
  const auto inv = invite_request();
  auto ringing = response_to(inv, 180);
  ringing.add_header("Record-Route", "<sip:p2.example.com;lr>");
  ringing.add_header("Record-Route", "<sip:p1.example.com;lr>");
  auto d = dialog::as_uac(inv, ringing);
  REQUIRE(d.ok());
  CHECK(d->current() == dialog::state::early);
  CHECK(d->id() == dialog_id{"c1@gobi", "local1", "remote1"});
  CHECK(*dialog_id_of_response(ringing) == d->id());
  auto ok = response_to(inv, 200);
  ok.add_header("Record-Route", "<sip:p2.example.com;lr>");
  ok.add_header("Record-Route", "<sip:p1.example.com;lr>");
  ok.set_header("Contact", "<sip:callee@198.51.100.8:5070>");
  d->on_response(ok);
  CHECK(d->current() == dialog::state::confirmed);
  CHECK(d->remote_target().to_string() == "sip:callee@198.51.100.8:5070");
  REQUIRE(d->route_set().size() == 2);
  CHECK(d->route_set()[0].uri.host == "p1.example.com"); // reversed

  const auto ack = d->make_ack(1, *parse_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKack1"));
  CHECK(ack.cseq()->number == 1);
  CHECK(ack.cseq()->method == "ACK");
  CHECK(ack.request_uri.to_string() == "sip:callee@198.51.100.8:5070");
  CHECK(ack.header_values("Route") ==
        std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
  CHECK(ack.to()->tag() == "remote1");

  const auto reinvite =
      d->make_request("INVITE", *parse_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr2"));
  CHECK(reinvite.cseq()->number == 2);
  CHECK(reinvite.header("Contact") != nullptr);
  const auto bye = d->make_request("BYE", *parse_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKb3"));
  CHECK(bye.cseq()->number == 3);
  CHECK(bye.from()->tag() == "local1");
  CHECK(d->current() == dialog::state::terminated);
  CHECK(parse_message(bye.to_string()).ok());
}

TEST_CASE("sip dialog: UAS dialog, CSeq order, target refresh, strict routing") {
  auto inv = invite_request();
  inv.add_header("Record-Route", "<sip:strict.example.com>");
  auto d = dialog::as_uas(inv, "uas1", *parse_name_addr("<sip:gobi@192.0.2.10>"));
  REQUIRE(d.ok());
  CHECK(d->id() == dialog_id{"c1@gobi", "uas1", "local1"});
  // an in-dialog request from the caller maps to this dialog
  auto bye = inv;
  bye.method = "BYE";
  bye.set_header("To", "<sip:+15551234567@trunk.example.com>;tag=uas1");
  bye.set_header("CSeq", "2 BYE");
  CHECK(*dialog_id_of_request(bye) == d->id());
  CHECK_FALSE(dialog_id_of_request(inv)); // no To tag: not in a dialog

  auto reinvite = bye;
  reinvite.method = "INVITE";
  reinvite.set_header("CSeq", "5 INVITE");
  reinvite.set_header("Contact", "<sip:gobi-new@192.0.2.77>");
  CHECK(d->on_request(reinvite) == 0);
  CHECK(d->remote_target().host == "192.0.2.77");
  auto old = bye;
  old.set_header("CSeq", "4 BYE");
  CHECK(d->on_request(old) == 500);

  // strict route: Request-URI is the route, the remote target goes last
  const auto req = d->make_request("INFO", *parse_via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKi1"));
  CHECK(req.request_uri.host == "strict.example.com");
  CHECK(req.header_values("Route") == std::vector<std::string>{"<sip:gobi-new@192.0.2.77>"});
  CHECK(req.cseq()->number == 1);
  CHECK(req.from()->tag() == "uas1");
  CHECK(req.to()->tag() == "local1");
}

TEST_CASE("sip outcome: final codes map to outcomes and redial safety") {
  struct row {
    int status;
    cancel_reason why;
    call_outcome outcome;
    redial r;
  };
  const std::vector<row> table{
      {200, cancel_reason::none, call_outcome::answered, redial::unsafe},
      {486, cancel_reason::none, call_outcome::busy, redial::safe},
      {600, cancel_reason::none, call_outcome::busy, redial::safe},
      {480, cancel_reason::none, call_outcome::no_answer, redial::safe},
      {408, cancel_reason::none, call_outcome::no_answer, redial::safe},
      {487, cancel_reason::ring_timeout, call_outcome::no_answer, redial::safe},
      {487, cancel_reason::hangup, call_outcome::cancelled, redial::safe},
      {603, cancel_reason::none, call_outcome::rejected, redial::safe},
      {403, cancel_reason::none, call_outcome::rejected, redial::safe},
      {404, cancel_reason::none, call_outcome::rejected, redial::futile},
      {484, cancel_reason::none, call_outcome::rejected, redial::futile},
      {503, cancel_reason::none, call_outcome::failed, redial::safe},
      {488, cancel_reason::none, call_outcome::failed, redial::safe},
      {302, cancel_reason::none, call_outcome::failed, redial::safe},
  };
  for (const auto& r : table) {
    CAPTURE(r.status);
    const auto v = verdict_for_response(r.status, r.why);
    CHECK(v.outcome == r.outcome);
    CHECK(v.redial == r.r);
    CHECK(v.sip_status == r.status);
  }
  CHECK(verdict_for_no_response(invite_progress::not_sent, true).redial == redial::safe);
  CHECK(verdict_for_no_response(invite_progress::sent, true).redial == redial::unsafe);
  const auto amb = verdict_for_no_response(invite_progress::provisional_received, false);
  CHECK(amb.redial == redial::unsafe);
  CHECK(amb.outcome == call_outcome::failed);
  CHECK(amb.reason.find("ambiguous") != std::string::npos);
  CHECK(std::string(to_string(call_outcome::no_answer)) == "no-answer");
}
