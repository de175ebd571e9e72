#pragma once

/// A deterministic actor system for tests: CAF's test_coordinator (single thread, virtual
/// clock), a real SQLite store in a temp file behind a non-detached STORAGE actor, and a
/// manual wall clock that moves with the virtual one.

#include "actors/entities.hpp"
#include "actors/root.hpp"
#include "actors/storage_actor.hpp"
#include "storage/store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <random>

namespace gobi::test {

inline caf::actor_system_config& test_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("middleman.network-backend", caf::atom("testing"));
  return cfg;
}

struct actor_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  std::filesystem::path dir;
  std::shared_ptr<storage::store> store;
  std::shared_ptr<actors::change_counters> counters;
  actors::storage_actor storage_h;
  std::shared_ptr<millis> clock_ms = std::make_shared<millis>(1'700'000'000'000);
  std::shared_ptr<const phone::normalizer> phones =
    std::make_shared<const phone::normalizer>("US");

  actor_fixture()
    : sys(test_config(cfg)), self(sys, true),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    dir = std::filesystem::temp_directory_path()
          / ("gobi-actor-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    auto opened = storage::open_store("sqlite:" + (dir / "t.db").string());
    REQUIRE(opened.ok());
    store = std::move(*opened);
    REQUIRE(store->migrate().ok());
    counters = std::make_shared<actors::change_counters>();
    storage_h = sys.spawn(actors::storage, store, counters);
    sched.run();
  }

  ~actor_fixture() {
    for (auto& a : spawned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(storage_h, caf::exit_reason::user_shutdown);
    sched.run();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  /// Spawns an actor that the fixture stops at teardown (the system waits for all actors).
  template <class F, class... Ts>
  auto spawn(F fn, Ts&&... xs) {
    auto h = sys.spawn(fn, std::forward<Ts>(xs)...);
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    sched.run();
    return h;
  }
  std::vector<caf::actor> spawned;

  actors::entity_env env(std::int64_t heartbeat_timeout_s = 90) {
    auto c = clock_ms;
    return actors::entity_env{storage_h, [c] { return *c; }, heartbeat_timeout_s, phones, 1};
  }

  /// Moves virtual time and the wall clock together, then runs what became due.
  void advance(std::chrono::seconds d) {
    *clock_ms += d.count() * 1000;
    sched.clock().advance_time(d);
    sched.run();
  }

  /// Sends a request, runs the system until quiet, and returns the reply or the error.
  template <class T, class Handle, class... Ts>
  result<T> ask(const Handle& h, Ts&&... xs) {
    auto rh = self->request(h, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    result<T> out = error{errc::internal, "no reply"};
    rh.receive([&](T& v) { out = std::move(v); },
               [&](caf::error& e) { out = actors::from_caf(e); });
    return out;
  }

  // --- entities straight into the store ---
  tenant make_tenant(std::string name = "Acme") {
    auto t = store->create_tenant(tenant{{}, std::move(name), *clock_ms});
    REQUIRE(t.ok());
    return *t;
  }
  agent make_agent(const tenant& t, std::string name = "Agent") {
    agent a;
    a.tenant = t.id;
    a.name = std::move(name);
    a.created_at = a.updated_at = *clock_ms;
    auto r = store->create_agent(a);
    REQUIRE(r.ok());
    return *r;
  }
  agent stored_agent(const agent& a) {
    auto r = store->get_agent(a.tenant, a.id);
    REQUIRE(r.ok());
    return *r;
  }
};

} // namespace gobi::test
