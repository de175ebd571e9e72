#include "domain/rules.hpp"

namespace gobi {

result<campaign_status> next_status(campaign_status from, campaign_action action) {
  using cs = campaign_status;
  auto refuse = [&](std::string why) { return make_error(errc::conflict, std::move(why)); };
  switch (action) {
    case campaign_action::start:
      if (from == cs::draft || from == cs::paused)
        return cs::running;
      if (from == cs::running)
        return refuse("campaign is already RUNNING");
      return refuse("campaign is COMPLETED and cannot be started again");
    case campaign_action::pause:
      if (from == cs::running)
        return cs::paused;
      return refuse("campaign is not RUNNING (it is " + std::string{to_string(from)} + ")");
    case campaign_action::complete:
      if (from == cs::running || from == cs::paused)
        return cs::completed;
      return refuse("campaign is " + std::string{to_string(from)} + " and cannot complete");
  }
  return refuse("unknown action");
}

status check_agents_active(const std::vector<agent_id>& ids, const std::vector<agent>& agents) {
  std::string inactive;
  for (const auto& id : ids) {
    bool active = false;
    for (const auto& a : agents)
      if (a.id == id && a.status == agent_status::active)
        active = true;
    if (!active)
      inactive += (inactive.empty() ? "" : ", ") + id.value;
  }
  if (!inactive.empty())
    return make_error(errc::validation, "agents must be ACTIVE (deploy them first): " + inactive,
                      "agentIds");
  return unit;
}

status check_lead_lists(const campaign& c) {
  if (c.type == campaign_type::outbound && c.lead_lists.empty())
    return make_error(errc::validation, "an OUTBOUND campaign needs at least one lead list",
                      "leadListIds");
  return unit;
}

status check_runnable(const campaign& c, const std::vector<agent>& agents) {
  if (c.agents.empty())
    return make_error(errc::validation, "a campaign needs at least one agent to run",
                      "agentIds");
  std::vector<agent_id> ids;
  for (const auto& ca : c.agents)
    ids.push_back(ca.agent);
  if (auto ok = check_agents_active(ids, agents); !ok)
    return ok;
  return check_lead_lists(c);
}

void heartbeat_monitor::restore(agent_status s, std::optional<std::int64_t> last_heartbeat_s) {
  status_ = s;
  supervised_ = s == agent_status::active && last_heartbeat_s.has_value();
  deadline_s_.reset();
  if (supervised_)
    deadline_s_ = *last_heartbeat_s + timeout_s_;
}

bool heartbeat_monitor::deploy(std::int64_t now_s) {
  auto before = status_;
  status_ = agent_status::active;
  if (supervised_)
    deadline_s_ = now_s + timeout_s_;
  return before != status_;
}

bool heartbeat_monitor::heartbeat(runtime_status s, std::int64_t now_s) {
  auto before = status_;
  if (s == runtime_status::running) {
    status_ = agent_status::active;
    supervised_ = true;
    deadline_s_ = now_s + timeout_s_;
  } else {
    status_ = agent_status::inactive;
    supervised_ = false;
    deadline_s_.reset();
  }
  return before != status_;
}

bool heartbeat_monitor::expire(std::int64_t now_s) {
  if (!deadline_s_ || now_s < *deadline_s_)
    return false;
  deadline_s_.reset();
  supervised_ = false;
  auto before = status_;
  status_ = agent_status::inactive;
  return before != status_;
}

} // namespace gobi
