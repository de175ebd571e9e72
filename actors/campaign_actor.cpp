#include "actors/entities.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

using self_ptr = campaign_actor::stateful_pointer<campaign_state>;

/// Applies `action` inside one storage job, so the rule sees the stored status and agents
/// (STORAGE runs jobs one at a time: two concurrent starts cannot both pass).
result<campaign> transition(storage::store& s, const tenant_id& t, const campaign_id& id,
                            campaign_action action, millis now) {
  auto c = s.get_campaign(t, id);
  if (!c)
    return std::move(c).err();
  auto next = next_status(c->status, action);
  if (!next)
    return std::move(next).err();
  if (action == campaign_action::start) {
    std::vector<agent> agents;
    for (const auto& ca : c->agents)
      if (auto a = s.get_agent(t, ca.agent))
        agents.push_back(std::move(*a));
    if (auto ok = check_runnable(*c, agents); !ok)
      return std::move(ok).err();
  }
  if (auto r = s.set_campaign_status(t, id, *next, now); !r)
    return std::move(r).err();
  return s.get_campaign(t, id);
}

caf::result<campaign> run(self_ptr self, const tenant_id& t, campaign_action action) {
  auto& st = self->state;
  if (t != st.record.tenant)
    return to_caf({errc::not_found, "campaign " + st.record.id.value + " not found"});
  auto rp = st.owed.add(self->make_response_promise<campaign>());
  db<campaign>(
    self, st.env.storage, t_campaigns,
    [t, id = st.record.id, action, now = st.env.now()](storage::store& s) {
      return transition(s, t, id, action, now);
    },
    [self, rp](campaign c) {
      spdlog::info("campaign {} is now {}", c.id.value, to_string(c.status));
      self->state.record = c;
      self->state.owed.deliver(rp, std::move(c));
    },
    [self, rp](const error& e) { self->state.owed.deliver(rp, to_caf(e)); });
  return *rp;
}

} // namespace

campaign_actor::behavior_type campaign_fn(self_ptr self, campaign c, entity_env env) {
  self->state.record = std::move(c);
  self->state.env = std::move(env);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (!msg.reason)
      return;
    self->state.owed.fail_all({errc::unavailable, "campaign " + self->state.record.id.value
                                                    + " was stopped (deleted, or gobid is "
                                                      "shutting down)"});
    self->quit(msg.reason);
  });
  return {
    [self](atom::start, const tenant_id& t) { return run(self, t, campaign_action::start); },
    [self](atom::pause, const tenant_id& t) { return run(self, t, campaign_action::pause); },
    [self](atom::update, campaign& updated) { self->state.record = std::move(updated); },
  };
}

} // namespace gobi::actors
