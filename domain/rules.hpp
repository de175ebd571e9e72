#pragma once

/// State rules: the campaign status machine and the agent heartbeat monitor. Pure: time
/// comes in as seconds since the epoch; the actors carry out what these decide.

#include "domain/model.hpp"
#include "domain/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gobi {

// --- campaigns -------------------------------------------------------------------------------
//
//            start               pause
//   DRAFT ─────────► RUNNING ─────────► PAUSED
//                      ▲  │               │
//                      │  └──► COMPLETED  │   (COMPLETED: all leads done; terminal)
//                      └──────────────────┘
//                            start

enum class campaign_action { start, pause, complete };

/// The status after `action`, or errc::conflict saying why it is not allowed.
result<campaign_status> next_status(campaign_status from, campaign_action action);

/// Every id in `ids` names an ACTIVE agent among `agents` (errc::validation on "agentIds"
/// naming the others).
status check_agents_active(const std::vector<agent_id>& ids, const std::vector<agent>& agents);

/// An OUTBOUND campaign has at least one lead list (errc::validation on "leadListIds").
status check_lead_lists(const campaign& c);

/// Checks that a campaign can run with these agents: it has at least one, every one is ACTIVE
/// (errc::validation on "agentIds" naming the inactive ones), and an OUTBOUND campaign has at
/// least one lead list ("leadListIds"). `agents` are the campaign's agents as stored.
status check_runnable(const campaign& c, const std::vector<agent>& agents);

// --- agent heartbeats ------------------------------------------------------------------------
//
//              deploy / heartbeat RUNNING
//   INACTIVE ─────────────────────────────► ACTIVE ──┐ heartbeat RUNNING:
//      ▲                                      │  ▲   │ deadline = now + timeout
//      │ heartbeat STOPPED, or deadline passed│  └───┘
//      └──────────────────────────────────────┘ (deadline only once a runtime has reported)
//
// An agent deployed without an external runtime is served by gobid itself and stays ACTIVE;
// once an external runtime sends heartbeats (the seeds' agent_runtime.py), the agent is
// supervised: no heartbeat for `timeout_s` makes it INACTIVE, as in the seeds.

class heartbeat_monitor {
public:
  explicit heartbeat_monitor(std::int64_t timeout_s) : timeout_s_(timeout_s) {}

  /// Restores from storage after a restart; the deadline counts from the last heartbeat.
  void restore(agent_status s, std::optional<std::int64_t> last_heartbeat_s);
  /// POST deploy. Returns true when the status changed.
  bool deploy(std::int64_t now_s);
  /// A heartbeat. Returns true when the status changed.
  bool heartbeat(runtime_status s, std::int64_t now_s);
  /// The deadline timer fired. Returns true when the status changed (to INACTIVE).
  bool expire(std::int64_t now_s);

  agent_status status() const noexcept { return status_; }
  bool supervised() const noexcept { return supervised_; }
  /// When to call expire(), if anything is due.
  std::optional<std::int64_t> deadline_s() const noexcept { return deadline_s_; }

private:
  std::int64_t timeout_s_;
  agent_status status_ = agent_status::inactive;
  bool supervised_ = false;
  std::optional<std::int64_t> deadline_s_;
};

} // namespace gobi
