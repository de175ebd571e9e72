#pragma once

/// STORAGE: the one owner of the database connection.
///
/// Work arrives as jobs: a closure that runs on STORAGE's own thread against the store and
/// yields a result<T>. A job also names the tables it may write, and after it ran STORAGE
/// bumps those tables' change counters, which read caches (HTTP_API's list cache) compare
/// against to know they are stale. Jobs capture by value: they cross a thread.
///
/// Use `db<T>(self, storage, fn, on_ok, on_err)` from any event-based actor: it sends the job,
/// waits (with the named storage timeout) and calls one of the two continuations.

#include "actors/interfaces.hpp"
#include "domain/defaults.hpp"
#include "storage/store.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace gobi::actors {

/// The tables a job may write, as bits.
enum table : unsigned {
  t_none = 0,
  t_tenants = 1u << 0,
  t_agents = 1u << 1,
  t_campaigns = 1u << 2,
  t_lead_lists = 1u << 3,
  t_leads = 1u << 4,
  t_numbers = 1u << 5,
  t_dnc = 1u << 6,
  t_sip_trunks = 1u << 7,
  t_calls = 1u << 8,
};
inline constexpr std::size_t table_count = 9;

/// Change counters per table, shared (read-only) with caches on other threads.
class change_counters {
public:
  std::uint64_t get(table t) const noexcept { return c_[index(t)].load(std::memory_order_acquire); }
  void bump(unsigned tables) noexcept {
    for (std::size_t i = 0; i < table_count; ++i)
      if (tables & (1u << i)) c_[i].fetch_add(1, std::memory_order_acq_rel);
  }

private:
  static std::size_t index(table t) noexcept {
    std::size_t i = 0;
    for (unsigned v = t; v > 1; v >>= 1)
      ++i;
    return i;
  }
  std::array<std::atomic<std::uint64_t>, table_count> c_{};
};

/// A unit of storage work (see the file comment).
struct store_job {
  unsigned writes = t_none;
  virtual ~store_job() = default;
  virtual void run(storage::store& s) = 0;
};

template <class T> struct typed_store_job final : store_job {
  std::function<result<T>(storage::store&)> fn;
  std::optional<result<T>> out;
  void run(storage::store& s) override { out.emplace(fn(s)); }
};

struct storage_state {
  static inline const char* name = "storage";
  std::unique_ptr<storage::store> store;
  std::shared_ptr<change_counters> counters;
};

/// Spawn it `detached` in gobid (blocking I/O); tests spawn it on the test coordinator.
storage_actor::behavior_type storage(storage_actor::stateful_pointer<storage_state> self,
                                     std::shared_ptr<storage::store> store,
                                     std::shared_ptr<change_counters> counters);

/// Runs `fn(store&) -> result<T>` on STORAGE; calls `ok(T&&)` or `fail(error)`.
template <class T, class Self, class Fn, class Ok, class Fail>
void db(Self* self, const storage_actor& st, unsigned writes, Fn fn, Ok ok, Fail fail) {
  auto job = std::make_shared<typed_store_job<T>>();
  job->writes = writes;
  job->fn = std::move(fn);
  self->request(st, defaults::storage_timeout, atom::exec::value, store_job_ptr{job})
      .then(
          [ok, fail, job](store_job_ptr&) mutable {
            auto& r = *job->out;
            if (r.ok())
              ok(std::move(r).value());
            else
              fail(std::move(r).err());
          },
          [fail](caf::error& e) mutable { fail(from_caf(e)); });
}

} // namespace gobi::actors
