/// CALL: one call's SIP dialog, media and record.
///
///   inbound:  INVITE -> 100 (layer) -> 180 [RINGING] -> greeting ready (or answer_wait)
///             -> 200 + SDP answer [ANSWERED] -> ACK -> ... BYE either way -> [ENDED]
///             late offer (INVITE without SDP, RFC 3264): the 200 carries our offer and the
///             media starts with the answer in the ACK; an ACK without one, or an answer
///             that fits nothing -> BYE [ENDED failed]
///             CANCEL before the 200 -> 487 (layer) -> [ENDED cancelled]
///   outbound: INVITE + SDP offer [DIALING] -> 180/183 [RINGING] (early media is not an
///             answer) -> 2xx [ANSWERED] -> ACK -> ... -> BYE -> [ENDED]
///             401/407 -> INVITE again with digest credentials (once per challenge)
///             3xx-6xx / timeout -> [ENDED busy | no-answer | rejected | failed]
///             hangup or ring timeout while ringing -> CANCEL -> 487 -> [ENDED cancelled /
///             no-answer]
///   ENDED: media closes (the WAV is finished), the record is written, the CALL quits.

#include "actors/call/telephony.hpp"

#include "actors/storage_actor.hpp"
#include "domain/defaults.hpp"
#include "domain/media/dtmf.hpp"
#include "domain/sdp/session.hpp"
#include "domain/sip/builder.hpp"
#include "domain/sip/digest.hpp"
#include "storage/store.hpp"
#include "transport/rtp/engine.hpp"
#include "transport/rtp/srtp.hpp"

#include <caf/weak_intrusive_ptr.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gobi::actors {

namespace {

using self_ptr = call_actor::stateful_pointer<call_state>;

constexpr auto media_close_guard = std::chrono::seconds(5);

// --- helpers -------------------------------------------------------------------------------

millis now_ms(self_ptr self) {
  return self->state.env.now();
}

void arm(self_ptr self, call_timer which, std::chrono::milliseconds after) {
  self->delayed_send(self, after, atom::timeout::value,
                     call_timer_msg{which, ++self->state.timer_generation});
}

/// Writes the record through STORAGE (in order: all writes of a call come from it).
void persist(self_ptr self, bool create = false) {
  auto& st = self->state;
  st.rec.updated_at = now_ms(self);
  db<bool>(
      self, st.env.storage, t_calls,
      [rec = st.rec, create](storage::store& s) -> result<bool> {
        if (create) {
          auto r = s.create_call(rec);
          if (!r) return std::move(r).err();
          return true;
        }
        auto r = s.update_call(rec);
        if (!r) return std::move(r).err();
        return true;
      },
      [](bool) {},
      [id = st.rec.id.value](const error& e) {
        spdlog::error("call {}: writing its record failed: {}", id, e.message);
      });
}

void set_status(self_ptr self, call_status s) {
  auto& st = self->state;
  if (st.rec.status == s || st.rec.status == call_status::ended) return;
  st.rec.status = s;
  if (s == call_status::answered) st.rec.answered_at = now_ms(self);
  persist(self);
}

sip::via our_via(self_ptr self) {
  auto& st = self->state;
  sip::via v;
  v.transport = sip::to_string(st.peer.proto);
  v.host = st.env.sip_host;
  v.port = st.env.sip_port;
  sip::set_param(v.params, "branch", sip::make_branch(sip::random_token()));
  sip::set_param(v.params, "rport", std::nullopt);
  return v;
}

sip::name_addr our_contact(self_ptr self) {
  auto& st = self->state;
  sip::name_addr c;
  c.uri.user = "gobi";
  c.uri.host = st.env.sip_host;
  c.uri.port = st.env.sip_port;
  if (st.peer.proto == sip::protocol::tcp)
    sip::set_param(c.uri.params, "transport", std::string{"tcp"});
  return c;
}

bool is_ip_literal(const std::string& h) {
  if (h.empty()) return false;
  if (h.front() == '[') return true;
  for (char c : h)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) return false;
  return true;
}

/// Where in-dialog requests go: the remote target when it is an IP literal, else the peer
/// the dialog came from (over TCP: its connection).
sip::peer dialog_peer(self_ptr self) {
  auto& st = self->state;
  auto p = st.peer;
  if (st.dialog && p.proto == sip::protocol::udp) {
    const auto& t = st.dialog->remote_target();
    if (is_ip_literal(t.host)) {
      p.address = t.host;
      p.port = t.port.value_or(5060);
    }
  }
  return p;
}

std::string describe_codec(const sdp::negotiated_media& m) {
  if (m.codec == "opus") return "opus/48000/2";
  return m.codec + "/" + std::to_string(m.clock_rate);
}

const sdp::capabilities& caps() {
  static const sdp::capabilities c{};
  return c;
}

std::string sdp_session_id() {
  auto t = sip::random_token(6);
  std::string digits;
  for (char c : t)
    digits += static_cast<char>('1' + (static_cast<unsigned char>(c) % 9));
  return digits;
}

sdp::local_endpoint local_endpoint(self_ptr self) {
  auto& st = self->state;
  sdp::local_endpoint l;
  l.address = st.media->local_address();
  l.rtp_port = st.media->local_rtp_port();
  if (st.sdp_session_id.empty()) st.sdp_session_id = sdp_session_id();
  l.session_id = st.sdp_session_id;
  l.session_version = std::to_string(st.sdp_version);
  return l;
}

result<sdp::srtp_key> fresh_key() {
  auto k = rtp::generate_srtp_key(rtp::srtp_suite::aes_cm_128_hmac_sha1_80);
  if (!k) return std::move(k).err();
  sdp::srtp_key out{};
  std::memcpy(out.data(), k->master.data(), out.size());
  return out;
}

/// What a request's body is to the offer/answer exchange.
enum class sdp_body { none, sdp, other };

sdp_body body_of(const sip::message& m) {
  if (m.body.empty()) return sdp_body::none;
  auto ctype = m.header("Content-Type");
  if (!ctype || ctype->find("application/sdp") == std::string::npos) return sdp_body::other;
  return sdp_body::sdp;
}

std::string not_sdp(const sip::message& m) {
  auto ctype = m.header("Content-Type");
  return "the body is not SDP (Content-Type: " + (ctype ? *ctype : std::string{"none"}) + ")";
}

/// What the call's media layer counted, for the record (jitter to 0.01 ms: finer is noise).
call_media_stats media_stats_of(const rtp::call_media_summary& s) {
  call_media_stats m;
  m.packets_sent = static_cast<std::int64_t>(s.packets_sent);
  m.packets_received = static_cast<std::int64_t>(s.packets_received);
  m.packets_lost = static_cast<std::int64_t>(s.packets_lost);
  m.jitter_ms = std::round(s.jitter_ms * 100.0) / 100.0;
  return m;
}

// --- ending ----------------------------------------------------------------------------------

void quit_now(self_ptr self) {
  auto& st = self->state;
  self->send(st.sip, atom::unbind::value, st.rec.sip_call_id);
  self->quit();
}

/// Ends the call: the record becomes ENDED, media closes (finishing the WAV), then the CALL
/// writes the record once more and quits. Answers waiting hang-up requests.
void finish(self_ptr self, call_outcome outcome, int sip_status, std::string reason) {
  auto& st = self->state;
  if (st.ended) return;
  st.ended = true;
  st.rec.status = call_status::ended;
  st.rec.outcome = outcome;
  if (sip_status != 0) st.rec.sip_status = sip_status;
  st.rec.end_reason = std::move(reason);
  st.rec.ended_at = now_ms(self);
  spdlog::info("call {} ended: {} ({} {})", st.rec.id.value, to_string(outcome), st.rec.sip_status,
               st.rec.end_reason);
  for (auto& rp : st.hangup_waiters)
    rp.deliver(st.rec);
  st.hangup_waiters.clear();
  if (!st.media) {
    st.rec.recording_path.clear();
    persist(self);
    return quit_now(self);
  }
  persist(self);
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self->ctrl());
  st.media->close([weak](rtp::call_media_summary s) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<call_actor>(strong), atom::closed::value, std::move(s));
  });
  arm(self, call_timer::media_close, media_close_guard);
}

void send_request(self_ptr self, sip::message req, const sip::peer& to) {
  auto& st = self->state;
  self->send(st.sip, atom::request::value, std::move(req), to, caf::actor_cast<call_actor>(self));
}

void send_bye(self_ptr self) {
  auto& st = self->state;
  if (!st.dialog || st.dialog->current() == sip::dialog::state::terminated) return;
  auto bye = st.dialog->make_request("BYE", our_via(self));
  bye.add_header("User-Agent", "gobi");
  st.dialog->terminate();
  send_request(self, std::move(bye), dialog_peer(self));
}

void send_cancel(self_ptr self) {
  auto& st = self->state;
  if (st.cancel_sent) return;
  st.cancel_sent = true;
  send_request(self, sip::make_cancel(st.invite), st.peer);
  self->send(st.sip, atom::cancelsent::value, st.invite_key);
}

/// Hang up from our side, whatever the state.
void hang_up(self_ptr self, std::string reason,
             sip::cancel_reason why = sip::cancel_reason::hangup) {
  auto& st = self->state;
  if (st.ended) return;
  bool inbound = st.rec.direction == call_direction::inbound;
  if (st.answered) {
    send_bye(self);
    return finish(self, call_outcome::answered, 200, std::move(reason));
  }
  if (inbound) {
    // Not answered yet: decline the INVITE.
    auto resp = sip::make_response(st.invite, 480, st.local_tag, "Temporarily Unavailable");
    self->send(st.sip, atom::respond::value, st.invite_key, std::move(resp));
    return finish(self, call_outcome::rejected, 480, std::move(reason));
  }
  // Outbound and not answered: CANCEL (9.1); the 487 (or a racing 2xx) ends the call.
  if (st.cancel != sip::cancel_reason::none) return;
  st.cancel = why;
  // RFC 3261 9.1: no CANCEL before a provisional response; it goes out when one arrives.
  if (st.provisional_seen) send_cancel(self);
  // The call is over for everyone now; the CALL stays until the INVITE transaction ends (a
  // 487, or a 2xx racing the CANCEL, which gets ACK and BYE), at most a transaction timeout.
  st.invite_pending = true;
  auto v = sip::verdict_for_no_response(
      st.provisional_seen ? sip::invite_progress::provisional_received : sip::invite_progress::sent,
      false, why);
  finish(self,
         why == sip::cancel_reason::ring_timeout ? call_outcome::no_answer : v.outcome,
         487, std::move(reason));
}

// --- media -----------------------------------------------------------------------------------

result<std::shared_ptr<rtp::call_media>> open_media(self_ptr self) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self->ctrl());
  return rtp::call_media::open(*self->state.env.media, [weak](const rtp::call_media_event& e) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<call_actor>(strong), atom::media::value, e);
  });
}

/// Opens the call's media port on first use (its address and port go in our SDP).
status ensure_media(self_ptr self) {
  auto& st = self->state;
  if (st.media) return unit;
  auto m = open_media(self);
  if (!m) return error{m.err().code, "no media port: " + m.err().message};
  st.media = std::move(*m);
  return unit;
}

/// Our offer (RFC 3264 5): every codec we have, SRTP per --srtp with a key per suite we
/// offer. Keeps it in st.offer for the answer to be read against.
status make_local_offer(self_ptr self) {
  auto& st = self->state;
  if (auto ok = ensure_media(self); !ok) return ok;
  if (st.env.srtp != sdp::srtp_policy::off) {
    while (st.keys.size() < caps().srtp_suites.size()) {
      auto k = fresh_key();
      if (!k) return error{k.err().code, "no SRTP key: " + k.err().message};
      st.keys.push_back(*k);
    }
  }
  st.offer = sdp::make_offer(caps(), local_endpoint(self), st.env.srtp, st.keys);
  return unit;
}

status start_media(self_ptr self, const sdp::negotiated_media& m) {
  auto& st = self->state;
  st.negotiated = m;
  st.rec.codec = describe_codec(m);
  st.rec.srtp = m.srtp.has_value();
  rtp::call_media_config cfg;
  cfg.media = m;
  std::error_code ec;
  std::filesystem::create_directories(st.env.recordings_dir, ec);
  if (!ec) {
    auto path = st.env.recordings_dir / (st.rec.id.value + ".wav");
    cfg.recording_path = path.string();
    st.rec.recording_path = cfg.recording_path;
  } else {
    spdlog::warn("call {}: no recording: cannot create {}: {}", st.rec.id.value,
                 st.env.recordings_dir.string(), ec.message());
  }
  cfg.media_timeout = st.env.media_timeout;
  cfg.cname = st.rec.id.value + "@gobi";
  auto ok = st.media->start(cfg);
  if (!ok) return ok;
  st.media_started = true;
  if (st.greeting) st.media->play(st.greeting);
  return unit;
}

void ask_greeting(self_ptr self) {
  auto& st = self->state;
  auto text = st.agent_info.greeting_message;
  if (text.empty() || !st.env.tts) return;
  self->request(st.env.tts, std::chrono::seconds(10), atom::speak::value, text,
                st.agent_info.voice_id)
      .then(
          [self](pcm_ptr& pcm) {
            auto& s = self->state;
            s.greeting = std::move(pcm);
            if (s.media_started && !s.ended)
              s.media->play(s.greeting);
            else if (s.rec.direction == call_direction::inbound && !s.answered && !s.ended)
              arm(self, call_timer::answer, std::chrono::milliseconds(0));
          },
          [self](caf::error& e) {
            spdlog::warn("call {}: no greeting: {}", self->state.rec.id.value,
                         self->system().render(e));
            auto& s = self->state;
            if (s.rec.direction == call_direction::inbound && !s.answered && !s.ended)
              arm(self, call_timer::answer, std::chrono::milliseconds(0));
          });
}

// --- inbound ---------------------------------------------------------------------------------

void answer_inbound(self_ptr self) {
  auto& st = self->state;
  if (st.answered || st.ended) return;
  auto resp = sip::make_response(st.invite, 200, st.local_tag);
  resp.add_header("Contact", our_contact(self).to_string());
  resp.add_header("Allow", allow_methods);
  resp.add_header("User-Agent", "gobi");
  resp.add_header("Content-Type", "application/sdp");
  resp.body = sdp::to_string(st.late_offer ? st.offer : st.answer);
  auto d = sip::dialog::as_uas(st.invite, st.local_tag, our_contact(self));
  if (d) st.dialog = std::move(*d);
  self->send(st.sip, atom::respond::value, st.invite_key, std::move(resp));
  st.answered = true;
  st.rec.sip_status = 200;
  set_status(self, call_status::answered);
  arm(self, call_timer::max_duration, st.env.max_call_duration);
  if (st.late_offer) {
    // The peer's address and codec come with the answer in the ACK (on_ack).
    auto cseq = st.invite.cseq();
    st.answer_due_in_ack = cseq ? cseq->number : 1;
    return;
  }
  if (auto ok = start_media(self, *st.negotiated); !ok) {
    spdlog::error("call {}: media did not start: {}", st.rec.id.value, ok.err().message);
    send_bye(self);
    return finish(self, call_outcome::failed, 200, "media failed: " + ok.err().message);
  }
  persist(self); // codec, srtp, recording path: visible while the call lives
}

/// The SDP answer to an offer, with our media port (opened on first use).
result<sdp::negotiated_media> negotiate_offer(self_ptr self, const sip::message& req) {
  auto& st = self->state;
  if (body_of(req) != sdp_body::sdp) return error{errc::invalid_argument, not_sdp(req)};
  auto offer = sdp::parse(req.body);
  if (!offer) return error{errc::invalid_argument, "bad SDP: " + offer.err().message};
  if (auto ok = ensure_media(self); !ok) return std::move(ok).err();
  if (st.keys.empty()) {
    auto k = fresh_key();
    if (!k) return std::move(k).err();
    st.keys.push_back(*k);
  }
  auto a = sdp::answer_offer(*offer, caps(), local_endpoint(self), st.env.srtp, st.keys.front());
  if (!a) return error{errc::invalid_argument, a.err().message};
  st.answer = std::move(a->sdp);
  return std::move(a->media);
}

void on_reinvite(self_ptr self, const std::string& key, const sip::message& req) {
  auto& st = self->state;
  auto refuse = [&](int status, std::string_view reason) {
    self->send(st.sip, atom::respond::value, key, sip::make_response(req, status, {}, reason));
  };
  ++st.sdp_version;
  const sdp::session_description* ours = &st.answer;
  if (req.body.empty()) {
    // No offer (RFC 3261 14.2; a session refresh, say): ours goes in the 200 and the answer
    // comes in the ACK, as for a late-offer INVITE.
    if (auto ok = make_local_offer(self); !ok) {
      spdlog::warn("call {}: re-INVITE: {}", st.rec.id.value, ok.err().message);
      return refuse(500, "Server Internal Error");
    }
    auto cseq = req.cseq();
    st.answer_due_in_ack = cseq ? cseq->number : 0;
    ours = &st.offer;
  } else {
    auto m = negotiate_offer(self, req);
    if (!m) return refuse(488, "Not Acceptable Here");
    st.negotiated = *m;
    if (st.media_started)
      if (auto ok = st.media->update(*m); !ok)
        spdlog::warn("call {}: re-INVITE: {}", st.rec.id.value, ok.err().message);
  }
  auto resp = sip::make_response(req, 200);
  resp.add_header("Contact", our_contact(self).to_string());
  resp.add_header("Allow", allow_methods);
  resp.add_header("Content-Type", "application/sdp");
  resp.body = sdp::to_string(*ours);
  self->send(st.sip, atom::respond::value, key, std::move(resp));
}

/// The answer to our offer that an ACK carries.
result<sdp::negotiated_media> read_ack_answer(self_ptr self, const sip::message& ack) {
  auto& st = self->state;
  if (body_of(ack) != sdp_body::sdp)
    return error{errc::invalid_argument, "ACK without an SDP answer to our offer"};
  auto answer = sdp::parse(ack.body);
  if (!answer)
    return error{errc::invalid_argument, "bad SDP answer in the ACK: " + answer.err().to_string()};
  auto m = sdp::process_answer(st.offer, *answer, st.env.srtp, st.keys, caps());
  if (!m)
    return error{errc::invalid_argument,
                 "SDP answer in the ACK not acceptable: " + m.err().message};
  return std::move(*m);
}

/// An ACK for one of our 2xx. When that 2xx carried our offer (late offer, or a re-INVITE
/// without SDP), the ACK carries the answer (RFC 3261 13.2.1): the media starts with it or
/// follows it.
void on_ack(self_ptr self, const sip::message& ack) {
  auto& st = self->state;
  st.acked = true;
  auto cseq = ack.cseq();
  if (!st.answer_due_in_ack || !cseq || cseq->number != *st.answer_due_in_ack) return;
  st.answer_due_in_ack.reset(); // a retransmitted ACK (for a retransmitted 200) is not read
  if (st.ended) return;
  auto m = read_ack_answer(self, ack);
  if (st.media_started) {
    // A re-INVITE's: a bad answer there leaves the session as it was, rather than end a call
    // over a session refresh.
    if (!m) {
      spdlog::warn("call {}: re-INVITE: {}", st.rec.id.value, m.err().message);
      return;
    }
    st.negotiated = *m;
    if (auto ok = st.media->update(*m); !ok)
      spdlog::warn("call {}: re-INVITE: {}", st.rec.id.value, ok.err().message);
    return;
  }
  if (!m) {
    spdlog::info("call {}: late offer failed: {}", st.rec.id.value, m.err().message);
    send_bye(self);
    return finish(self, call_outcome::failed, st.rec.sip_status, "late offer: " + m.err().message);
  }
  if (auto ok = start_media(self, *m); !ok) {
    send_bye(self);
    return finish(self, call_outcome::failed, st.rec.sip_status,
                  "media failed: " + ok.err().message);
  }
  persist(self); // codec, srtp, recording path
}

/// A DTMF digit the caller sent: kept in the record, which is written at once so that the
/// API shows the digits while the call lives.
void on_dtmf(self_ptr self, const media::dtmf_received& d) {
  auto& st = self->state;
  spdlog::debug("call {}: DTMF {}", st.rec.id.value, d.digit);
  if (!append_dtmf(st.rec, d.digit)) {
    if (st.rec.dtmf.size() >= defaults::max_dtmf_digits)
      spdlog::debug("call {}: DTMF {} not recorded: {} digits already", st.rec.id.value, d.digit,
                    st.rec.dtmf.size());
    return;
  }
  persist(self);
}

/// A request in the dialog (or a retransmitted/forked first INVITE).
void on_request(self_ptr self, const std::string& key, sip_packet& p) {
  auto& st = self->state;
  auto& req = p.msg;
  auto reply = [&](int status, std::string_view reason = {}) {
    self->send(st.sip, atom::respond::value, key, sip::make_response(req, status, {}, reason));
  };
  if (!st.dialog) {
    reply(481);
    return;
  }
  if (int bad = st.dialog->on_request(req); bad != 0) {
    reply(bad);
    return;
  }
  if (req.method == "BYE") {
    reply(200);
    st.dialog->terminate();
    return finish(self, st.answered ? call_outcome::answered : call_outcome::cancelled,
                  st.rec.sip_status, "remote hung up");
  }
  if (req.method == "INVITE") {
    if (st.ended) {
      reply(481);
      return;
    }
    return on_reinvite(self, key, req);
  }
  if (req.method == "INFO" || req.method == "OPTIONS" || req.method == "UPDATE") {
    reply(200);
    return;
  }
  reply(405);
}

// --- outbound --------------------------------------------------------------------------------

sip::message make_invite(self_ptr self, std::uint32_t cseq, const std::string& call_id,
                         const std::string& from_tag) {
  auto& st = self->state;
  const auto& trunk = *st.trunk;
  sip::request_spec spec;
  spec.method = "INVITE";
  spec.request_uri.user = st.rec.to;
  spec.request_uri.host = trunk.host;
  spec.request_uri.port = static_cast<std::uint16_t>(trunk.port);
  if (trunk.transport == sip_transport_kind::tcp)
    sip::set_param(spec.request_uri.params, "transport", std::string{"tcp"});
  spec.from.uri.user = st.rec.from.empty() ? std::string{"gobi"} : st.rec.from;
  spec.from.uri.host = st.env.sip_host;
  spec.from.set_tag(from_tag);
  spec.to.uri.user = st.rec.to;
  spec.to.uri.host = trunk.host;
  spec.call_id = call_id;
  spec.cseq = cseq;
  spec.via = our_via(self);
  spec.contact = our_contact(self);
  spec.content_type = "application/sdp";
  spec.body = sdp::to_string(st.offer);
  spec.extra.push_back({"User-Agent", "gobi"});
  spec.extra.push_back({"Allow", allow_methods});
  return sip::make_request(spec);
}

void send_invite(self_ptr self, sip::message invite) {
  auto& st = self->state;
  auto key = sip::client_key_for_request(invite);
  st.invite_key = key ? key->to_string() : std::string{};
  st.invite = invite;
  send_request(self, std::move(invite), st.peer);
}

void send_ack(self_ptr self) {
  auto& st = self->state;
  if (!st.dialog) return;
  auto cseq = st.invite.cseq();
  auto ack = st.dialog->make_ack(cseq ? cseq->number : 1, our_via(self));
  self->send(st.sip, atom::send::value, std::move(ack), dialog_peer(self));
}

void on_2xx(self_ptr self, const sip::message& resp) {
  auto& st = self->state;
  if (st.dialog && st.answered) {
    send_ack(self); // a retransmitted 2xx: ACK again
    return;
  }
  auto d = sip::dialog::as_uac(st.invite, resp);
  if (!d) {
    spdlog::warn("call {}: 2xx without a usable dialog: {}", st.rec.id.value, d.err().message);
    return finish(self, call_outcome::failed, resp.status, "bad 2xx: " + d.err().message);
  }
  st.dialog = std::move(*d);
  st.answered = true;
  send_ack(self);
  if (st.ended || st.cancel != sip::cancel_reason::none) {
    // Our CANCEL lost the race with the answer: end it properly.
    send_bye(self);
    if (!st.ended) finish(self, call_outcome::answered, resp.status, "hung up as it was answered");
    return;
  }
  st.rec.sip_status = resp.status;
  auto answer = sdp::parse(resp.body);
  if (!answer) {
    send_bye(self);
    return finish(self, call_outcome::failed, resp.status, "2xx without a usable SDP answer");
  }
  auto m = sdp::process_answer(st.offer, *answer, st.env.srtp, st.keys, caps());
  if (!m) {
    send_bye(self);
    return finish(self, call_outcome::failed, resp.status,
                  "SDP answer not acceptable: " + m.err().message);
  }
  set_status(self, call_status::answered);
  if (auto ok = start_media(self, *m); !ok) {
    send_bye(self);
    return finish(self, call_outcome::failed, resp.status, "media failed: " + ok.err().message);
  }
  persist(self); // codec, srtp, recording path
  arm(self, call_timer::max_duration, st.env.max_call_duration);
}

bool retry_with_credentials(self_ptr self, const sip::message& resp) {
  auto& st = self->state;
  const auto& trunk = *st.trunk;
  if (trunk.username.empty() || st.auth_attempts >= 2) return false;
  bool proxy = resp.status == 407;
  auto challenge =
      sip::select_challenge(resp.header_values(proxy ? "Proxy-Authenticate" : "WWW-Authenticate"));
  if (!challenge) return false;
  ++st.auth_attempts;
  auto cseq = st.invite.cseq();
  auto from = st.invite.from();
  auto invite = make_invite(self, (cseq ? cseq->number : 1) + 1, st.rec.sip_call_id,
                            from ? from->tag() : sip::random_token());
  auto uri = invite.request_uri.to_string();
  auto cnonce = sip::random_token();
  sip::digest_request dr{"INVITE", uri, invite.body, cnonce, 1};
  invite.add_header(proxy ? "Proxy-Authorization" : "Authorization",
                    sip::make_authorization(*challenge, {trunk.username, trunk.password}, dr));
  send_invite(self, std::move(invite));
  return true;
}

void on_invite_response(self_ptr self, const sip::message& resp) {
  auto& st = self->state;
  if (resp.status > 100 && resp.status < 200 && st.cancel != sip::cancel_reason::none) {
    st.provisional_seen = true;
    send_cancel(self); // the CANCEL that waited for a provisional response
    return;
  }
  if (st.ended && resp.status >= 200) {
    // The answer to an INVITE we cancelled: a 2xx gets ACK and BYE; then the CALL can go.
    if (resp.status < 300) on_2xx(self, resp);
    st.invite_pending = false;
    if (st.media_closed || !st.media) quit_now(self);
    return;
  }
  if (resp.status < 200) {
    if (resp.status > 100) {
      st.provisional_seen = true;
      if (!st.ended) set_status(self, call_status::ringing);
    }
    return;
  }
  if (resp.status < 300) return on_2xx(self, resp);
  if ((resp.status == 401 || resp.status == 407) && !st.ended &&
      st.cancel == sip::cancel_reason::none && retry_with_credentials(self, resp))
    return;
  auto v = sip::verdict_for_response(resp.status, st.cancel);
  auto reason = resp.reason.empty() ? std::string{sip::reason_phrase(resp.status)} : resp.reason;
  if (st.cancel != sip::cancel_reason::none && !st.rec.end_reason.empty())
    reason = st.rec.end_reason;
  finish(self, v.outcome, resp.status, std::to_string(resp.status) + " " + reason);
}

} // namespace

// --- the two behaviors -------------------------------------------------------------------------

namespace {

call_actor::behavior_type common_behavior(self_ptr self) {
  return {
      [self](atom::sip_req, std::string& key, sip_packet& p) {
        auto& st = self->state;
        if (p.msg.method == "INVITE" && st.rec.direction == call_direction::inbound &&
            key == st.invite_key)
          return; // a retransmission the layer let through: nothing new
        on_request(self, key, p);
      },
      [self](atom::sip_ack, sip_packet& p) { on_ack(self, p.msg); },
      [self](atom::sip_resp, std::string& key, sip::message& resp) {
        auto& st = self->state;
        if (st.rec.direction == call_direction::outbound && (key == st.invite_key || key.empty()) &&
            resp.transaction_method() == "INVITE")
          return on_invite_response(self, resp);
        // Responses to BYE, CANCEL, re-INVITE: nothing to do (a 2xx to a CANCEL is expected).
      },
      [self](atom::sip_fail, std::string& key, std::string& method, sip::termination why) {
        auto& st = self->state;
        bool transport = why == sip::termination::transport_error;
        if (st.rec.direction == call_direction::outbound && method == "INVITE" &&
            (key == st.invite_key || key.empty()) && st.ended) {
          st.invite_pending = false;
          if (st.media_closed || !st.media) quit_now(self);
          return;
        }
        if (st.rec.direction == call_direction::outbound && method == "INVITE" &&
            (key == st.invite_key || key.empty())) {
          auto progress = st.provisional_seen ? sip::invite_progress::provisional_received
                                              : sip::invite_progress::sent;
          auto v = sip::verdict_for_no_response(progress, transport, st.cancel);
          return finish(self, v.outcome, 0, v.reason);
        }
        if (st.rec.direction == call_direction::inbound && method == "INVITE" &&
            key == st.invite_key && st.answered && !st.acked) {
          send_bye(self);
          return finish(self, call_outcome::failed, 200, "no ACK for our 200");
        }
        if (method == "BYE" && !st.ended)
          finish(self, call_outcome::answered, st.rec.sip_status, "BYE unanswered");
      },
      [self](atom::cancel) {
        auto& st = self->state;
        if (!st.answered) finish(self, call_outcome::cancelled, 487, "caller cancelled");
      },
      [self](atom::media, rtp::call_media_event& e) {
        auto& st = self->state;
        if (std::holds_alternative<rtp::media_timed_out>(e)) {
          if (st.ended) return;
          spdlog::info("call {}: media timeout", st.rec.id.value);
          send_bye(self);
          return finish(self, call_outcome::answered, st.rec.sip_status, "media timeout");
        }
        if (auto* d = std::get_if<media::dtmf_received>(&e)) on_dtmf(self, *d);
      },
      [self](atom::closed, rtp::call_media_summary& s) {
        auto& st = self->state;
        if ((s.recording_frames == 0 || !s.recording_ok) && !st.rec.recording_path.empty()) {
          std::error_code ec;
          std::filesystem::remove(st.rec.recording_path, ec); // an empty or broken WAV
          st.rec.recording_path.clear();
        }
        spdlog::debug("call {}: media closed: {} packets in, {} out, {} lost", st.rec.id.value,
                      s.packets_received, s.packets_sent, s.packets_lost);
        if (st.media_started) st.rec.media = media_stats_of(s);
        persist(self);
        st.media_closed = true;
        if (!st.invite_pending)
          quit_now(self);
        else
          arm(self, call_timer::media_close, std::chrono::seconds(34)); // 64*T1 and a margin
      },
      [self](atom::timeout, call_timer_msg& t) {
        auto& st = self->state;
        switch (t.which) {
        case call_timer::answer:
          if (st.rec.direction == call_direction::inbound) answer_inbound(self);
          break;
        case call_timer::ring:
          if (!st.answered && !st.ended && st.rec.direction == call_direction::outbound)
            hang_up(self, "no answer", sip::cancel_reason::ring_timeout);
          break;
        case call_timer::max_duration:
          if (!st.ended && st.answered) {
            send_bye(self);
            finish(self, call_outcome::answered, st.rec.sip_status, "maximum call duration");
          }
          break;
        case call_timer::media_close:
          if (t.generation != st.timer_generation) break; // superseded
          if (st.ended) {
            if (!st.media_closed)
              spdlog::warn("call {}: media did not close in time", st.rec.id.value);
            persist(self);
            quit_now(self);
          }
          break;
        }
      },
      [self](atom::hangup) -> caf::result<call_record> {
        auto& st = self->state;
        if (st.ended) return st.rec;
        auto rp = self->make_response_promise<call_record>();
        st.hangup_waiters.push_back(rp);
        hang_up(self, "hung up by API");
        return rp;
      },
      [self](atom::get) -> call_record { return self->state.rec; },
  };
}

void init(self_ptr self, telephony_env env, sip_endpoint_actor sip, agent a, call_record rec) {
  auto& st = self->state;
  st.env = std::move(env);
  st.sip = std::move(sip);
  st.agent_info = std::move(a);
  st.rec = std::move(rec);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // gobid shutting down: hang up properly, then go.
    hang_up(self, "gobid shutting down");
    if (!self->state.ended) finish(self, call_outcome::failed, 0, "gobid shutting down");
    // Do not wait for the media to close: dropping the handle closes the port and finishes
    // the WAV on its thread.
    self->send(self->state.sip, atom::unbind::value, self->state.rec.sip_call_id);
    self->quit(msg.reason);
  });
}

} // namespace

call_actor::behavior_type call_inbound(self_ptr self, telephony_env env, sip_endpoint_actor sip,
                                       agent a, call_record rec, inbound_start start) {
  init(self, std::move(env), std::move(sip), std::move(a), std::move(rec));
  auto& st = self->state;
  st.invite_key = std::move(start.key);
  st.invite = std::move(start.invite.msg);
  st.peer = std::move(start.invite.from);
  st.local_tag = sip::random_token();
  self->send(st.sip, atom::bind::value, st.rec.sip_call_id, caf::actor_cast<call_actor>(self));
  persist(self, true);
  auto refuse = [&](int status, const std::string& why) {
    auto resp = sip::make_response(st.invite, status, st.local_tag);
    auto text = why; // a quoted-string (RFC 3261 20.43): no quotes inside
    std::replace(text.begin(), text.end(), '"', '\'');
    resp.add_header("Warning", "399 gobi \"" + text + "\"");
    if (status == 415) resp.add_header("Accept", "application/sdp");
    self->send(st.sip, atom::respond::value, st.invite_key, std::move(resp));
    finish(self, status == 500 ? call_outcome::failed : call_outcome::rejected, status, why);
  };
  switch (body_of(st.invite)) {
  case sdp_body::none:
    // Late offer (RFC 3264): our offer goes in the 200, the answer comes in the ACK.
    st.late_offer = true;
    if (auto ok = make_local_offer(self); !ok) {
      refuse(500, ok.err().message);
      return common_behavior(self);
    }
    break;
  case sdp_body::other:
    refuse(415, not_sdp(st.invite));
    return common_behavior(self);
  case sdp_body::sdp: {
    auto m = negotiate_offer(self, st.invite);
    if (!m) {
      refuse(488, m.err().message);
      return common_behavior(self);
    }
    st.negotiated = *m;
    break;
  }
  }
  auto ringing = sip::make_response(st.invite, 180, st.local_tag);
  ringing.add_header("Contact", our_contact(self).to_string());
  self->send(st.sip, atom::respond::value, st.invite_key, std::move(ringing));
  set_status(self, call_status::ringing);
  ask_greeting(self);
  arm(self, call_timer::answer, st.env.answer_wait);
  return common_behavior(self);
}

call_actor::behavior_type call_outbound(self_ptr self, telephony_env env, sip_endpoint_actor sip,
                                        agent a, call_record rec, outbound_start start) {
  init(self, std::move(env), std::move(sip), std::move(a), std::move(rec));
  auto& st = self->state;
  st.trunk = std::move(start.trunk);
  st.peer = sip::peer{st.trunk->transport == sip_transport_kind::tcp ? sip::protocol::tcp
                                                                     : sip::protocol::udp,
                      st.trunk->host, static_cast<std::uint16_t>(st.trunk->port), 0};
  st.rec.sip_call_id = sip::random_token(12) + "@" + st.env.sip_host;
  self->send(st.sip, atom::bind::value, st.rec.sip_call_id, caf::actor_cast<call_actor>(self));
  persist(self, true);
  ask_greeting(self);
  if (auto ok = make_local_offer(self); !ok) {
    finish(self, call_outcome::failed, 0, ok.err().message);
    return common_behavior(self);
  }
  send_invite(self, make_invite(self, 1, st.rec.sip_call_id, sip::random_token()));
  arm(self, call_timer::ring, st.env.ring_timeout);
  return common_behavior(self);
}

} // namespace gobi::actors
