#include "actors/api/handlers.hpp"

namespace gobi::actors::api {

namespace {

using http::verb;

void list(self_ptr self, const exchange& x, const caller& c) {
  cached_list(self, x, "agents/" + c.tenant.value, t_agents,
              list_loader(c.tenant, &storage::store::list_agents));
}

void create(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc)
    return;
  agent a;
  if (auto ok = read_agent(doc->root(), a, true, *self->state.cfg.phones); !ok)
    return fail(x, ok.err());
  auto now = self->state.cfg.now();
  a.tenant = c.tenant;
  a.status = agent_status::inactive;
  a.created_at = a.updated_at = now;
  db<agent>(
    self, self->state.cfg.storage, t_agents,
    [a, c, now](storage::store& s) -> result<agent> {
      auto created = s.create_agent(a);
      if (!created || created->system_prompt.empty())
        return created;
      // The first prompt opens the history.
      prompt_change pc{0, created->id, c.tenant, created->system_prompt, {}, c.user, c.email,
                       now};
      return s.update_agent(*created, &pc);
    },
    [self, x](agent created) {
      self->send(self->state.cfg.root, atom::spawn::value, created);
      reply(x, 201, to_json(created));
    },
    failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  db<agent>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) { return s.get_agent(t, id); },
    [x](agent a) { reply(x, 200, to_json(a)); }, failer(x));
}

void update(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  auto doc = body_object(x);
  if (!doc)
    return;
  auto phones = self->state.cfg.phones;
  db<agent>(
    self, self->state.cfg.storage, t_agents,
    [doc, phones, c, id, now = self->state.cfg.now()](storage::store& s) -> result<agent> {
      auto a = s.get_agent(c.tenant, id);
      if (!a)
        return a;
      auto before = a->system_prompt;
      if (auto ok = read_agent(doc->root(), *a, false, *phones); !ok)
        return std::move(ok).err();
      a->updated_at = now;
      if (a->system_prompt == before)
        return s.update_agent(*a, nullptr);
      prompt_change pc{0, id, c.tenant, a->system_prompt, before, c.user, c.email, now};
      return s.update_agent(*a, &pc);
    },
    [self, x](agent a) {
      self->send(self->state.cfg.root, atom::spawn::value, a);
      reply(x, 200, to_json(a));
    },
    failer(x));
}

void remove(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  // Deleting an agent also drops it from campaigns and unassigns its phone numbers.
  db<unit_t>(
    self, self->state.cfg.storage, t_agents | t_campaigns | t_numbers,
    [c, id](storage::store& s) -> result<unit_t> {
      auto used = s.campaigns_with_agent(c.tenant, id);
      if (!used)
        return std::move(used).err();
      std::string running;
      for (const auto& cid : *used)
        if (auto camp = s.get_campaign(c.tenant, cid);
            camp && camp->status == campaign_status::running)
          running += (running.empty() ? "" : ", ") + cid.value;
      if (!running.empty())
        return error{errc::conflict,
                     "agent is used by RUNNING campaigns (" + running + "); pause them first"};
      return s.delete_agent(c.tenant, id);
    },
    [self, x, id](unit_t) {
      self->send(self->state.cfg.root, atom::stop::value, id);
      reply_empty(x, 204);
    },
    failer(x));
}

void deploy(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  self->request(self->state.cfg.root, defaults::actor_request_timeout, atom::deploy::value,
                c.tenant, id)
    .then([x](agent& a) { reply(x, 200, to_json(a)); }, caf_failer(x));
}

void heartbeat(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  heartbeat_report report;
  if (!x->req.body.empty()) {
    auto doc = body_object(x);
    if (!doc)
      return;
    auto r = read_heartbeat(doc->root());
    if (!r)
      return fail(x, r.err());
    report = std::move(*r);
  }
  self->request(self->state.cfg.root, defaults::actor_request_timeout, atom::heartbeat::value,
                c.tenant, id, std::move(report))
    .then(
      [x](agent& a) {
        json::writer w;
        w.begin_object().field("success", true).field("status", to_string(a.status));
        w.key("agent");
        write(w, a);
        w.end_object();
        reply(x, 200, w.take());
      },
      caf_failer(x));
}

void runtime_config(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  db<agent>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) { return s.get_agent(t, id); },
    [self, x](agent a) {
      auto& cfg = self->state.cfg;
      reply(x, 200, runtime_config_json(a, cfg.now(), cfg.runtime_config_ttl_s));
    },
    failer(x));
}

void prompt_history(self_ptr self, const exchange& x, const caller& c, agent_id id) {
  db<std::vector<prompt_change>>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) -> result<std::vector<prompt_change>> {
      if (auto a = s.get_agent(t, id); !a)
        return std::move(a).err();
      return s.prompt_history(t, id);
    },
    [x](std::vector<prompt_change> v) {
      reply(x, 200, to_json_list(v, static_cast<std::int64_t>(v.size())));
    },
    failer(x));
}

} // namespace

void agents(self_ptr self, const exchange& x, const caller& c,
            const std::vector<std::string_view>& rest) {
  static const resource_routes<agent_id> routes{
    list, create, get, update, remove,
    {{"deploy", verb::post, deploy},
     {"heartbeat", verb::post, heartbeat},
     {"runtime-config", verb::get, runtime_config},
     {"prompt-history", verb::get, prompt_history}}};
  dispatch(self, x, c, rest, routes);
}

} // namespace gobi::actors::api
