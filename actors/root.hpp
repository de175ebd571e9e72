#pragma once

/// ROOT: the supervisor and directory of the per-entity actors. It spawns one AGENT,
/// CAMPAIGN and LEAD_LIST actor per stored entity, links to them (an actor that dies
/// abnormally is respawned from storage; when ROOT exits, they exit with it), stops them on
/// delete, and routes entity
/// commands from HTTP_API to the right one with `delegate` (the reply goes straight back).

#include "actors/entities.hpp"

#include <unordered_map>
#include <vector>

namespace gobi::actors {

template <class Handle>
struct child {
  Handle handle;
  tenant_id tenant;
};

struct root_state {
  static inline const char* name = "root";
  std::unordered_map<agent_id, child<agent_actor>> agents;
  std::unordered_map<campaign_id, child<campaign_actor>> campaigns;
  std::unordered_map<lead_list_id, child<lead_list_actor>> lists;
  entity_env env;
};

/// The entities in storage at start-up, one actor each.
struct initial_entities {
  std::vector<agent> agents;
  std::vector<campaign> campaigns;
  std::vector<lead_list> lists;
};

root_actor::behavior_type root_fn(root_actor::stateful_pointer<root_state> self,
                                  entity_env env, initial_entities initial);

} // namespace gobi::actors
