#include "actors/api/handlers.hpp"

namespace gobi::actors::api {

namespace {

using http::verb;

/// The agent and campaign a number points at must be the caller's.
status check_number_refs(storage::store& s, const phone_number& n) {
  if (n.agent && !s.get_agent(n.tenant, *n.agent))
    return error{errc::validation, "agentId: unknown agent " + n.agent->value, "agentId"};
  if (n.campaign) {
    auto c = s.get_campaign(n.tenant, *n.campaign);
    if (!c)
      return error{errc::validation, "campaignId: unknown campaign " + n.campaign->value,
                   "campaignId"};
    if (c->type != campaign_type::inbound)
      return error{errc::validation, "campaignId: only an INBOUND campaign takes calls",
                   "campaignId"};
  }
  return unit;
}

void list(self_ptr self, const exchange& x, const caller& c) {
  cached_list(self, x, "numbers/" + c.tenant.value, t_numbers,
              list_loader(c.tenant, &storage::store::list_phone_numbers));
}

void create(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc)
    return;
  phone_number n;
  if (auto ok = read_phone_number(doc->root(), n, true, *self->state.cfg.phones); !ok)
    return fail(x, ok.err());
  n.tenant = c.tenant;
  n.created_at = n.updated_at = self->state.cfg.now();
  db<phone_number>(
    self, self->state.cfg.storage, t_numbers,
    [n](storage::store& s) -> result<phone_number> {
      if (auto ok = check_number_refs(s, n); !ok)
        return std::move(ok).err();
      auto created = s.create_phone_number(n);
      if (!created && created.err().code == errc::conflict)
        return error{errc::conflict, "number " + n.number + " is already registered", "number"};
      return created;
    },
    [x](phone_number created) { reply(x, 201, to_json(created)); }, failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, phone_number_id id) {
  db<phone_number>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) { return s.get_phone_number(t, id); },
    [x](phone_number n) { reply(x, 200, to_json(n)); }, failer(x));
}

/// PUT/PATCH, and POST assign-agent (which only reads agentId, and requires it).
void update(self_ptr self, const exchange& x, const caller& c, phone_number_id id,
            bool assign_agent) {
  auto doc = body_object(x);
  if (!doc)
    return;
  if (assign_agent) {
    auto a = doc->root().get("agentId");
    if (!a || !(a->is_string() || a->is_null()))
      return fail(x, {errc::validation, "agentId: is required (a string, or null to unassign)",
                      "agentId"});
  }
  auto phones = self->state.cfg.phones;
  db<phone_number>(
    self, self->state.cfg.storage, t_numbers,
    [doc, phones, c, id, assign_agent,
     now = self->state.cfg.now()](storage::store& s) -> result<phone_number> {
      auto n = s.get_phone_number(c.tenant, id);
      if (!n)
        return n;
      if (assign_agent) {
        auto a = doc->root().get("agentId");
        if (a->is_null())
          n->agent.reset();
        else
          n->agent = agent_id{std::string{a->as_string()}};
      } else if (auto ok = read_phone_number(doc->root(), *n, false, *phones); !ok) {
        return std::move(ok).err();
      }
      if (auto ok = check_number_refs(s, *n); !ok)
        return std::move(ok).err();
      n->updated_at = now;
      auto updated = s.update_phone_number(*n);
      if (!updated && updated.err().code == errc::conflict)
        return error{errc::conflict, "number " + n->number + " is already registered", "number"};
      return updated;
    },
    [x](phone_number n) { reply(x, 200, to_json(n)); }, failer(x));
}

void remove(self_ptr self, const exchange& x, const caller& c, phone_number_id id) {
  db<unit_t>(
    self, self->state.cfg.storage, t_numbers | t_campaigns,
    [c, id](storage::store& s) { return s.delete_phone_number(c.tenant, id); },
    [x](unit_t) { reply_empty(x, 204); }, failer(x));
}

// --- DNC --------------------------------------------------------------------------------------

void dnc_list(self_ptr self, const exchange& x, const caller& c) {
  auto offset = query_int(x->req, "offset", 0, std::int64_t{1} << 40);
  if (!offset)
    return fail(x, offset.err());
  auto limit = query_int(x->req, "limit", defaults::page_limit_default, defaults::page_limit_max);
  if (!limit)
    return fail(x, limit.err());
  db<page<dnc_entry>>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, o = *offset, l = *limit](storage::store& s) { return s.list_dnc(t, o, l); },
    [x](page<dnc_entry> p) { reply(x, 200, to_json_list(p.items, p.total)); }, failer(x));
}

struct dnc_added {
  std::size_t added = 0;
  std::size_t leads_marked = 0;
  std::vector<std::string> numbers;
};

void dnc_add(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc)
    return;
  std::string reason;
  auto numbers = read_dnc_numbers(doc->root(), *self->state.cfg.phones, reason);
  if (!numbers)
    return fail(x, numbers.err());
  std::vector<dnc_entry> entries;
  auto now = self->state.cfg.now();
  for (const auto& n : *numbers)
    entries.push_back({c.tenant, n, reason, now});
  db<dnc_added>(
    self, self->state.cfg.storage, t_dnc | t_leads,
    [entries, t = c.tenant](storage::store& s) -> result<dnc_added> {
      dnc_added out;
      auto added = s.add_dnc(entries);
      if (!added)
        return std::move(added).err();
      out.added = *added;
      for (const auto& e : entries) {
        auto marked = s.mark_leads_dnc(t, e.number);
        if (!marked)
          return std::move(marked).err();
        out.leads_marked += *marked;
        out.numbers.push_back(e.number);
      }
      return out;
    },
    [x](dnc_added r) {
      json::writer w;
      w.begin_object()
        .field("added", static_cast<std::int64_t>(r.added))
        .field("leadsMarked", static_cast<std::int64_t>(r.leads_marked));
      w.key("numbers").begin_array();
      for (const auto& n : r.numbers)
        w.string(n);
      w.end_array().end_object();
      reply(x, 201, w.take());
    },
    failer(x));
}

void dnc_remove(self_ptr self, const exchange& x, const caller& c, std::string_view raw) {
  auto e164 = self->state.cfg.phones->to_e164(raw);
  if (!e164)
    return fail(x, {errc::validation, "number: " + e164.err().message, "number"});
  db<unit_t>(
    self, self->state.cfg.storage, t_dnc,
    [t = c.tenant, n = *e164](storage::store& s) { return s.remove_dnc(t, n); },
    [x](unit_t) { reply_empty(x, 204); }, failer(x));
}

} // namespace

void phone_numbers(self_ptr self, const exchange& x, const caller& c,
                   const std::vector<std::string_view>& rest) {
  static const resource_routes<phone_number_id> routes{
    list,
    create,
    get,
    [](self_ptr s, const exchange& e, const caller& who, phone_number_id id) {
      update(s, e, who, std::move(id), false);
    },
    remove,
    {{"assign-agent", verb::post,
      [](self_ptr s, const exchange& e, const caller& who, phone_number_id id) {
        update(s, e, who, std::move(id), true);
      }}}};
  dispatch(self, x, c, rest, routes);
}

void dnc(self_ptr self, const exchange& x, const caller& c,
         const std::vector<std::string_view>& rest) {
  auto m = x->req.method;
  if (rest.empty()) {
    if (m == verb::get)
      return dnc_list(self, x, c);
    if (m == verb::post)
      return dnc_add(self, x, c);
    return method_not_allowed(x, "GET, POST");
  }
  if (rest.size() == 1)
    return m == verb::del ? dnc_remove(self, x, c, rest[0]) : method_not_allowed(x, "DELETE");
  not_found(x);
}

} // namespace gobi::actors::api
