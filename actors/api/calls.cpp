// /api/v1/calls: the call records (list, detail, recording) come from STORAGE; placing and
// hanging up a call go through CALL_SUPERVISOR, which may not be running (a null handle in
// api_config: those two answer 503 "telephony is not running" then).
//
// Recordings are WAV files of tens of MB. Neither HTTP_API (an event-based actor on the
// shared scheduler) nor STORAGE (whose one thread every CDR write of every live call waits
// behind) reads them: each download gets a short-lived blocking actor, i.e. its own thread,
// which reads the file and answers through the responder itself. At most
// defaults::recording_readers_max run at once (503 with Retry-After above that), and as
// actors they are waited for at shutdown, unlike a detached std::thread.

#include "actors/api/handlers.hpp"

#include <caf/blocking_actor.hpp>
#include <spdlog/spdlog.h>

#include <fstream>

namespace gobi::actors::api {

namespace {

using http::verb;

error telephony_down() {
  return {errc::unavailable, "telephony is not running"};
}

// --- reads -----------------------------------------------------------------------------------

void list(self_ptr self, const exchange& x, const caller& c) {
  auto offset = query_int(x->req, "offset", 0, std::int64_t{1} << 40);
  if (!offset) return fail(x, offset.err());
  auto limit = query_int(x->req, "limit", defaults::page_limit_default, defaults::page_limit_max);
  if (!limit) return fail(x, limit.err());
  const auto& q = x->req;
  auto f = read_call_filter(q.query_param("status"), q.query_param("campaignId"),
                            q.query_param("agentId"), q.query_param("direction"));
  if (!f) return fail(x, f.err());
  // Not through the list cache: calls change with every status of every live call.
  db<page<call_record>>(
      self, self->state.cfg.storage, t_none,
      [t = c.tenant, f = *f, o = *offset, l = *limit](storage::store& s) {
        return s.list_calls(t, f, o, l);
      },
      [x](page<call_record> p) { reply(x, 200, to_json_list(p.items, p.total)); }, failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, const call_id& id) {
  db<call_record>(
      self, self->state.cfg.storage, t_none,
      [t = c.tenant, id](storage::store& s) { return s.get_call(t, id); },
      [x](call_record r) { reply(x, 200, to_json(r)); }, failer(x));
}

// --- originate -------------------------------------------------------------------------------

/// A reference of the request that must exist in the tenant: 404 naming the field when it
/// does not, the store's error when the lookup failed otherwise.
template <class T>
status must_exist(const result<T>& r, std::string_view field, std::string_view what,
                  const std::string& id) {
  if (r) return unit;
  if (r.err().code != errc::not_found) return r.err();
  return error{errc::not_found,
               std::string{field} + ": " + std::string{what} + " " + id + " not found",
               std::string{field}};
}

/// Runs on STORAGE: the agent, trunk and campaign named must be the tenant's, a caller id
/// must come from somewhere, and the number must not be on the tenant's do-not-call list.
result<originate_request> check_originate(storage::store& s, const tenant_id& t,
                                          originate_request r) {
  auto dnc = s.is_dnc(t, r.to);
  if (!dnc) return std::move(dnc).err();
  if (*dnc)
    return error{errc::validation, "to: " + r.to + " is on the do-not-call list", "to"};
  if (auto ok = must_exist(s.get_agent(t, r.agent), "agentId", "agent", r.agent.value); !ok)
    return std::move(ok).err();
  auto trunk = s.get_sip_trunk(t, r.trunk);
  if (auto ok = must_exist(trunk, "trunkId", "SIP trunk", r.trunk.value); !ok)
    return std::move(ok).err();
  if (r.campaign)
    if (auto ok =
            must_exist(s.get_campaign(t, *r.campaign), "campaignId", "campaign", r.campaign->value);
        !ok)
      return std::move(ok).err();
  if (r.from.empty() && trunk->from_number.empty())
    return error{errc::validation,
                 "from: is required: SIP trunk " + r.trunk.value + " has no fromNumber", "from"};
  return r;
}

/// The request is valid: hand it to CALL_SUPERVISOR, which answers the record (DIALING)
/// once the INVITE is on its way, or an error (unavailable with retry_after_s at capacity).
void place_call(self_ptr self, const exchange& x, const tenant_id& t, originate_request r) {
  const auto& sup = self->state.cfg.calls;
  if (!sup) return fail(x, telephony_down());
  self->request(sup, defaults::actor_request_timeout, atom::originate::value, t, std::move(r))
      .then([x](call_record& c) { reply(x, 201, to_json(c)); }, caf_failer(x));
}

void originate(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc) return;
  auto r = read_originate(doc->root(), *self->state.cfg.phones);
  if (!r) return fail(x, r.err());
  db<originate_request>(
      self, self->state.cfg.storage, t_none,
      [t = c.tenant, r = std::move(*r)](storage::store& s) { return check_originate(s, t, r); },
      [self, x, t = c.tenant](originate_request ok) { place_call(self, x, t, std::move(ok)); },
      failer(x));
}

// --- hang up ---------------------------------------------------------------------------------

/// CALL_SUPERVISOR does not know the call (or does not run): 409 when the record says it
/// has ended, `otherwise` when it is live or does not exist (404 for an unknown id).
void hangup_unknown(self_ptr self, const exchange& x, const tenant_id& t, const call_id& id,
                    error otherwise) {
  db<call_record>(
      self, self->state.cfg.storage, t_none,
      [t, id](storage::store& s) { return s.get_call(t, id); },
      [x, otherwise](call_record c) {
        if (c.status == call_status::ended)
          return fail(x, {errc::conflict, "call " + c.id.value + " has ended"});
        fail(x, otherwise);
      },
      failer(x));
}

void hangup(self_ptr self, const exchange& x, const caller& c, const call_id& id) {
  const auto& sup = self->state.cfg.calls;
  if (!sup) return hangup_unknown(self, x, c.tenant, id, telephony_down());
  self->request(sup, defaults::actor_request_timeout, atom::hangup::value, c.tenant, id)
      .then([x](call_record& r) { reply(x, 200, to_json(r)); },
            [self, x, t = c.tenant, id](caf::error& e) {
              auto err = from_caf(e);
              if (err.code != errc::not_found) return fail(x, err);
              hangup_unknown(self, x, t, id, std::move(err));
            });
}

// --- recording -------------------------------------------------------------------------------

/// The body of a blocking actor (its own thread): reads the WAV file and answers.
void read_recording(caf::blocking_actor*, exchange x, std::string path, call_id id,
                    std::shared_ptr<std::atomic<int>> readers) {
  std::ifstream in{path, std::ios::binary};
  std::string bytes;
  if (in) {
    in.seekg(0, std::ios::end);
    auto size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size > 0) bytes.resize(static_cast<std::size_t>(size));
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  readers->fetch_sub(1, std::memory_order_acq_rel);
  if (!in || bytes.empty()) {
    spdlog::warn("recording of {}: cannot read {}", id.value, path);
    return fail(x, {errc::not_found, "the recording of call " + id.value + " is gone"});
  }
  reply_as(x, 200, "audio/wav", std::move(bytes),
           {{"Content-Disposition", "attachment; filename=\"" + id.value + ".wav\""}});
}

void serve_recording(self_ptr self, const exchange& x, const call_record& c) {
  if (c.status != call_status::ended)
    return fail(x, {errc::conflict,
                    "call " + c.id.value + " is live: its recording is ready once it has ended"});
  if (c.recording_path.empty())
    return fail(x, {errc::not_found, "call " + c.id.value + " has no recording"});
  auto readers = self->state.recording_readers;
  if (readers->fetch_add(1, std::memory_order_acq_rel) >= defaults::recording_readers_max) {
    readers->fetch_sub(1, std::memory_order_acq_rel);
    error busy{errc::unavailable, "too many recording downloads at once; retry shortly"};
    busy.retry_after_s = 1;
    return fail(x, busy);
  }
  self->spawn(read_recording, x, c.recording_path, c.id, std::move(readers));
}

void recording(self_ptr self, const exchange& x, const caller& c, const call_id& id) {
  db<call_record>(
      self, self->state.cfg.storage, t_none,
      [t = c.tenant, id](storage::store& s) { return s.get_call(t, id); },
      [self, x](call_record r) { serve_recording(self, x, r); }, failer(x));
}

} // namespace

void calls(self_ptr self, const exchange& x, const caller& c,
           const std::vector<std::string_view>& rest) {
  auto m = x->req.method;
  if (rest.empty()) {
    if (m == verb::get) return list(self, x, c);
    if (m == verb::post) return originate(self, x, c);
    return method_not_allowed(x, "GET, POST");
  }
  call_id id{std::string{rest[0]}};
  if (rest.size() == 1) return m == verb::get ? get(self, x, c, id) : method_not_allowed(x, "GET");
  if (rest.size() == 2 && rest[1] == "hangup")
    return m == verb::post ? hangup(self, x, c, id) : method_not_allowed(x, "POST");
  if (rest.size() == 2 && rest[1] == "recording")
    return m == verb::get ? recording(self, x, c, id) : method_not_allowed(x, "GET");
  not_found(x);
}

} // namespace gobi::actors::api
