#include "actors/storage_actor.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors {

storage_actor::behavior_type storage(storage_actor::stateful_pointer<storage_state> self,
                                     std::shared_ptr<storage::store> store,
                                     std::shared_ptr<change_counters> counters) {
  // The state holds a unique_ptr; the caller shares ownership until spawn returns.
  self->state.counters = std::move(counters);
  auto* raw = store.get();
  return {
    [self, raw, store](atom::exec, store_job_ptr& job) -> store_job_ptr {
      job->run(*raw);
      if (job->writes != t_none)
        self->state.counters->bump(job->writes);
      return job;
    },
  };
}

} // namespace gobi::actors
