// Campaigns with their agents, lead lists and numbers.

#include "test/storage/fixture.hpp"

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

namespace {

void check_same_campaign(const campaign& x, const campaign& y) {
  CHECK(x.id == y.id);
  CHECK(x.tenant == y.tenant);
  CHECK(x.name == y.name);
  CHECK(x.description == y.description);
  CHECK(x.type == y.type);
  CHECK(x.status == y.status);
  CHECK(x.agents == y.agents);
  CHECK(x.lead_lists == y.lead_lists);
  CHECK(x.numbers == y.numbers);
  CHECK(x.agent_instructions == y.agent_instructions);
  CHECK(x.session_script == y.session_script);
  CHECK(x.dialer == y.dialer);
  CHECK(x.dial_ratio == y.dial_ratio);
  CHECK(x.max_abandon_rate == y.max_abandon_rate);
  CHECK(x.max_attempts == y.max_attempts);
  CHECK(x.retry_delay_s == y.retry_delay_s);
  CHECK(x.max_concurrent_calls == y.max_concurrent_calls);
  CHECK(x.window == y.window);
  CHECK(x.created_at == y.created_at);
  CHECK(x.updated_at == y.updated_at);
}

/// A tenant with three agents, two lists and two numbers to link campaigns to.
struct world {
  tenant t;
  tenant other;
  std::vector<agent> agents;
  std::vector<lead_list> lists;
  std::vector<phone_number> numbers;

  explicit world(store& s) {
    t = MUST(s.create_tenant(make_tenant("acme")));
    other = MUST(s.create_tenant(make_tenant("other")));
    for (auto name : {"ava", "bob", "cid"})
      agents.push_back(MUST(s.create_agent(make_agent(t.id, name))));
    for (auto name : {"fair", "web"})
      lists.push_back(MUST(s.create_lead_list(make_list(t.id, name))));
    numbers.push_back(MUST(s.create_phone_number(make_number(t.id, "+15550100001"))));
    numbers.push_back(MUST(s.create_phone_number(make_number(t.id, "+15550100002"))));
  }
};

} // namespace

TEST_CASE("campaigns: create and get round-trip every field and link, in order") {
  for_each_backend([](store& s) {
    world w{s};
    auto c = make_campaign(w.t.id, "spring");
    // Deliberately not in id order: the stored order is the given order.
    c.agents = {{w.agents[2].id, 1, true}, {w.agents[0].id, 2, false}, {w.agents[1].id, 1, true}};
    c.lead_lists = {w.lists[1].id, w.lists[0].id};
    c.numbers = {w.numbers[1].id, w.numbers[0].id};
    auto created = MUST(s.create_campaign(c));
    CHECK(created.id.str().starts_with("cmp_"));
    c.id = created.id;
    check_same_campaign(MUST(s.get_campaign(w.t.id, c.id)), c);

    // Every enum spelling survives.
    for (auto type : {campaign_type::inbound, campaign_type::outbound})
      for (auto dialer : {dialer_type::progressive, dialer_type::predictive, dialer_type::ratio}) {
        auto x = make_campaign(w.t.id, "enum");
        x.type = type;
        x.dialer = dialer;
        x.status = campaign_status::completed;
        x = MUST(s.create_campaign(x));
        check_same_campaign(MUST(s.get_campaign(w.t.id, x.id)), x);
      }
  });
}

TEST_CASE("campaigns: list, list_all, update replaces links, status, delete") {
  for_each_backend([](store& s) {
    world w{s};
    auto c1 = make_campaign(w.t.id, "one", 3000);
    c1.agents = {{w.agents[0].id, 1, true}};
    c1.lead_lists = {w.lists[0].id};
    c1 = MUST(s.create_campaign(c1));
    auto c2 = make_campaign(w.t.id, "two", 2000);
    c2.agents = {{w.agents[0].id, 3, true}, {w.agents[1].id, 1, true}};
    c2.numbers = {w.numbers[0].id};
    c2 = MUST(s.create_campaign(c2));
    auto c3 = MUST(s.create_campaign(make_campaign(w.other.id, "three")));

    auto listed = MUST(s.list_campaigns(w.t.id));
    REQUIRE(listed.size() == 2);
    check_same_campaign(listed[0], c2); // older first
    check_same_campaign(listed[1], c1);
    auto all = MUST(s.list_all_campaigns());
    REQUIRE(all.size() == 3);
    int seen = 0;
    for (const auto& x : all) {
      if (x.id == c1.id) check_same_campaign(x, c1), ++seen;
      if (x.id == c2.id) check_same_campaign(x, c2), ++seen;
      if (x.id == c3.id) check_same_campaign(x, c3), ++seen;
    }
    CHECK(seen == 3);

    auto ids = MUST(s.campaigns_with_agent(w.t.id, w.agents[0].id));
    CHECK(ids.size() == 2);
    CHECK(MUST(s.campaigns_with_agent(w.t.id, w.agents[2].id)).empty());
    CHECK(MUST(s.campaigns_with_agent(w.other.id, w.agents[0].id)).empty());

    // Update replaces the record and all three link sets.
    auto u = c1;
    u.name = "one, renamed";
    u.window = calling_window{0, 24 * 60, 0x60, ""};
    u.agents = {{w.agents[2].id, 5, false}};
    u.lead_lists = {};
    u.numbers = {w.numbers[1].id, w.numbers[0].id};
    u.status = campaign_status::running;
    u.updated_at = 99;
    u.created_at = 1; // ignored: creation time is kept
    auto updated = MUST(s.update_campaign(u));
    u.created_at = c1.created_at;
    check_same_campaign(updated, u);
    check_same_campaign(MUST(s.get_campaign(w.t.id, c1.id)), u);
    CHECK(MUST(s.campaigns_with_agent(w.t.id, w.agents[0].id)).size() == 1);

    MUST(s.set_campaign_status(w.t.id, c2.id, campaign_status::completed, 1234));
    auto got = MUST(s.get_campaign(w.t.id, c2.id));
    CHECK(got.status == campaign_status::completed);
    CHECK(got.updated_at == 1234);
    CHECK(got.agents == c2.agents);

    // Tenant isolation.
    CHECK(code_of(s.get_campaign(w.other.id, c1.id)) == errc::not_found);
    auto foreign = u;
    foreign.tenant = w.other.id;
    foreign.agents = {};
    foreign.numbers = {};
    CHECK(code_of(s.update_campaign(foreign)) == errc::not_found);
    CHECK(code_of(s.set_campaign_status(w.other.id, c1.id, campaign_status::draft, 1)) ==
          errc::not_found);
    CHECK(code_of(s.delete_campaign(w.other.id, c1.id)) == errc::not_found);
    CHECK(MUST(s.get_campaign(w.t.id, c1.id)).status == campaign_status::running);

    MUST(s.delete_campaign(w.t.id, c1.id));
    CHECK(code_of(s.get_campaign(w.t.id, c1.id)) == errc::not_found);
    CHECK(code_of(s.delete_campaign(w.t.id, c1.id)) == errc::not_found);
    // Its links went with it; the agents, lists and numbers stay.
    CHECK(MUST(s.campaigns_with_agent(w.t.id, w.agents[2].id)).empty());
    CHECK(MUST(s.get_phone_number(w.t.id, w.numbers[1].id)).number == "+15550100002");
  });
}

TEST_CASE("campaigns: links to another tenant's or missing rows are refused") {
  for_each_backend([](store& s) {
    world w{s};
    auto foreign_agent = MUST(s.create_agent(make_agent(w.other.id, "spy")));
    auto foreign_list = MUST(s.create_lead_list(make_list(w.other.id, "theirs")));

    auto c = make_campaign(w.t.id, "bad agent");
    c.agents = {{foreign_agent.id, 1, true}};
    CHECK(code_of(s.create_campaign(c)) == errc::not_found);
    c.agents = {{agent_id{"agt_missing"}, 1, true}};
    CHECK(code_of(s.create_campaign(c)) == errc::not_found);
    c.agents = {};
    c.lead_lists = {foreign_list.id};
    CHECK(code_of(s.create_campaign(c)) == errc::not_found);
    c.lead_lists = {};
    c.numbers = {phone_number_id{"num_missing"}};
    CHECK(code_of(s.create_campaign(c)) == errc::not_found);
    // Nothing of the failed creates was kept.
    CHECK(MUST(s.list_campaigns(w.t.id)).empty());

    // The same agent twice is a conflict; the update leaves the campaign as it was.
    auto ok = make_campaign(w.t.id, "good");
    ok.agents = {{w.agents[0].id, 1, true}};
    ok = MUST(s.create_campaign(ok));
    auto twice = ok;
    twice.agents = {{w.agents[1].id, 1, true}, {w.agents[1].id, 2, true}};
    CHECK(code_of(s.update_campaign(twice)) == errc::conflict);
    CHECK(MUST(s.get_campaign(w.t.id, ok.id)).agents == ok.agents);
  });
}

TEST_CASE("campaigns: deleting a lead list or a number removes its campaign links") {
  for_each_backend([](store& s) {
    world w{s};
    auto c = make_campaign(w.t.id, "spring");
    c.lead_lists = {w.lists[0].id, w.lists[1].id};
    c.numbers = {w.numbers[0].id, w.numbers[1].id};
    c = MUST(s.create_campaign(c));
    MUST(s.delete_lead_list(w.t.id, w.lists[0].id));
    MUST(s.delete_phone_number(w.t.id, w.numbers[1].id));
    auto got = MUST(s.get_campaign(w.t.id, c.id));
    CHECK(got.lead_lists == std::vector<lead_list_id>{w.lists[1].id});
    CHECK(got.numbers == std::vector<phone_number_id>{w.numbers[0].id});
  });
}
