#include "fixture.hpp"

using namespace gobi;
using namespace std::chrono_literals;
using test::actor_fixture;

namespace {

campaign make_campaign(actor_fixture& f, const tenant& t, const agent& a,
                       std::vector<lead_list_id> lists) {
  campaign c;
  c.tenant = t.id;
  c.name = "Q4";
  c.type = campaign_type::outbound;
  c.agents.push_back({a.id, 1, true});
  c.lead_lists = std::move(lists);
  auto r = f.store->create_campaign(c);
  REQUIRE(r.ok());
  return *r;
}

lead_list make_list(actor_fixture& f, const tenant& t) {
  lead_list l;
  l.tenant = t.id;
  l.name = "List";
  auto r = f.store->create_lead_list(l);
  REQUIRE(r.ok());
  return *r;
}

} // namespace

TEST_CASE_FIXTURE(actor_fixture, "campaign start needs ACTIVE agents; start and pause follow the rules") {
  auto t = make_tenant();
  auto a = make_agent(t);
  auto l = make_list(*this, t);
  auto c = make_campaign(*this, t, a, {l.id});
  auto h = spawn(actors::campaign_fn, c, env());
  sched.run();

  auto refused = ask<campaign>(h, actors::atom::start::value, t.id);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::validation);
  CHECK(refused.err().field == "agentIds");
  CHECK(refused.err().message.find(a.id.value) != std::string::npos);

  REQUIRE(store->set_agent_runtime(a.id, agent_status::active, std::nullopt, "{}", 0).ok());
  auto started = ask<campaign>(h, actors::atom::start::value, t.id);
  REQUIRE(started.ok());
  CHECK(started->status == campaign_status::running);
  auto again = ask<campaign>(h, actors::atom::start::value, t.id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::conflict);

  auto paused = ask<campaign>(h, actors::atom::pause::value, t.id);
  REQUIRE(paused.ok());
  CHECK(paused->status == campaign_status::paused);
  CHECK(store->get_campaign(t.id, c.id)->status == campaign_status::paused);
  auto pause_again = ask<campaign>(h, actors::atom::pause::value, t.id);
  REQUIRE_FALSE(pause_again.ok());
  CHECK(pause_again.err().code == errc::conflict);
}

TEST_CASE_FIXTURE(actor_fixture, "a lead list imports, dedupes within and across uploads, marks DNC") {
  auto t = make_tenant();
  auto l = make_list(*this, t);
  REQUIRE(store->add_dnc({dnc_entry{t.id, "+14155550003", "asked", 0}}).ok());
  auto h = spawn(actors::lead_list_fn, l, env());
  sched.run();

  auto csv = std::make_shared<const std::string>(
    "\xEF\xBB\xBFphone_number,Name,email,Favourite Colour\r\n"
    "(415) 555-0001,Ann,ann@example.com,blue\r\n"
    "415.555.0001,Ann again,,red\r\n"
    "\"+1 415 555 0002\",\"Smith, Bob\",bob@example.com,\"say \"\"hi\"\"\"\r\n"
    "4155550003,Carol,,green\r\n"
    "12,Tiny,,\r\n");
  auto r = ask<actors::import_report>(h, actors::atom::upload::value, t.id, csv);
  REQUIRE(r.ok());
  CHECK(r->rows == 5);
  CHECK(r->imported == 3);
  CHECK(r->duplicates == 1);
  CHECK(r->dnc == 1);
  REQUIRE(r->invalid.size() == 1);
  CHECK(r->invalid[0].first == 6);

  auto second = ask<actors::import_report>(
    h, actors::atom::upload::value, t.id,
    std::make_shared<const std::string>("phone\n+14155550002\n+14155550009\n"));
  REQUIRE(second.ok());
  CHECK(second->imported == 1);
  CHECK(second->duplicates == 1);

  auto page = store->list_leads(t.id, l.id, 0, 10);
  REQUIRE(page.ok());
  CHECK(page->total == 4);
  CHECK(page->items[1].name == "Smith, Bob");
  CHECK(page->items[1].custom_fields_json.find("say \\\"hi\\\"") != std::string::npos);
  CHECK(page->items[2].state == lead_state::dnc);
}

/// Sends a request, lets the actor take it (one step: it hands a job to STORAGE), stops the
/// actor as DELETE or shutdown would, and returns the answer; a request timeout when none
/// came (instead of the test hanging).
template <class T, class Handle, class... Ts>
result<T> ask_then_stop(actor_fixture& f, const Handle& h, Ts&&... xs) {
  auto rh = f.self->request(h, 10s, std::forward<Ts>(xs)...);
  f.sched.run_once();
  f.self->send_exit(h, caf::exit_reason::user_shutdown);
  f.sched.run();
  f.advance(10s);
  result<T> out = error{errc::internal, "no reply"};
  rh.receive([&](T& v) { out = std::move(v); },
             [&](caf::error& e) { out = actors::from_caf(e); });
  return out;
}

TEST_CASE_FIXTURE(actor_fixture, "entity actors stopped mid-request still answer it") {
  // DELETE of the entity (or shutdown) stops its actor while STORAGE holds the request's job;
  // the caller must get an error, not wait for its timeout.
  auto t = make_tenant();
  auto l = make_list(*this, t);
  auto uploaded = ask_then_stop<actors::import_report>(
    *this, sys.spawn(actors::lead_list_fn, l, env()), actors::atom::upload::value, t.id,
    std::make_shared<const std::string>("phone\n+14155550001\n"));
  REQUIRE_FALSE(uploaded.ok());
  CHECK(uploaded.err().code == errc::unavailable);
  CHECK(uploaded.err().message.find(l.id.value) != std::string::npos);
  CHECK(store->list_leads(t.id, l.id, 0, 10)->total == 0);

  auto a = make_agent(t);
  actors::heartbeat_report beat;
  beat.status = runtime_status::running;
  auto heartbeat = ask_then_stop<agent>(*this, sys.spawn(actors::agent_fn, a, env()),
                                        actors::atom::heartbeat::value, t.id, beat);
  REQUIRE_FALSE(heartbeat.ok());
  CHECK(heartbeat.err().code == errc::unavailable);
  CHECK(heartbeat.err().message.find(a.id.value) != std::string::npos);

  REQUIRE(store->set_agent_runtime(a.id, agent_status::active, std::nullopt, "{}", 0).ok());
  auto c = make_campaign(*this, t, a, {l.id});
  auto started = ask_then_stop<campaign>(*this, sys.spawn(actors::campaign_fn, c, env()),
                                         actors::atom::start::value, t.id);
  REQUIRE_FALSE(started.ok());
  CHECK(started.err().code == errc::unavailable);
  CHECK(started.err().message.find(c.id.value) != std::string::npos);
}

TEST_CASE_FIXTURE(actor_fixture, "a malformed CSV is refused whole and stores nothing") {
  auto t = make_tenant();
  auto l = make_list(*this, t);
  auto h = spawn(actors::lead_list_fn, l, env());
  sched.run();
  auto r = ask<actors::import_report>(
    h, actors::atom::upload::value, t.id,
    std::make_shared<const std::string>("phone,name\n+14155550001,\"unterminated\n"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(store->list_leads(t.id, l.id, 0, 10)->total == 0);
}

TEST_CASE_FIXTURE(actor_fixture, "ROOT routes by tenant, stops deleted entities, respawns crashed ones") {
  auto t = make_tenant("A");
  auto other = make_tenant("B");
  auto a = make_agent(t);
  actors::initial_entities init;
  init.agents.push_back(a);
  auto root = spawn(actors::root_fn, env(), init);
  sched.run();

  auto counts = [&] {
    auto rh = self->request(root, caf::infinite, actors::atom::status::value);
    sched.run();
    std::int64_t n = -1;
    rh.receive([&](std::int64_t agents, std::int64_t, std::int64_t) { n = agents; },
               [](caf::error&) {});
    return n;
  };
  CHECK(counts() == 1);

  auto wrong = ask<agent>(root, actors::atom::deploy::value, other.id, a.id);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::not_found);
  auto ok = ask<agent>(root, actors::atom::deploy::value, t.id, a.id);
  REQUIRE(ok.ok());
  CHECK(ok->status == agent_status::active);

  // A new agent gets an actor; a deleted one loses it.
  auto b = make_agent(t, "B");
  self->send(root, actors::atom::spawn::value, b);
  sched.run();
  CHECK(counts() == 2);
  self->send(root, actors::atom::stop::value, b.id);
  sched.run();
  CHECK(counts() == 1);
  auto gone = ask<agent>(root, actors::atom::deploy::value, t.id, b.id);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::not_found);
  self->send_exit(root, caf::exit_reason::user_shutdown);
  sched.run();
}
