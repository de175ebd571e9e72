#include "actors/call/telephony.hpp"

#include "domain/defaults.hpp"
#include "domain/sip/builder.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

using self_ptr = sip_endpoint_actor::stateful_pointer<sip_endpoint_state>;

sip::millis now_ms(self_ptr self) {
  return std::chrono::duration_cast<sip::millis>(std::chrono::steady_clock::now() -
                                                 self->state.epoch);
}

/// Keeps a tick pending for the earliest armed timer. A tick armed for a later deadline (a
/// 32 s timer J, say) must not starve an earlier one armed since (a new INVITE's 500 ms timer
/// A): then another tick goes out for the earlier deadline. Extra ticks are harmless.
void arm_tick(self_ptr self) {
  auto& st = self->state;
  auto next = st.layer.next_timer();
  if (!next) return;
  if (st.tick_at && *st.tick_at <= *next) return;
  auto wait = std::max(sip::millis{5}, *next - now_ms(self));
  st.tick_at = *next;
  self->delayed_send(self, wait, atom::tick::value);
}

const call_actor* bound(self_ptr self, const std::string& call_id) {
  auto it = self->state.calls.find(call_id);
  return it == self->state.calls.end() ? nullptr : &it->second;
}

void respond_stateful(self_ptr self, const std::string& key, sip::message response);

/// Answers a request the endpoint handles itself (no CALL).
void answer(self_ptr self, const std::string& key, const sip::message& req, int status,
            std::vector<sip::header_field> extra = {}) {
  auto resp = sip::make_response(req, status, sip::random_token());
  for (auto& h : extra)
    resp.add_header(h.name, h.value);
  respond_stateful(self, key, std::move(resp));
}

void on_request(self_ptr self, sip_layer::request_event& ev) {
  auto& st = self->state;
  auto& msg = ev.msg;
  auto cid = sip_layer::call_id_of(msg);
  auto to = msg.to();
  bool in_dialog = to && !to->tag().empty();
  if (auto* call = bound(self, cid)) {
    self->send(*call, atom::sip_req::value, std::move(ev.key),
               sip_packet{std::move(ev.msg), std::move(ev.from)});
    return;
  }
  if (msg.method == "INVITE" && !in_dialog) {
    if (st.draining) {
      answer(self, ev.key, msg, 503,
             {{"Retry-After", std::to_string(defaults::busy_retry_after_s)}});
      return;
    }
    self->send(st.supervisor, atom::invite::value, std::move(ev.key),
               sip_packet{std::move(ev.msg), std::move(ev.from)});
    return;
  }
  if (msg.method == "OPTIONS" && !in_dialog) {
    answer(self, ev.key, msg, 200, {{"Allow", allow_methods}, {"Accept", "application/sdp"}});
    return;
  }
  if (in_dialog) {
    answer(self, ev.key, msg, 481); // Call/Transaction Does Not Exist
    return;
  }
  if (msg.method == "BYE" || msg.method == "INFO" || msg.method == "UPDATE") {
    answer(self, ev.key, msg, 481);
    return;
  }
  answer(self, ev.key, msg, 405, {{"Allow", allow_methods}});
}

void carry_out(self_ptr self) {
  auto& st = self->state;
  // Events may call into the layer again (answers), which appends to st.out: take them first.
  auto sends = std::move(st.out.sends);
  auto events = std::move(st.out.events);
  st.out.clear();
  for (auto& s : sends) {
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("sip out to {}:{}: {}", s.to.address, s.to.port,
                    std::string_view{s.bytes}.substr(0, s.bytes.find('\r')));
    st.transport->send(s.to, std::move(s.bytes));
  }
  for (auto& e : events) {
    if (auto* r = std::get_if<sip_layer::request_event>(&e)) {
      on_request(self, *r);
    } else if (auto* a = std::get_if<sip_layer::ack_event>(&e)) {
      if (auto* call = bound(self, sip_layer::call_id_of(a->msg)))
        self->send(*call, atom::sip_ack::value, sip_packet{std::move(a->msg), std::move(a->from)});
    } else if (auto* c = std::get_if<sip_layer::cancelled_event>(&e)) {
      if (auto* call = bound(self, c->call_id))
        self->send(*call, atom::cancel::value);
      else
        st.cancelled_unbound.insert(c->call_id);
    } else if (auto* resp = std::get_if<sip_layer::response_event>(&e)) {
      if (auto it = st.client_owner.find(resp->key); it != st.client_owner.end())
        self->send(it->second, atom::sip_resp::value, resp->key, std::move(resp->msg));
    } else if (auto* s = std::get_if<sip_layer::stray_response_event>(&e)) {
      // A 2xx retransmitted after its INVITE transaction ended: the dialog ACKs it again.
      if (s->msg.status >= 200 && s->msg.status < 300)
        if (auto* call = bound(self, sip_layer::call_id_of(s->msg)))
          self->send(*call, atom::sip_resp::value, std::string{}, std::move(s->msg));
    } else if (auto* f = std::get_if<sip_layer::client_failed_event>(&e)) {
      if (auto it = st.client_owner.find(f->key); it != st.client_owner.end())
        self->send(it->second, atom::sip_fail::value, f->key, f->method, f->reason);
    } else if (auto* sf = std::get_if<sip_layer::server_failed_event>(&e)) {
      if (auto* call = bound(self, sf->call_id))
        self->send(*call, atom::sip_fail::value, sf->key, std::string{"INVITE"}, sf->reason);
    }
  }
  if (!st.out.sends.empty() || !st.out.events.empty()) carry_out(self);
  arm_tick(self);
}

void respond_stateful(self_ptr self, const std::string& key, sip::message response) {
  self->state.layer.respond(key, std::move(response), now_ms(self), self->state.out);
}

void unbind(self_ptr self, const std::string& call_id) {
  auto& st = self->state;
  st.calls.erase(call_id);
  st.cancelled_unbound.erase(call_id);
  if (auto it = st.keys_of_call.find(call_id); it != st.keys_of_call.end()) {
    for (auto& k : it->second)
      st.client_owner.erase(k);
    st.keys_of_call.erase(it);
  }
}

} // namespace

sip_endpoint_actor::behavior_type sip_endpoint(self_ptr self,
                                               std::shared_ptr<sip::transport> transport,
                                               call_supervisor_actor supervisor) {
  self->state.transport = std::move(transport);
  self->state.supervisor = std::move(supervisor);
  self->set_down_handler([self](caf::down_msg& msg) {
    // A CALL ended (or crashed) without unbinding: forget its dialogs.
    std::vector<std::string> gone;
    for (auto& [cid, call] : self->state.calls)
      if (call.address() == msg.source) gone.push_back(cid);
    for (auto& cid : gone)
      unbind(self, cid);
  });
  return {
      [self](atom::sip_in, sip_packet& p) {
        if (spdlog::should_log(spdlog::level::debug))
          spdlog::debug("sip in from {}:{}: {} {} {}", p.from.address, p.from.port,
                        p.msg.is_request() ? p.msg.method : std::to_string(p.msg.status),
                        p.msg.is_request() ? p.msg.request_uri.to_string() : p.msg.reason,
                        sip_layer::call_id_of(p.msg));
        self->state.layer.on_message(std::move(p.msg), p.from, now_ms(self), self->state.out);
        carry_out(self);
      },
      [self](atom::senderr, sip::peer& to, std::string& what) {
        spdlog::warn("sip: cannot send to {}:{} over {}: {}", to.address, to.port,
                     sip::to_string(to.proto), what);
        self->state.layer.on_transport_error(to, now_ms(self), self->state.out);
        carry_out(self);
      },
      [self](atom::tick) {
        self->state.tick_at.reset();
        self->state.layer.on_timers(now_ms(self), self->state.out);
        carry_out(self);
      },
      [self](atom::respond, std::string& key, sip::message& resp) {
        // A final answer for a call no CALL took (CALL_SUPERVISOR refused it): no CALL will
        // bind, so a CANCEL kept for one is forgotten.
        if (resp.status >= 200) {
          auto cid = sip_layer::call_id_of(resp);
          if (!bound(self, cid)) self->state.cancelled_unbound.erase(cid);
        }
        respond_stateful(self, key, std::move(resp));
        carry_out(self);
      },
      [self](atom::request, sip::message& req, sip::peer& to, call_actor& owner) {
        auto& st = self->state;
        auto cid = sip_layer::call_id_of(req);
        auto method = req.method;
        auto key = st.layer.request(std::move(req), to, now_ms(self), st.out);
        if (!key) {
          spdlog::warn("sip: {} not sent: {}", method, key.err().message);
          self->send(owner, atom::sip_fail::value, std::string{}, method,
                     sip::termination::transport_error);
          return;
        }
        st.client_owner[*key] = owner;
        st.keys_of_call[cid].push_back(*key);
        carry_out(self);
      },
      [self](atom::cancelsent, std::string& key) {
        self->state.layer.cancel_sent(key, now_ms(self), self->state.out);
        carry_out(self);
      },
      [self](atom::send, sip::message& msg, sip::peer& to) {
        self->state.layer.send_stateless(msg, to, self->state.out);
        carry_out(self);
      },
      [self](atom::bind, std::string& call_id, call_actor& call) {
        auto& st = self->state;
        self->monitor(call);
        st.calls[call_id] = call;
        if (st.cancelled_unbound.erase(call_id)) self->send(call, atom::cancel::value);
      },
      [self](atom::unbind, std::string& call_id) { unbind(self, call_id); },
      [self](atom::drain) { self->state.draining = true; },
  };
}

} // namespace gobi::actors
