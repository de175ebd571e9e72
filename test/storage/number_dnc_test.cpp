// Phone numbers and the do-not-call list.

#include "test/storage/fixture.hpp"

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

TEST_CASE("phone numbers: create, get, list, update, delete, find across tenants") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto a = MUST(s.create_agent(make_agent(t.id, "ava")));
    auto inbound = make_campaign(t.id, "inbound");
    inbound.type = campaign_type::inbound;
    inbound = MUST(s.create_campaign(inbound));

    auto n = make_number(t.id, "+15550100001", 5000);
    n.agent = a.id;
    n.campaign = inbound.id;
    auto created = MUST(s.create_phone_number(n));
    CHECK(created.id.str().starts_with("num_"));
    auto got = MUST(s.get_phone_number(t.id, created.id));
    CHECK(got.number == "+15550100001");
    CHECK(got.label == "main line");
    CHECK(got.agent == std::optional<agent_id>{a.id});
    CHECK(got.campaign == std::optional<campaign_id>{inbound.id});
    CHECK(got.created_at == 5000);
    CHECK(got.updated_at == 5001);

    auto bare = MUST(s.create_phone_number(make_number(t.id, "+15550100002", 100)));
    CHECK(!MUST(s.get_phone_number(t.id, bare.id)).agent);
    auto listed = MUST(s.list_phone_numbers(t.id));
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == bare.id);
    CHECK(MUST(s.list_phone_numbers(other.id)).empty());

    // Unique across tenants: a number routes to one place.
    CHECK(code_of(s.create_phone_number(make_number(other.id, "+15550100001"))) == errc::conflict);
    auto found = MUST(s.find_phone_number("+15550100001"));
    CHECK(found.id == created.id);
    CHECK(found.tenant == t.id);
    CHECK(code_of(s.find_phone_number("+15550199999")) == errc::not_found);

    auto u = got;
    u.label = "support";
    u.agent.reset();
    u.number = "+15550100003";
    u.updated_at = 6000;
    u.created_at = 1; // kept
    auto updated = MUST(s.update_phone_number(u));
    CHECK(updated.label == "support");
    CHECK(!updated.agent);
    CHECK(updated.campaign == std::optional<campaign_id>{inbound.id});
    CHECK(updated.created_at == 5000);
    CHECK(MUST(s.find_phone_number("+15550100003")).id == created.id);
    CHECK(code_of(s.find_phone_number("+15550100001")) == errc::not_found);
    auto clash = updated;
    clash.number = bare.number;
    CHECK(code_of(s.update_phone_number(clash)) == errc::conflict);

    // Tenant isolation, including references to another tenant's agent or campaign.
    CHECK(code_of(s.get_phone_number(other.id, created.id)) == errc::not_found);
    auto foreign = updated;
    foreign.tenant = other.id;
    CHECK(code_of(s.update_phone_number(foreign)) == errc::not_found);
    CHECK(code_of(s.delete_phone_number(other.id, created.id)) == errc::not_found);
    auto spy = MUST(s.create_agent(make_agent(other.id, "spy")));
    auto borrowing = make_number(t.id, "+15550100009");
    borrowing.agent = spy.id;
    CHECK(code_of(s.create_phone_number(borrowing)) == errc::not_found);
    borrowing.agent.reset();
    borrowing.campaign = campaign_id{"cmp_missing"};
    CHECK(code_of(s.create_phone_number(borrowing)) == errc::not_found);
    auto steal = updated;
    steal.agent = spy.id;
    CHECK(code_of(s.update_phone_number(steal)) == errc::not_found);

    // Deleting the inbound campaign clears the reference.
    MUST(s.delete_campaign(t.id, inbound.id));
    CHECK(!MUST(s.get_phone_number(t.id, created.id)).campaign);

    MUST(s.delete_phone_number(t.id, created.id));
    CHECK(code_of(s.get_phone_number(t.id, created.id)) == errc::not_found);
    CHECK(code_of(s.delete_phone_number(t.id, created.id)) == errc::not_found);
    // The number is free again.
    MUST(s.create_phone_number(make_number(other.id, "+15550100003")));
  });
}

TEST_CASE("dnc: add skips numbers already listed; remove; list pages; numbers") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto entry = [](const tenant_id& tn, std::string n, millis at) {
      return dnc_entry{tn, std::move(n), "asked", at};
    };
    std::vector<dnc_entry> first{entry(t.id, "+15550000003", 3), entry(t.id, "+15550000001", 1),
                                 entry(t.id, "+15550000002", 2)};
    CHECK(MUST(s.add_dnc(first)) == 3);
    // Duplicates, both of stored numbers and within the batch, are skipped.
    std::vector<dnc_entry> second{entry(t.id, "+15550000001", 10), entry(t.id, "+15550000004", 4),
                                  entry(t.id, "+15550000004", 5)};
    CHECK(MUST(s.add_dnc(second)) == 1);
    // Another tenant may list the same number.
    CHECK(MUST(s.add_dnc({entry(other.id, "+15550000001", 1)})) == 1);
    CHECK(MUST(s.add_dnc({})) == 0);
    CHECK(code_of(s.add_dnc({entry(tenant_id{"ten_missing"}, "+1555", 1)})) == errc::not_found);

    auto p = MUST(s.list_dnc(t.id, 0, 2));
    CHECK(p.total == 4);
    REQUIRE(p.items.size() == 2);
    CHECK(p.items[0].number == "+15550000001"); // oldest first
    CHECK(p.items[0].reason == "asked");
    CHECK(p.items[0].created_at == 1); // the first add wins
    CHECK(p.items[0].tenant == t.id);
    CHECK(p.items[1].number == "+15550000002");
    auto p2 = MUST(s.list_dnc(t.id, 2, 2));
    REQUIRE(p2.items.size() == 2);
    CHECK(p2.items[0].number == "+15550000003");
    CHECK(p2.items[1].number == "+15550000004");
    CHECK(MUST(s.list_dnc(t.id, 4, 2)).items.empty());
    CHECK(code_of(s.list_dnc(t.id, -1, 2)) == errc::invalid_argument);

    CHECK(MUST(s.dnc_numbers(t.id)) ==
          std::vector<std::string>{"+15550000001", "+15550000002", "+15550000003", "+15550000004"});
    CHECK(MUST(s.dnc_numbers(other.id)) == std::vector<std::string>{"+15550000001"});
    CHECK(MUST(s.is_dnc(t.id, "+15550000004")));
    CHECK_FALSE(MUST(s.is_dnc(t.id, "+15550000009")));
    CHECK_FALSE(MUST(s.is_dnc(other.id, "+15550000004"))); // another tenant's list

    MUST(s.remove_dnc(t.id, "+15550000002"));
    CHECK(code_of(s.remove_dnc(t.id, "+15550000002")) == errc::not_found);
    CHECK(code_of(s.remove_dnc(t.id, "+19999999999")) == errc::not_found);
    CHECK(MUST(s.list_dnc(t.id, 0, 10)).total == 3);
    CHECK(MUST(s.list_dnc(other.id, 0, 10)).total == 1);
    CHECK(MUST(s.list_dnc(tenant_id{"ten_none"}, 0, 10)).total == 0);
  });
}

TEST_CASE("dnc: big batches skip duplicates within and across statements") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto number = [](int i) { return "+1555" + std::to_string(1000000 + i); };
    // 1234 entries: batches of 500, 500, then 50s and single rows. Numbers 0..999 once,
    // then 0..233 again (already listed by an earlier statement of the same call).
    std::vector<dnc_entry> entries;
    for (int i = 0; i < 1000; ++i)
      entries.push_back(dnc_entry{t.id, number(i), "bulk", 10});
    for (int i = 0; i < 234; ++i)
      entries.push_back(dnc_entry{t.id, number(i), "again", 20});
    // And a duplicate inside one statement (both in the first 500).
    entries[499].number = entries[498].number;
    CHECK(MUST(s.add_dnc(entries)) == 999);
    CHECK(MUST(s.list_dnc(t.id, 0, 1)).total == 999);
    CHECK(MUST(s.dnc_numbers(t.id)).size() == 999);
    // Stored entries keep their first reason.
    auto first = MUST(s.list_dnc(t.id, 0, 1000));
    for (const auto& e : first.items)
      CHECK(e.reason == "bulk");
    // A second call adds only the new ones.
    std::vector<dnc_entry> more;
    for (int i = 990; i < 1060; ++i)
      more.push_back(dnc_entry{t.id, number(i), "more", 30});
    CHECK(MUST(s.add_dnc(more)) == 60);
  });
}
