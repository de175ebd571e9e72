// Tenants, users, agents and their prompt history.

#include "test/storage/fixture.hpp"

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

namespace {

void check_same_agent(const agent& x, const agent& y) {
  CHECK(x.id == y.id);
  CHECK(x.tenant == y.tenant);
  CHECK(x.name == y.name);
  CHECK(x.description == y.description);
  CHECK(x.system_prompt == y.system_prompt);
  CHECK(x.personality == y.personality);
  CHECK(x.greeting_message == y.greeting_message);
  CHECK(x.llm_provider == y.llm_provider);
  CHECK(x.llm_model == y.llm_model);
  CHECK(x.temperature == y.temperature);
  CHECK(x.voice_provider == y.voice_provider);
  CHECK(x.voice_id == y.voice_id);
  CHECK(x.stt_provider == y.stt_provider);
  CHECK(x.stt_language == y.stt_language);
  CHECK(x.max_concurrent_calls == y.max_concurrent_calls);
  CHECK(x.metadata_json == y.metadata_json);
  CHECK(x.status == y.status);
  CHECK(x.last_heartbeat_at == y.last_heartbeat_at);
  CHECK(x.runtime_metrics_json == y.runtime_metrics_json);
  CHECK(x.created_at == y.created_at);
  CHECK(x.updated_at == y.updated_at);
}

} // namespace

TEST_CASE("tenants: create fills the id, get finds it") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme", 42)));
    CHECK(t.id.str().starts_with("ten_"));
    auto got = MUST(s.get_tenant(t.id));
    CHECK(got.id == t.id);
    CHECK(got.name == "acme");
    CHECK(got.created_at == 42);
    CHECK(code_of(s.get_tenant(tenant_id{"ten_nope"})) == errc::not_found);
    // A caller-chosen id is kept; reusing it conflicts.
    auto fixed = make_tenant("fixed");
    fixed.id = tenant_id{"ten_fixed"};
    CHECK(MUST(s.create_tenant(fixed)).id == fixed.id);
    CHECK(code_of(s.create_tenant(fixed)) == errc::conflict);
  });
}

TEST_CASE("users: email is lower-cased, unique across tenants, found case-insensitively") {
  for_each_backend([](store& s) {
    auto t1 = MUST(s.create_tenant(make_tenant("one")));
    auto t2 = MUST(s.create_tenant(make_tenant("two")));
    user u;
    u.tenant = t1.id;
    u.email = "Ada.Lovelace@Example.COM";
    u.name = "Ada";
    u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    u.role = "admin";
    u.created_at = 77;
    auto created = MUST(s.create_user(u));
    CHECK(created.id.str().starts_with("usr_"));
    CHECK(created.email == "ada.lovelace@example.com");

    auto found = MUST(s.find_user_by_email("ADA.LOVELACE@example.com"));
    CHECK(found.id == created.id);
    CHECK(found.tenant == t1.id);
    CHECK(found.email == "ada.lovelace@example.com");
    CHECK(found.name == "Ada");
    CHECK(found.password_hash == u.password_hash);
    CHECK(found.role == "admin");
    CHECK(found.created_at == 77);
    CHECK(code_of(s.find_user_by_email("nobody@example.com")) == errc::not_found);

    CHECK(MUST(s.get_user(t1.id, created.id)).email == created.email);
    CHECK(code_of(s.get_user(t2.id, created.id)) == errc::not_found);

    // The same address in another case, in another tenant: still a conflict.
    user dup = u;
    dup.tenant = t2.id;
    dup.email = "ada.lovelace@EXAMPLE.com";
    auto r = s.create_user(dup);
    CHECK(code_of(r) == errc::conflict);
    // A user of a tenant that does not exist.
    user orphan = u;
    orphan.email = "orphan@example.com";
    orphan.tenant = tenant_id{"ten_missing"};
    CHECK(code_of(s.create_user(orphan)) == errc::not_found);
  });
}

TEST_CASE("agents: create, get, list, update, delete") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto a = MUST(s.create_agent(make_agent(t.id, "ava", 2000)));
    CHECK(a.id.str().starts_with("agt_"));
    check_same_agent(MUST(s.get_agent(t.id, a.id)), a);

    auto no_hb = make_agent(t.id, "bob", 1000); // older: listed first
    no_hb.last_heartbeat_at.reset();
    no_hb.status = agent_status::inactive;
    auto b = MUST(s.create_agent(no_hb));
    check_same_agent(MUST(s.get_agent(t.id, b.id)), b);
    auto c = MUST(s.create_agent(make_agent(other.id, "carl", 500)));

    auto listed = MUST(s.list_agents(t.id));
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == b.id);
    CHECK(listed[1].id == a.id);
    CHECK(MUST(s.list_agents(other.id)).size() == 1);
    CHECK(MUST(s.list_agents(tenant_id{"ten_none"})).empty());
    CHECK(MUST(s.list_all_agents()).size() == 3);

    // Update replaces every field but the creation time.
    auto changed = a;
    changed.name = "ava 2";
    changed.temperature = 1.125;
    changed.max_concurrent_calls = 2;
    changed.metadata_json = "{}";
    changed.status = agent_status::inactive;
    changed.last_heartbeat_at.reset();
    changed.created_at = 999999;
    changed.updated_at = 9000;
    auto updated = MUST(s.update_agent(changed, nullptr));
    changed.created_at = a.created_at;
    check_same_agent(updated, changed);
    check_same_agent(MUST(s.get_agent(t.id, a.id)), changed);
    CHECK(MUST(s.prompt_history(t.id, a.id)).empty());

    // Tenant isolation: another tenant's id is not found, and nothing changes.
    CHECK(code_of(s.get_agent(other.id, a.id)) == errc::not_found);
    auto foreign = changed;
    foreign.tenant = other.id;
    foreign.name = "hijacked";
    CHECK(code_of(s.update_agent(foreign, nullptr)) == errc::not_found);
    CHECK(code_of(s.delete_agent(other.id, a.id)) == errc::not_found);
    CHECK(MUST(s.get_agent(t.id, a.id)).name == "ava 2");
    CHECK(code_of(s.prompt_history(other.id, a.id)) == errc::not_found);

    MUST(s.delete_agent(t.id, a.id));
    CHECK(code_of(s.get_agent(t.id, a.id)) == errc::not_found);
    CHECK(code_of(s.delete_agent(t.id, a.id)) == errc::not_found);
    CHECK(MUST(s.list_all_agents()).size() == 2);
    (void)c;
  });
}

TEST_CASE("agents: prompt history, oldest first, in the update's transaction") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto a = MUST(s.create_agent(make_agent(t.id, "ava")));
    auto current = a;
    for (int i = 1; i <= 3; ++i) {
      prompt_change ch;
      ch.system_prompt = "prompt " + std::to_string(i);
      ch.previous_prompt = current.system_prompt;
      ch.changed_by = user_id{"usr_x"};
      ch.changed_by_email = "x@example.com";
      ch.changed_at = 10000 + i;
      // The change is filed under the agent updated, whatever it names.
      ch.agent = agent_id{"agt_ignored"};
      current.system_prompt = ch.system_prompt;
      current.updated_at = ch.changed_at;
      MUST(s.update_agent(current, &ch));
    }
    auto history = MUST(s.prompt_history(t.id, a.id));
    REQUIRE(history.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(history[i].agent == a.id);
      CHECK(history[i].tenant == t.id);
      CHECK(history[i].system_prompt == "prompt " + std::to_string(i + 1));
      CHECK(history[i].changed_by == user_id{"usr_x"});
      CHECK(history[i].changed_by_email == "x@example.com");
      CHECK(history[i].changed_at == 10001 + i);
    }
    CHECK(history[0].previous_prompt == a.system_prompt);
    CHECK(history[1].previous_prompt == "prompt 1");
    CHECK(history[0].id < history[1].id);
    CHECK(history[1].id < history[2].id);
    CHECK(MUST(s.get_agent(t.id, a.id)).system_prompt == "prompt 3");

    // A failed update writes no history.
    prompt_change lost;
    lost.system_prompt = "lost";
    auto missing = current;
    missing.id = agent_id{"agt_missing"};
    CHECK(code_of(s.update_agent(missing, &lost)) == errc::not_found);
    CHECK(MUST(s.prompt_history(t.id, a.id)).size() == 3);
    CHECK(code_of(s.prompt_history(t.id, agent_id{"agt_missing"})) == errc::not_found);
  });
}

TEST_CASE("agents: set_agent_runtime writes status, heartbeat and metrics only") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto a = MUST(s.create_agent(make_agent(t.id, "ava")));
    MUST(s.set_agent_runtime(a.id, agent_status::inactive, 123456, R"({"calls":9})", 7777));
    auto got = MUST(s.get_agent(t.id, a.id));
    CHECK(got.status == agent_status::inactive);
    CHECK(got.last_heartbeat_at == std::optional<millis>{123456});
    CHECK(got.runtime_metrics_json == R"({"calls":9})");
    CHECK(got.updated_at == 7777);
    CHECK(got.name == a.name);
    CHECK(got.system_prompt == a.system_prompt);
    CHECK(got.created_at == a.created_at);

    MUST(s.set_agent_runtime(a.id, agent_status::active, std::nullopt, "{}", 8888));
    got = MUST(s.get_agent(t.id, a.id));
    CHECK(got.status == agent_status::active);
    CHECK(!got.last_heartbeat_at);
    CHECK(code_of(s.set_agent_runtime(agent_id{"agt_missing"}, agent_status::active, 1, "{}", 1)) ==
          errc::not_found);
  });
}

TEST_CASE("agents: delete removes prompt history and campaign assignments") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto a = MUST(s.create_agent(make_agent(t.id, "ava")));
    auto b = MUST(s.create_agent(make_agent(t.id, "bob")));
    prompt_change ch;
    ch.system_prompt = "new";
    auto a2 = a;
    a2.system_prompt = "new";
    MUST(s.update_agent(a2, &ch));
    auto c = make_campaign(t.id, "spring");
    c.agents = {{a.id, 1, true}, {b.id, 2, false}};
    c = MUST(s.create_campaign(c));
    auto n = make_number(t.id, "+15550100001");
    n.agent = a.id;
    n = MUST(s.create_phone_number(n));

    MUST(s.delete_agent(t.id, a.id));
    CHECK(MUST(s.campaigns_with_agent(t.id, a.id)).empty());
    auto got = MUST(s.get_campaign(t.id, c.id));
    REQUIRE(got.agents.size() == 1);
    CHECK(got.agents[0].agent == b.id);
    // The number stays, without its agent.
    CHECK(!MUST(s.get_phone_number(t.id, n.id)).agent);
    // History went with the agent: recreating the id starts a clean history.
    auto again = make_agent(t.id, "ava again");
    again.id = a.id;
    MUST(s.create_agent(again));
    CHECK(MUST(s.prompt_history(t.id, a.id)).empty());
  });
}
