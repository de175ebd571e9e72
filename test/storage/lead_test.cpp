// Lead lists and leads: bulk insert, paging, phones, DNC marking, cascades.

#include "test/storage/fixture.hpp"

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

namespace {

void check_same_lead(const lead& x, const lead& y) {
  CHECK(x.id == y.id);
  CHECK(x.list == y.list);
  CHECK(x.tenant == y.tenant);
  CHECK(x.phone == y.phone);
  CHECK(x.name == y.name);
  CHECK(x.email == y.email);
  CHECK(x.company_name == y.company_name);
  CHECK(x.job_title == y.job_title);
  CHECK(x.timezone == y.timezone);
  CHECK(x.resource_name == y.resource_name);
  CHECK(x.custom_fields_json == y.custom_fields_json);
  CHECK(x.state == y.state);
  CHECK(x.attempts == y.attempts);
  CHECK(x.created_at == y.created_at);
}

} // namespace

TEST_CASE("lead lists: create, get, list, update, delete, tenant isolation") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto l = MUST(s.create_lead_list(make_list(t.id, "fair", 4000)));
    CHECK(l.id.str().starts_with("lst_"));
    CHECK(l.lead_count == 0);
    auto got = MUST(s.get_lead_list(t.id, l.id));
    CHECK(got.name == "fair");
    CHECK(got.description == "from the fair");
    CHECK(got.created_at == 4000);
    CHECK(got.updated_at == 4001);
    auto older = MUST(s.create_lead_list(make_list(t.id, "older", 100)));
    MUST(s.create_lead_list(make_list(other.id, "theirs")));

    auto listed = MUST(s.list_lead_lists(t.id));
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == older.id);
    CHECK(listed[1].id == l.id);
    CHECK(MUST(s.list_all_lead_lists()).size() == 3);

    auto u = l;
    u.name = "fair 2025";
    u.description = "";
    u.updated_at = 5000;
    u.lead_count = 1234; // derived: ignored
    u.created_at = 1;    // kept
    auto updated = MUST(s.update_lead_list(u));
    CHECK(updated.name == "fair 2025");
    CHECK(updated.description.empty());
    CHECK(updated.updated_at == 5000);
    CHECK(updated.created_at == 4000);
    CHECK(updated.lead_count == 0);

    CHECK(code_of(s.get_lead_list(other.id, l.id)) == errc::not_found);
    auto foreign = u;
    foreign.tenant = other.id;
    CHECK(code_of(s.update_lead_list(foreign)) == errc::not_found);
    CHECK(code_of(s.delete_lead_list(other.id, l.id)) == errc::not_found);
    CHECK(code_of(s.list_leads(other.id, l.id, 0, 10)) == errc::not_found);

    MUST(s.delete_lead_list(t.id, l.id));
    CHECK(code_of(s.get_lead_list(t.id, l.id)) == errc::not_found);
    CHECK(code_of(s.delete_lead_list(t.id, l.id)) == errc::not_found);
  });
}

TEST_CASE("leads: insert fills increasing ids; list pages with the total") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto l = MUST(s.create_lead_list(make_list(t.id, "fair")));
    auto leads = make_leads(t.id, l.id, 250);
    leads[3].state = lead_state::completed;
    leads[4].state = lead_state::exhausted;
    leads[5].state = lead_state::failed;
    leads[6].state = lead_state::dialing;
    leads[7].state = lead_state::dnc;
    CHECK(MUST(s.insert_leads(leads)) == 250);
    for (std::size_t i = 1; i < leads.size(); ++i)
      REQUIRE(leads[i].id > leads[i - 1].id);
    CHECK(leads[0].id > 0);

    auto first = MUST(s.list_leads(t.id, l.id, 0, 100));
    CHECK(first.total == 250);
    REQUIRE(first.items.size() == 100);
    for (std::size_t i = 0; i < 100; ++i)
      check_same_lead(first.items[i], leads[i]);
    auto last = MUST(s.list_leads(t.id, l.id, 200, 100));
    CHECK(last.total == 250);
    REQUIRE(last.items.size() == 50);
    check_same_lead(last.items.back(), leads.back());
    auto beyond = MUST(s.list_leads(t.id, l.id, 1000, 10));
    CHECK(beyond.items.empty());
    CHECK(beyond.total == 250);
    CHECK(MUST(s.list_leads(t.id, l.id, 0, 0)).items.empty());
    CHECK(code_of(s.list_leads(t.id, l.id, -1, 10)) == errc::invalid_argument);
    CHECK(code_of(s.list_leads(t.id, l.id, 0, -1)) == errc::invalid_argument);
    CHECK(code_of(s.list_leads(t.id, lead_list_id{"lst_missing"}, 0, 10)) == errc::not_found);

    // The count is kept on the list.
    CHECK(MUST(s.get_lead_list(t.id, l.id)).lead_count == 250);
    CHECK(MUST(s.list_lead_lists(t.id))[0].lead_count == 250);

    // A second batch continues the ids and the count.
    auto more = make_leads(t.id, l.id, 10, 15551000000LL);
    CHECK(MUST(s.insert_leads(more)) == 10);
    CHECK(more[0].id > leads.back().id);
    CHECK(MUST(s.get_lead_list(t.id, l.id)).lead_count == 260);
    std::vector<lead> none;
    CHECK(MUST(s.insert_leads(none)) == 0);
  });
}

TEST_CASE("leads: one batch across lists; bad batches insert nothing") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto a = MUST(s.create_lead_list(make_list(t.id, "a")));
    auto b = MUST(s.create_lead_list(make_list(t.id, "b")));
    auto theirs = MUST(s.create_lead_list(make_list(other.id, "theirs")));

    auto batch = make_leads(t.id, a.id, 3);
    auto to_b = make_leads(t.id, b.id, 2, 15552000000LL);
    batch.insert(batch.begin() + 1, to_b.begin(), to_b.end()); // a b b a a
    auto back_to_b = make_leads(t.id, b.id, 1, 15553000000LL);
    batch.push_back(back_to_b[0]); // a b b a a b
    CHECK(MUST(s.insert_leads(batch)) == 6);
    CHECK(MUST(s.get_lead_list(t.id, a.id)).lead_count == 3);
    CHECK(MUST(s.get_lead_list(t.id, b.id)).lead_count == 3);
    CHECK(MUST(s.list_leads(t.id, b.id, 0, 10)).items.size() == 3);

    // A lead claiming the wrong tenant for its list: not found, and nothing written.
    auto wrong = make_leads(t.id, a.id, 5, 15554000000LL);
    wrong[2].tenant = other.id;
    CHECK(code_of(s.insert_leads(wrong)) == errc::not_found);
    auto cross = make_leads(t.id, theirs.id, 1, 15554000000LL);
    CHECK(code_of(s.insert_leads(cross)) == errc::not_found);
    auto missing = make_leads(t.id, lead_list_id{"lst_missing"}, 1);
    CHECK(code_of(s.insert_leads(missing)) == errc::not_found);
    CHECK(MUST(s.get_lead_list(t.id, a.id)).lead_count == 3);
    CHECK(MUST(s.list_leads(t.id, a.id, 0, 100)).items.size() == 3);
    CHECK(MUST(s.list_leads(other.id, theirs.id, 0, 100)).items.empty());

    auto unlisted = make_leads(t.id, a.id, 2);
    unlisted[1].list = lead_list_id{};
    CHECK(code_of(s.insert_leads(unlisted)) == errc::invalid_argument);
  });
}

TEST_CASE("leads: a bigger batch (several COPY chunks) round-trips") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto l = MUST(s.create_lead_list(make_list(t.id, "big")));
    auto leads = make_leads(t.id, l.id, 30000);
    for (auto& x : leads)
      x.custom_fields_json = R"({"note":")" + std::string(40, 'x') + R"("})";
    CHECK(MUST(s.insert_leads(leads)) == 30000);
    auto p = MUST(s.list_leads(t.id, l.id, 29990, 100));
    CHECK(p.total == 30000);
    REQUIRE(p.items.size() == 10);
    check_same_lead(p.items[9], leads[29999]);
    auto phones = MUST(s.lead_phones(l.id));
    REQUIRE(phones.size() == 30000);
    CHECK(phones[12345] == leads[12345].phone);
  });
}

TEST_CASE("leads: lead_phones lists the list's phones only") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto a = MUST(s.create_lead_list(make_list(t.id, "a")));
    auto b = MUST(s.create_lead_list(make_list(t.id, "b")));
    auto la = make_leads(t.id, a.id, 4);
    auto lb = make_leads(t.id, b.id, 2, 15559000000LL);
    MUST(s.insert_leads(la));
    MUST(s.insert_leads(lb));
    auto phones = MUST(s.lead_phones(a.id));
    CHECK(phones ==
          std::vector<std::string>{"+15550000000", "+15550000001", "+15550000002", "+15550000003"});
    CHECK(MUST(s.lead_phones(b.id)).size() == 2);
    CHECK(MUST(s.lead_phones(lead_list_id{"lst_missing"})).empty());
  });
}

TEST_CASE("leads: mark_leads_dnc changes the tenant's pending leads with that number") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto a = MUST(s.create_lead_list(make_list(t.id, "a")));
    auto b = MUST(s.create_lead_list(make_list(t.id, "b")));
    auto theirs = MUST(s.create_lead_list(make_list(other.id, "theirs")));
    const std::string phone = "+15557770000";
    auto in_a = make_leads(t.id, a.id, 3, 15557770000LL); // the first has the number
    in_a.push_back(in_a[0]);
    in_a.back().state = lead_state::completed; // not pending: untouched
    auto in_b = make_leads(t.id, b.id, 1, 15557770000LL);
    auto in_theirs = make_leads(other.id, theirs.id, 1, 15557770000LL);
    MUST(s.insert_leads(in_a));
    MUST(s.insert_leads(in_b));
    MUST(s.insert_leads(in_theirs));

    CHECK(MUST(s.mark_leads_dnc(t.id, phone)) == 2);
    auto pa = MUST(s.list_leads(t.id, a.id, 0, 10)).items;
    REQUIRE(pa.size() == 4);
    CHECK(pa[0].state == lead_state::dnc);
    CHECK(pa[1].state == lead_state::pending);
    CHECK(pa[3].state == lead_state::completed);
    CHECK(MUST(s.list_leads(t.id, b.id, 0, 10)).items[0].state == lead_state::dnc);
    CHECK(MUST(s.list_leads(other.id, theirs.id, 0, 10)).items[0].state == lead_state::pending);
    CHECK(MUST(s.mark_leads_dnc(t.id, phone)) == 0); // already marked
    CHECK(MUST(s.mark_leads_dnc(t.id, "+19999999999")) == 0);
  });
}

TEST_CASE("leads: deleting a list deletes its leads, and only its leads") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto a = MUST(s.create_lead_list(make_list(t.id, "a")));
    auto b = MUST(s.create_lead_list(make_list(t.id, "b")));
    auto la = make_leads(t.id, a.id, 100);
    auto lb = make_leads(t.id, b.id, 5, 15559000000LL);
    MUST(s.insert_leads(la));
    MUST(s.insert_leads(lb));
    MUST(s.delete_lead_list(t.id, a.id));
    CHECK(MUST(s.lead_phones(a.id)).empty());
    CHECK(MUST(s.lead_phones(b.id)).size() == 5);
    // No orphan is left for the tenant-wide DNC marking to find.
    CHECK(MUST(s.mark_leads_dnc(t.id, la[0].phone)) == 0);
  });
}
