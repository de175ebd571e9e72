#pragma once

/// The per-entity actors: one AGENT, CAMPAIGN and LEAD_LIST actor per stored entity, spawned
/// by ROOT at start-up and on creation, stopped on delete. Each runs on the CAF scheduler;
/// none blocks: storage work goes through STORAGE jobs.

#include "actors/interfaces.hpp"
#include "actors/storage_actor.hpp"
#include "domain/phone.hpp"
#include "domain/rules.hpp"

#include <caf/typed_response_promise.hpp>

#include <algorithm>
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

/// Answers an entity actor owes: requests it took whose answer waits on a STORAGE job. When
/// the actor is stopped first (its entity deleted, or shutdown), that job's continuation never
/// runs, so the actor's exit handler calls fail_all() rather than leave callers (HTTP
/// requests) waiting for their timeout. Owned by the actor's state; actor thread only.
template <class T>
class owed_answers {
public:
  using promise = caf::typed_response_promise<T>;
  using handle = std::shared_ptr<promise>;

  handle add(promise rp) {
    auto h = std::make_shared<promise>(std::move(rp));
    owed_.push_back(h);
    return h;
  }
  template <class Answer>
  void deliver(const handle& h, Answer&& x) {
    h->deliver(std::forward<Answer>(x));
    std::erase(owed_, h);
  }
  void fail_all(const error& e) {
    for (auto& h : owed_)
      h->deliver(to_caf(e));
    owed_.clear();
  }

private:
  std::vector<handle> owed_;
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
  owed_answers<agent> owed;      ///< deploys and heartbeats being stored
  entity_env env;
};

agent_actor::behavior_type agent_fn(agent_actor::stateful_pointer<agent_state> self,
                                    agent a, entity_env env);

// --- CAMPAIGN -------------------------------------------------------------------------------

struct campaign_state {
  static inline const char* name = "campaign";
  campaign record;
  owed_answers<campaign> owed; ///< starts and pauses being stored
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
