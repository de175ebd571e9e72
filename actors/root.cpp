#include "actors/root.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

using self_ptr = root_actor::stateful_pointer<root_state>;

void spawn_agent(self_ptr self, agent a) {
  auto& st = self->state;
  if (auto i = st.agents.find(a.id); i != st.agents.end()) {
    self->send(i->second.handle, atom::update::value, std::move(a));
    return;
  }
  auto id = a.id;
  auto tenant = a.tenant;
  auto h = self->spawn(agent_fn, std::move(a), st.env);
  self->link_to(h);
  st.agents.emplace(std::move(id), child<agent_actor>{h, std::move(tenant)});
}

void spawn_campaign(self_ptr self, campaign c) {
  auto& st = self->state;
  if (auto i = st.campaigns.find(c.id); i != st.campaigns.end()) {
    self->send(i->second.handle, atom::update::value, std::move(c));
    return;
  }
  auto id = c.id;
  auto tenant = c.tenant;
  auto h = self->spawn(campaign_fn, std::move(c), st.env);
  self->link_to(h);
  st.campaigns.emplace(std::move(id), child<campaign_actor>{h, std::move(tenant)});
}

void spawn_list(self_ptr self, lead_list l) {
  auto& st = self->state;
  if (st.lists.count(l.id) > 0)
    return; // a list's actor keeps only its id and tenant, which never change
  auto id = l.id;
  auto tenant = l.tenant;
  auto h = self->spawn(lead_list_fn, std::move(l), st.env);
  self->link_to(h);
  st.lists.emplace(std::move(id), child<lead_list_actor>{h, std::move(tenant)});
}

template <class Map, class Id>
void stop_child(self_ptr self, Map& map, const Id& id) {
  if (auto i = map.find(id); i != map.end()) {
    self->unlink_from(i->second.handle);
    self->send_exit(i->second.handle, caf::exit_reason::user_shutdown);
    map.erase(i);
  }
}

/// Looks up a child of the caller's tenant; another tenant's id is simply not found.
template <class Map, class Id>
auto find_child(Map& map, const tenant_id& t, const Id& id) -> decltype(&map.begin()->second) {
  auto i = map.find(id);
  if (i == map.end() || i->second.tenant != t)
    return nullptr;
  return &i->second;
}

caf::error missing(std::string_view what, const std::string& id) {
  return to_caf({errc::not_found, std::string{what} + " " + id + " not found"});
}

template <class Entity, class Id, class Load>
void reload(self_ptr self, Id id, tenant_id tenant, Load load, void (*spawn)(self_ptr, Entity)) {
  db<Entity>(
    self, self->state.env.storage, t_none,
    [id, tenant, load](storage::store& s) { return load(s, tenant, id); },
    [self, spawn](Entity e) { spawn(self, std::move(e)); },
    [id](const error& e) { spdlog::error("respawn of {} failed: {}", id.value, e.message); });
}

/// Finds the child an exit came from; erases it and answers its id and tenant.
template <class Map>
auto take_child(Map& map, const caf::actor_addr& source)
  -> std::optional<std::pair<typename Map::key_type, tenant_id>> {
  for (auto i = map.begin(); i != map.end(); ++i)
    if (i->second.handle.address() == source) {
      auto out = std::make_pair(i->first, i->second.tenant);
      map.erase(i);
      return out;
    }
  return std::nullopt;
}

/// A linked child exited: respawn it from storage when it crashed. An exit from anyone
/// else (the drain at shutdown) ends ROOT, and through the links its children.
void on_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  auto crashed = msg.reason && msg.reason != caf::exit_reason::user_shutdown
                 && msg.reason != caf::exit_reason::normal;
  auto log = [&](const std::string& id) {
    spdlog::error("actor for {} died ({}); respawning", id, caf::to_string(msg.reason));
  };
  if (auto c = take_child(st.agents, msg.source)) {
    if (crashed) {
      log(c->first.value);
      reload<agent>(
        self, c->first, c->second,
        [](storage::store& s, const tenant_id& t, const agent_id& id) { return s.get_agent(t, id); },
        spawn_agent);
    }
    return;
  }
  if (auto c = take_child(st.campaigns, msg.source)) {
    if (crashed) {
      log(c->first.value);
      reload<campaign>(self, c->first, c->second,
                       [](storage::store& s, const tenant_id& t, const campaign_id& id) {
                         return s.get_campaign(t, id);
                       },
                       spawn_campaign);
    }
    return;
  }
  if (auto c = take_child(st.lists, msg.source)) {
    if (crashed) {
      log(c->first.value);
      reload<lead_list>(self, c->first, c->second,
                        [](storage::store& s, const tenant_id& t, const lead_list_id& id) {
                          return s.get_lead_list(t, id);
                        },
                        spawn_list);
    }
    return;
  }
  self->quit(msg.reason);
}

} // namespace

root_actor::behavior_type root_fn(self_ptr self, entity_env env, initial_entities initial) {
  self->state.env = std::move(env);
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  for (auto& a : initial.agents)
    spawn_agent(self, std::move(a));
  for (auto& c : initial.campaigns)
    spawn_campaign(self, std::move(c));
  for (auto& l : initial.lists)
    spawn_list(self, std::move(l));
  spdlog::info("root: {} agent, {} campaign and {} lead list actors", self->state.agents.size(),
               self->state.campaigns.size(), self->state.lists.size());
  return {
    [self](atom::spawn, agent& a) { spawn_agent(self, std::move(a)); },
    [self](atom::spawn, campaign& c) { spawn_campaign(self, std::move(c)); },
    [self](atom::spawn, lead_list& l) { spawn_list(self, std::move(l)); },
    [self](atom::stop, const agent_id& id) { stop_child(self, self->state.agents, id); },
    [self](atom::stop, const campaign_id& id) { stop_child(self, self->state.campaigns, id); },
    [self](atom::stop, const lead_list_id& id) { stop_child(self, self->state.lists, id); },
    [self](atom::deploy, const tenant_id& t, const agent_id& id) -> caf::result<agent> {
      if (auto c = find_child(self->state.agents, t, id))
        return self->delegate(c->handle, atom::deploy::value, t);
      return missing("agent", id.value);
    },
    [self](atom::heartbeat, const tenant_id& t, const agent_id& id,
           heartbeat_report& r) -> caf::result<agent> {
      if (auto c = find_child(self->state.agents, t, id))
        return self->delegate(c->handle, atom::heartbeat::value, t, std::move(r));
      return missing("agent", id.value);
    },
    [self](atom::start, const tenant_id& t, const campaign_id& id) -> caf::result<campaign> {
      if (auto c = find_child(self->state.campaigns, t, id))
        return self->delegate(c->handle, atom::start::value, t);
      return missing("campaign", id.value);
    },
    [self](atom::pause, const tenant_id& t, const campaign_id& id) -> caf::result<campaign> {
      if (auto c = find_child(self->state.campaigns, t, id))
        return self->delegate(c->handle, atom::pause::value, t);
      return missing("campaign", id.value);
    },
    [self](atom::upload, const tenant_id& t, const lead_list_id& id,
           csv_text& csv) -> caf::result<import_report> {
      if (auto c = find_child(self->state.lists, t, id))
        return self->delegate(c->handle, atom::upload::value, t, std::move(csv));
      return missing("lead list", id.value);
    },
    [self](atom::status) {
      auto& st = self->state;
      return caf::make_result(static_cast<std::int64_t>(st.agents.size()),
                              static_cast<std::int64_t>(st.campaigns.size()),
                              static_cast<std::int64_t>(st.lists.size()));
    },
  };
}

} // namespace gobi::actors
