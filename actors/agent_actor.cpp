#include "actors/entities.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

using self_ptr = agent_actor::stateful_pointer<agent_state>;

std::int64_t now_s(self_ptr self) {
  return self->state.env.now() / 1000;
}

/// (Re-)arms the deadline timer for the monitor's current deadline. Older timers still
/// fire but carry an older generation and are ignored.
void arm(self_ptr self) {
  auto& st = self->state;
  ++st.generation;
  if (auto deadline = st.monitor.deadline_s()) {
    auto delay = std::max<std::int64_t>(0, *deadline - now_s(self));
    self->delayed_send(self, std::chrono::seconds(delay), atom::tick::value, st.generation);
  }
}

/// Writes status, heartbeat and metrics through to storage; answers the stored agent.
caf::typed_response_promise<agent> persist(self_ptr self) {
  auto& st = self->state;
  auto rp = st.owed.add(self->make_response_promise<agent>());
  db<agent>(
    self, st.env.storage, t_agents,
    [id = st.id, tenant = st.tenant, s = st.monitor.status(), hb = st.last_heartbeat_at,
     metrics = st.metrics_json, now = st.env.now()](storage::store& store) -> result<agent> {
      if (auto r = store.set_agent_runtime(id, s, hb, metrics, now); !r)
        return std::move(r).err();
      return store.get_agent(tenant, id);
    },
    [self, rp](agent a) { self->state.owed.deliver(rp, std::move(a)); },
    [self, rp](const error& e) { self->state.owed.deliver(rp, to_caf(e)); });
  return *rp;
}

caf::error not_found(const agent_id& id) {
  return to_caf({errc::not_found, "agent " + id.value + " not found"});
}

} // namespace

agent_actor::behavior_type agent_fn(self_ptr self, agent a, entity_env env) {
  auto& st = self->state;
  st.id = a.id;
  st.tenant = a.tenant;
  st.env = std::move(env);
  st.monitor = heartbeat_monitor{st.env.heartbeat_timeout_s};
  st.last_heartbeat_at = a.last_heartbeat_at;
  st.metrics_json = a.runtime_metrics_json;
  std::optional<std::int64_t> last_s;
  if (a.last_heartbeat_at)
    last_s = *a.last_heartbeat_at / 1000;
  st.monitor.restore(a.status, last_s);
  arm(self);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (!msg.reason)
      return;
    self->state.owed.fail_all({errc::unavailable, "agent " + self->state.id.value
                                                    + " was stopped (deleted, or gobid is "
                                                      "shutting down)"});
    self->quit(msg.reason);
  });
  return {
    [self](atom::deploy, const tenant_id& t) -> caf::result<agent> {
      if (t != self->state.tenant)
        return not_found(self->state.id);
      self->state.monitor.deploy(now_s(self));
      arm(self);
      return persist(self);
    },
    [self](atom::heartbeat, const tenant_id& t, heartbeat_report& r) -> caf::result<agent> {
      auto& s = self->state;
      if (t != s.tenant)
        return not_found(s.id);
      s.monitor.heartbeat(r.status, now_s(self));
      s.last_heartbeat_at = s.env.now();
      s.metrics_json = std::move(r.metrics_json);
      arm(self);
      return persist(self);
    },
    [self](atom::tick, std::uint64_t generation) {
      auto& s = self->state;
      auto deadline = s.monitor.deadline_s();
      // The timer is the clock here: a current-generation tick means the deadline passed.
      if (generation != s.generation || !deadline || !s.monitor.expire(*deadline))
        return;
      spdlog::info("agent {}: no heartbeat for {} s, now INACTIVE", s.id.value,
                   s.env.heartbeat_timeout_s);
      auto id = s.id;
      db<unit_t>(
        self, s.env.storage, t_agents,
        [id, hb = s.last_heartbeat_at, metrics = s.metrics_json,
         now = s.env.now()](storage::store& store) -> result<unit_t> {
          return store.set_agent_runtime(id, agent_status::inactive, hb, metrics, now);
        },
        [](unit_t) {},
        [id](const error& e) {
          spdlog::error("agent {}: storing INACTIVE failed: {}", id.value, e.message);
        });
    },
    [self](atom::update, const agent& updated) {
      // Only runtime-owned fields live here, and PUT does not change those.
      self->state.tenant = updated.tenant;
    },
  };
}

} // namespace gobi::actors
