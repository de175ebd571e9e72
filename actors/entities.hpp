#pragma once

/// The per-entity actors: one AGENT, CAMPAIGN and LEAD_LIST actor per stored entity, spawned
/// by ROOT at start-up and on creation, stopped on delete. Each runs on the CAF scheduler;
/// none blocks: storage work goes through STORAGE jobs.

#include "actors/interfaces.hpp"
#include "actors/storage_actor.hpp"
#include "domain/phone.hpp"
#include "domain/rules.hpp"

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace gobi::actors {

/// Wall-clock milliseconds; injected so tests can use a manual clock.
using clock_fn = std::function<millis()>;

/// What every entity actor needs from its surroundings.
struct entity_env {
  storage_actor storage;
  clock_fn now;
  std::int64_t heartbeat_timeout_s = defaults::agent_heartbeat_timeout_s;
  std::shared_ptr<const phone::normalizer> phones;
  unsigned import_threads = defaults::import_threads;
};

// --- AGENT ----------------------------------------------------------------------------------

struct agent_state {
  static inline const char* name = "agent";
  agent_id id;
  tenant_id tenant;
  heartbeat_monitor monitor{defaults::agent_heartbeat_timeout_s};
  std::optional<millis> last_heartbeat_at;
  std::string metrics_json = "{}";
  std::uint64_t generation = 0; ///< of the armed deadline timer; older ticks are ignored
  entity_env env;
};

agent_actor::behavior_type agent_fn(agent_actor::stateful_pointer<agent_state> self,
                                    agent a, entity_env env);

// --- CAMPAIGN -------------------------------------------------------------------------------

struct campaign_state {
  static inline const char* name = "campaign";
  campaign record;
  entity_env env;
};

campaign_actor::behavior_type campaign_fn(campaign_actor::stateful_pointer<campaign_state> self,
                                          campaign c, entity_env env);

// --- LEAD_LIST ------------------------------------------------------------------------------

struct lead_list_upload; // one upload in progress (lead_list_actor.cpp)

struct lead_list_state {
  static inline const char* name = "lead_list";
  lead_list record;
  bool phones_loaded = false;
  std::unordered_set<std::string> phones; ///< every number in the list: the dedupe set
  /// Uploads not answered yet: a stop (list deleted, shutdown) answers them with an error
  /// instead of leaving their HTTP requests to time out.
  std::vector<std::shared_ptr<lead_list_upload>> uploads;
  entity_env env;
};

lead_list_actor::behavior_type
lead_list_fn(lead_list_actor::stateful_pointer<lead_list_state> self, lead_list l,
             entity_env env);

// --- AUTH -----------------------------------------------------------------------------------

/// Spawn detached: argon2id blocks for tens of milliseconds.
auth_actor::behavior_type auth_fn(auth_actor::pointer self);

} // namespace gobi::actors
