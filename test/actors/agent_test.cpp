#include "fixture.hpp"

using namespace gobi;
using namespace std::chrono_literals;
using test::actor_fixture;

TEST_CASE_FIXTURE(actor_fixture, "an agent deployed without a runtime stays ACTIVE") {
  auto t = make_tenant();
  auto a = make_agent(t);
  auto h = spawn(actors::agent_fn, a, env());
  sched.run();
  auto deployed = ask<agent>(h, actors::atom::deploy::value, t.id);
  REQUIRE(deployed.ok());
  CHECK(deployed->status == agent_status::active);
  advance(3600s);
  CHECK(stored_agent(a).status == agent_status::active);
}

TEST_CASE_FIXTURE(actor_fixture, "no heartbeat for the timeout makes a supervised agent INACTIVE") {
  auto t = make_tenant();
  auto a = make_agent(t);
  auto h = spawn(actors::agent_fn, a, env(90));
  sched.run();
  REQUIRE(ask<agent>(h, actors::atom::deploy::value, t.id).ok());
  auto hb = ask<agent>(h, actors::atom::heartbeat::value, t.id,
                       actors::heartbeat_report{runtime_status::running, R"({"total_calls":5})"});
  REQUIRE(hb.ok());
  CHECK(hb->status == agent_status::active);
  CHECK(hb->runtime_metrics_json == R"({"total_calls":5})");
  REQUIRE(hb->last_heartbeat_at.has_value());
  advance(89s);
  CHECK(stored_agent(a).status == agent_status::active);
  // A heartbeat at 89 s pushes the deadline out again.
  REQUIRE(ask<agent>(h, actors::atom::heartbeat::value, t.id, actors::heartbeat_report{}).ok());
  advance(89s);
  CHECK(stored_agent(a).status == agent_status::active);
  advance(2s);
  CHECK(stored_agent(a).status == agent_status::inactive);
}

TEST_CASE_FIXTURE(actor_fixture, "a STOPPED heartbeat makes the agent INACTIVE at once") {
  auto t = make_tenant();
  auto a = make_agent(t);
  auto h = spawn(actors::agent_fn, a, env());
  sched.run();
  REQUIRE(ask<agent>(h, actors::atom::heartbeat::value, t.id, actors::heartbeat_report{}).ok());
  CHECK(stored_agent(a).status == agent_status::active);
  auto r = ask<agent>(h, actors::atom::heartbeat::value, t.id,
                      actors::heartbeat_report{runtime_status::stopped, "{}"});
  REQUIRE(r.ok());
  CHECK(r->status == agent_status::inactive);
  // No deadline is left armed: nothing changes later.
  advance(600s);
  CHECK(stored_agent(a).status == agent_status::inactive);
}

TEST_CASE_FIXTURE(actor_fixture, "after a restart the deadline counts from the last heartbeat") {
  auto t = make_tenant();
  auto a = make_agent(t);
  REQUIRE(store->set_agent_runtime(a.id, agent_status::active, *clock_ms - 60'000, "{}",
                                   *clock_ms).ok());
  auto h = spawn(actors::agent_fn, stored_agent(a), env(90));
  sched.run();
  advance(29s);
  CHECK(stored_agent(a).status == agent_status::active);
  advance(2s);
  CHECK(stored_agent(a).status == agent_status::inactive);
  (void)h;
}

TEST_CASE_FIXTURE(actor_fixture, "an agent answers another tenant with not_found") {
  auto t = make_tenant("A");
  auto other = make_tenant("B");
  auto a = make_agent(t);
  auto h = spawn(actors::agent_fn, a, env());
  sched.run();
  auto r = ask<agent>(h, actors::atom::deploy::value, other.id);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::not_found);
  CHECK(stored_agent(a).status == agent_status::inactive);
}
