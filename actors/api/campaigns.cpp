#include "actors/api/handlers.hpp"

#include "domain/rules.hpp"

#include <set>

namespace gobi::actors::api {

namespace {

using http::verb;

/// Checks a campaign's references in the caller's tenant: agents, lead lists and numbers
/// must exist (422 naming the unknown ones); agents in `must_be_active` must be ACTIVE, and
/// an OUTBOUND campaign needs a lead list (both via the domain rule check_runnable).
status check_refs(storage::store& s, const campaign& c, const std::set<agent_id>& must_be_active) {
  std::string unknown;
  auto note = [&](const std::string& id) { unknown += (unknown.empty() ? "" : ", ") + id; };
  std::vector<agent> agents;
  for (const auto& ca : c.agents) {
    auto a = s.get_agent(c.tenant, ca.agent);
    if (!a)
      note(ca.agent.value);
    else
      agents.push_back(std::move(*a));
  }
  if (!unknown.empty())
    return error{errc::validation, "agentIds: unknown agents: " + unknown, "agentIds"};
  for (const auto& l : c.lead_lists)
    if (!s.get_lead_list(c.tenant, l))
      note(l.value);
  if (!unknown.empty())
    return error{errc::validation, "leadListIds: unknown lead lists: " + unknown, "leadListIds"};
  for (const auto& n : c.numbers)
    if (!s.get_phone_number(c.tenant, n))
      note(n.value);
  if (!unknown.empty())
    return error{errc::validation, "numberIds: unknown phone numbers: " + unknown, "numberIds"};
  // Agents already on the campaign may have gone INACTIVE since; only new ones must be
  // ACTIVE. A DRAFT may have no agents yet: starting it needs one (check_runnable).
  if (auto ok = check_agents_active({must_be_active.begin(), must_be_active.end()}, agents); !ok)
    return ok;
  return check_lead_lists(c);
}

std::set<agent_id> all_agents(const campaign& c) {
  std::set<agent_id> out;
  for (const auto& ca : c.agents)
    out.insert(ca.agent);
  return out;
}

void list(self_ptr self, const exchange& x, const caller& c) {
  cached_list(self, x, "campaigns/" + c.tenant.value, t_campaigns,
              list_loader(c.tenant, &storage::store::list_campaigns));
}

void create(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc)
    return;
  campaign camp;
  if (auto ok = read_campaign(doc->root(), camp, true); !ok)
    return fail(x, ok.err());
  camp.tenant = c.tenant;
  camp.status = campaign_status::draft;
  camp.created_at = camp.updated_at = self->state.cfg.now();
  db<campaign>(
    self, self->state.cfg.storage, t_campaigns,
    [camp](storage::store& s) -> result<campaign> {
      if (auto ok = check_refs(s, camp, all_agents(camp)); !ok)
        return std::move(ok).err();
      return s.create_campaign(camp);
    },
    [self, x](campaign created) {
      self->send(self->state.cfg.root, atom::spawn::value, created);
      reply(x, 201, to_json(created));
    },
    failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, campaign_id id) {
  db<campaign>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) { return s.get_campaign(t, id); },
    [x](campaign camp) { reply(x, 200, to_json(camp)); }, failer(x));
}

void update(self_ptr self, const exchange& x, const caller& c, campaign_id id) {
  auto doc = body_object(x);
  if (!doc)
    return;
  db<campaign>(
    self, self->state.cfg.storage, t_campaigns,
    [doc, c, id, now = self->state.cfg.now()](storage::store& s) -> result<campaign> {
      auto camp = s.get_campaign(c.tenant, id);
      if (!camp)
        return camp;
      auto before = all_agents(*camp);
      if (auto ok = read_campaign(doc->root(), *camp, false); !ok)
        return std::move(ok).err();
      std::set<agent_id> added;
      for (const auto& a : all_agents(*camp))
        if (before.count(a) == 0)
          added.insert(a);
      if (auto ok = check_refs(s, *camp, added); !ok)
        return std::move(ok).err();
      camp->updated_at = now;
      return s.update_campaign(*camp);
    },
    [self, x](campaign camp) {
      self->send(self->state.cfg.root, atom::spawn::value, camp);
      reply(x, 200, to_json(camp));
    },
    failer(x));
}

void remove(self_ptr self, const exchange& x, const caller& c, campaign_id id) {
  db<unit_t>(
    self, self->state.cfg.storage, t_campaigns | t_numbers,
    [c, id](storage::store& s) -> result<unit_t> {
      auto camp = s.get_campaign(c.tenant, id);
      if (!camp)
        return std::move(camp).err();
      if (camp->status == campaign_status::running)
        return error{errc::conflict, "campaign is RUNNING; pause it before deleting it"};
      return s.delete_campaign(c.tenant, id);
    },
    [self, x, id](unit_t) {
      self->send(self->state.cfg.root, atom::stop::value, id);
      reply_empty(x, 204);
    },
    failer(x));
}

template <class Atom>
void command(self_ptr self, const exchange& x, const caller& c, campaign_id id) {
  self->request(self->state.cfg.root, defaults::actor_request_timeout, Atom::value, c.tenant, id)
    .then([x](campaign& camp) { reply(x, 200, to_json(camp)); }, caf_failer(x));
}

} // namespace

void campaigns(self_ptr self, const exchange& x, const caller& c,
               const std::vector<std::string_view>& rest) {
  static const resource_routes<campaign_id> routes{
    list, create, get, update, remove,
    {{"start", verb::post, command<atom::start>}, {"pause", verb::post, command<atom::pause>}}};
  dispatch(self, x, c, rest, routes);
}

} // namespace gobi::actors::api
