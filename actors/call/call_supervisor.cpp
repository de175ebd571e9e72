#include "actors/call/telephony.hpp"

#include "actors/storage_actor.hpp"
#include "domain/defaults.hpp"
#include "domain/sip/builder.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

using self_ptr = call_supervisor_actor::stateful_pointer<call_supervisor_state>;

/// Where an inbound call goes: the number dialled, and the agent that answers it.
struct inbound_route {
  phone_number number; ///< its campaign, if any, is the call's
  agent answering;
};

/// The E.164 candidates for a Request-URI user: as written with a '+', and as the normaliser
/// reads it (national forms).
std::vector<std::string> number_candidates(const std::string& user, const phone::normalizer& p) {
  std::vector<std::string> out;
  std::string digits;
  for (char c : user)
    if (c >= '0' && c <= '9')
      digits += c;
    else if (c != '+' && c != '-' && c != '.' && c != '(' && c != ')' && c != ' ')
      return out; // not a phone number at all
  if (digits.empty()) return out;
  out.push_back("+" + digits);
  if (auto e = p.to_e164(user); e && *e != out.front()) out.push_back(*e);
  return out;
}

result<inbound_route> route_number(storage::store& s, const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    auto n = s.find_phone_number(c);
    if (!n) {
      if (n.err().code == errc::not_found) continue;
      return std::move(n).err();
    }
    if (n->agent) {
      auto a = s.get_agent(n->tenant, *n->agent);
      if (!a) return std::move(a).err();
      return inbound_route{std::move(*n), std::move(*a)};
    }
    if (n->campaign) {
      auto cmp = s.get_campaign(n->tenant, *n->campaign);
      if (!cmp) return std::move(cmp).err();
      if (cmp->type != campaign_type::inbound)
        return error{errc::not_found, "number " + c + " belongs to an outbound campaign"};
      // The campaign's active agents, best priority first.
      auto agents = cmp->agents;
      std::stable_sort(agents.begin(), agents.end(),
                       [](auto& x, auto& y) { return x.priority < y.priority; });
      for (auto& ca : agents) {
        if (!ca.active) continue;
        auto a = s.get_agent(n->tenant, ca.agent);
        if (a) return inbound_route{std::move(*n), std::move(*a)};
      }
      return error{errc::not_found, "campaign " + cmp->id.value + " has no active agent"};
    }
    return error{errc::not_found, "number " + c + " has no agent or inbound campaign"};
  }
  return error{errc::not_found, "no such number"};
}

error unavailable(std::string msg, std::string field, int retry_after_s) {
  error e{errc::unavailable, std::move(msg), std::move(field)};
  e.retry_after_s = retry_after_s;
  return e;
}

void refuse(self_ptr self, const std::string& key, const sip::message& invite, int status,
            std::string_view reason = {}, bool retry_after = false) {
  auto resp = sip::make_response(invite, status, sip::random_token(), reason);
  if (retry_after) resp.add_header("Retry-After", std::to_string(defaults::busy_retry_after_s));
  self->send(self->state.sip, atom::respond::value, key, std::move(resp));
}

std::int64_t live_count(self_ptr self) {
  return static_cast<std::int64_t>(self->state.live.size()) + self->state.admitting;
}

void track(self_ptr self, const call_record& rec, const call_actor& h) {
  auto& st = self->state;
  self->monitor(h);
  live_call lc{h, rec.tenant, rec.agent.value_or(agent_id{}), rec.trunk};
  st.by_addr[h.address()] = rec.id.value;
  ++st.per_agent[lc.agent.value];
  if (lc.trunk) ++st.per_trunk[lc.trunk->value];
  st.live.emplace(rec.id.value, std::move(lc));
}

call_record new_record(self_ptr self, const tenant_id& t, call_direction d) {
  call_record r;
  r.id = call_id{storage::new_id(id_prefix::call)};
  r.tenant = t;
  r.direction = d;
  r.status = call_status::dialing;
  r.created_at = r.updated_at = self->state.env.now();
  return r;
}

/// Trunk pacing: no more than calls_per_second starts in any one-second window.
bool trunk_rate_ok(self_ptr self, const sip_trunk& t, millis now) {
  auto& q = self->state.trunk_starts[t.id.value];
  while (!q.empty() && q.front() <= now - 1000)
    q.pop_front();
  auto limit = std::max<double>(1.0, t.calls_per_second);
  if (static_cast<double>(q.size()) >= limit) return false;
  q.push_back(now);
  return true;
}

} // namespace

void connect(const call_supervisor_actor& sup, const sip_endpoint_actor& sip) {
  caf::anon_send(sup, atom::bind::value, sip);
}

call_supervisor_actor::behavior_type call_supervisor(self_ptr self, telephony_env env) {
  self->state.env = std::move(env);
  // Shutdown: the CALLs go with the supervisor (each hangs up on its way out).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, lc] : self->state.live)
      self->send_exit(lc.handle, msg.reason);
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto it = st.by_addr.find(msg.source);
    if (it == st.by_addr.end()) return;
    if (auto lc = st.live.find(it->second); lc != st.live.end()) {
      if (--st.per_agent[lc->second.agent.value] <= 0) st.per_agent.erase(lc->second.agent.value);
      if (lc->second.trunk)
        if (--st.per_trunk[lc->second.trunk->value] <= 0)
          st.per_trunk.erase(lc->second.trunk->value);
      st.live.erase(lc);
    }
    st.by_addr.erase(it);
  });
  return {
      [self](atom::bind, sip_endpoint_actor& sip) { self->state.sip = std::move(sip); },
      [self](atom::invite, std::string& key, sip_packet& p) {
        auto& st = self->state;
        if (st.draining) return refuse(self, key, p.msg, 503, "Shutting Down", true);
        if (live_count(self) >= st.env.max_calls)
          return refuse(self, key, p.msg, 503, "Service Unavailable", true);
        auto candidates = number_candidates(p.msg.request_uri.user, *st.env.phones);
        if (candidates.empty()) return refuse(self, key, p.msg, 404, "Not Found");
        ++st.admitting;
        auto packet = std::make_shared<sip_packet>(std::move(p));
        db<inbound_route>(
            self, st.env.storage, t_none,
            [candidates](storage::store& s) { return route_number(s, candidates); },
            [self, key, packet](inbound_route r) {
              auto& sv = self->state;
              --sv.admitting;
              if (sv.draining) return refuse(self, key, packet->msg, 503, "Shutting Down", true);
              auto busy = sv.per_agent[r.answering.id.value];
              if (busy >= std::max(1, r.answering.max_concurrent_calls))
                return refuse(self, key, packet->msg, 486, "Busy Here", true);
              auto rec = new_record(self, r.number.tenant, call_direction::inbound);
              rec.agent = r.answering.id;
              rec.campaign = r.number.campaign;
              rec.number = r.number.id;
              rec.to = r.number.number;
              auto from = packet->msg.from();
              rec.from = from ? from->uri.user : std::string{};
              if (auto e = sv.env.phones->to_e164(rec.from); e) rec.from = *e;
              rec.sip_call_id = sip_layer::call_id_of(packet->msg);
              inbound_start start{key, std::move(*packet)};
              auto h = self->spawn(call_inbound, sv.env, sv.sip, std::move(r.answering), rec,
                                   std::move(start));
              track(self, rec, h);
            },
            [self, key, packet](const error& e) {
              --self->state.admitting;
              if (e.code == errc::not_found) {
                spdlog::info("sip: INVITE for {}: {}", packet->msg.request_uri.user, e.message);
                return refuse(self, key, packet->msg, 404, "Not Found");
              }
              spdlog::error("sip: routing an INVITE failed: {}", e.message);
              refuse(self, key, packet->msg, 500, "Server Internal Error");
            });
      },
      [self](atom::drain) {
        auto& st = self->state;
        st.draining = true;
        for (auto& [id, lc] : st.live)
          caf::anon_send(lc.handle, atom::hangup::value);
      },
      [self](atom::originate, const tenant_id& t,
             originate_request& req) -> caf::result<call_record> {
        auto& st = self->state;
        if (st.draining)
          return to_caf(unavailable("gobid is shutting down", {},
                                    static_cast<int>(defaults::busy_retry_after_s)));
        if (live_count(self) >= st.env.max_calls)
          return to_caf(
              unavailable("at capacity: " + std::to_string(st.env.max_calls) + " live calls", {},
                          static_cast<int>(defaults::busy_retry_after_s)));
        auto rp = self->make_response_promise<call_record>();
        struct loaded {
          agent a;
          sip_trunk trunk;
        };
        ++st.admitting;
        db<loaded>(
            self, st.env.storage, t_none,
            [t, agent = req.agent, trunk = req.trunk](storage::store& s) -> result<loaded> {
              auto a = s.get_agent(t, agent);
              if (!a) return std::move(a).err();
              auto k = s.get_sip_trunk(t, trunk);
              if (!k) return std::move(k).err();
              return loaded{std::move(*a), std::move(*k)};
            },
            [self, rp, t, req](loaded l) mutable {
              auto& sv = self->state;
              --sv.admitting;
              auto now = sv.env.now();
              auto reject = [&rp](const error& e) { rp.deliver(to_caf(e)); };
              if (sv.per_agent[l.a.id.value] >= std::max(1, l.a.max_concurrent_calls))
                return reject(
                    (unavailable("agent " + l.a.id.value + " is at its " +
                                     std::to_string(l.a.max_concurrent_calls) + " concurrent calls",
                                 "agentId", static_cast<int>(defaults::busy_retry_after_s))));
              if (sv.per_trunk[l.trunk.id.value] >= std::max(1, l.trunk.max_channels))
                return reject(
                    (unavailable("trunk " + l.trunk.id.value + " is at its " +
                                     std::to_string(l.trunk.max_channels) + " channels",
                                 "trunkId", static_cast<int>(defaults::busy_retry_after_s))));
              if (!trunk_rate_ok(self, l.trunk, now))
                return reject((unavailable(
                    "trunk " + l.trunk.id.value + " is at its calls per second", "trunkId", 1)));
              auto rec = new_record(self, t, call_direction::outbound);
              rec.agent = l.a.id;
              rec.trunk = l.trunk.id;
              rec.campaign = req.campaign;
              rec.lead = req.lead;
              rec.to = req.to;
              rec.from = req.from.empty() ? l.trunk.from_number : req.from;
              auto h = self->spawn(call_outbound, sv.env, sv.sip, std::move(l.a), rec,
                                   outbound_start{std::move(l.trunk)});
              track(self, rec, h);
              self->request(h, defaults::actor_request_timeout, atom::get::value)
                  .then([rp](call_record& r) mutable { rp.deliver(std::move(r)); },
                        [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
            },
            [self, rp](const error& e) mutable {
              --self->state.admitting;
              rp.deliver(to_caf(e));
            });
        return rp;
      },
      [self](atom::hangup, const tenant_id& t, const call_id& id) -> caf::result<call_record> {
        auto it = self->state.live.find(id.value);
        if (it == self->state.live.end() || it->second.tenant != t)
          return to_caf({errc::not_found, "call " + id.value + " is not live"});
        return self->delegate(it->second.handle, atom::hangup::value);
      },
      [self](atom::status) -> std::int64_t {
        return static_cast<std::int64_t>(self->state.live.size());
      },
  };
}

} // namespace gobi::actors
