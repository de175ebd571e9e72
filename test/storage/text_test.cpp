// Hostile text: SQL-looking strings, quotes, unicode, and the bytes COPY's text format
// reserves (tab, newline, carriage return, backslash) must come back byte for byte.

#include "test/storage/fixture.hpp"

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

namespace {

const std::vector<std::string>& nasty_strings() {
  static const std::vector<std::string> all{
      "Robert'); DROP TABLE leads;--",
      "' OR '1'='1",
      "\"double\" 'single' `back` ''",
      "tab\there\tand\tthere",
      "new\nline\n",
      "cr\rlf\r\n",
      "back\\slash \\\\ double",
      "\\N",
      "\\.",
      "\\",
      "trailing backslash\\",
      "\\t\\n not escapes",
      "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89",
      "$1 ?1 ?2 %s %_ {serial_pk} :name @x",
      "control \x01\x02\x1f\x7f bytes",
      "",
      " ",
      std::string(100000, 'z'),
  };
  return all;
}

} // namespace

TEST_CASE("text: hostile strings round-trip through every path") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto l = MUST(s.create_lead_list(make_list(t.id, "nasty")));
    int i = 0;
    for (const auto& text : nasty_strings()) {
      INFO("string #" << i);
      // Plain parameters.
      auto tn = MUST(s.create_tenant(make_tenant(text)));
      CHECK(MUST(s.get_tenant(tn.id)).name == text);
      auto a = make_agent(t.id, text);
      a.system_prompt = text;
      a.metadata_json = text;
      a.runtime_metrics_json = text;
      a = MUST(s.create_agent(a));
      auto ga = MUST(s.get_agent(t.id, a.id));
      CHECK(ga.name == text);
      CHECK(ga.system_prompt == text);
      CHECK(ga.metadata_json == text);
      prompt_change ch;
      ch.system_prompt = text;
      ch.previous_prompt = text;
      ch.changed_by_email = text;
      MUST(s.update_agent(a, &ch));
      auto h = MUST(s.prompt_history(t.id, a.id));
      REQUIRE(h.size() == 1);
      CHECK(h[0].system_prompt == text);
      CHECK(h[0].changed_by_email == text);
      auto c = make_campaign(t.id, text);
      c.agent_instructions = text;
      c.window.timezone = text;
      c = MUST(s.create_campaign(c));
      auto gc = MUST(s.get_campaign(t.id, c.id));
      CHECK(gc.agent_instructions == text);
      CHECK(gc.window.timezone == text);
      MUST(s.add_dnc({dnc_entry{t.id, "+1" + std::to_string(i) + text, text, 1}}));

      // Lookups by a hostile key find nothing, and fail nothing.
      CHECK(code_of(s.find_phone_number(text)) == errc::not_found);
      CHECK(code_of(s.find_user_by_email(text)) == errc::not_found);
      CHECK(code_of(s.get_agent(t.id, agent_id{text})) == errc::not_found);
      ++i;
    }

    // The bulk path (COPY on PostgreSQL): every text field of every lead.
    std::vector<lead> leads;
    for (const auto& text : nasty_strings()) {
      lead x;
      x.list = l.id;
      x.tenant = t.id;
      x.phone = text;
      x.name = text;
      x.email = text;
      x.company_name = text;
      x.job_title = text;
      x.timezone = text;
      x.resource_name = text;
      x.custom_fields_json = text;
      leads.push_back(std::move(x));
    }
    MUST(s.insert_leads(leads));
    auto p = MUST(s.list_leads(t.id, l.id, 0, 100));
    REQUIRE(p.items.size() == nasty_strings().size());
    for (std::size_t k = 0; k < p.items.size(); ++k) {
      INFO("lead #" << k);
      const auto& text = nasty_strings()[k];
      const auto& x = p.items[k];
      CHECK(x.id == leads[k].id);
      CHECK(x.phone == text);
      CHECK(x.name == text);
      CHECK(x.email == text);
      CHECK(x.company_name == text);
      CHECK(x.job_title == text);
      CHECK(x.timezone == text);
      CHECK(x.resource_name == text);
      CHECK(x.custom_fields_json == text);
    }
    auto phones = MUST(s.lead_phones(l.id));
    CHECK(phones == nasty_strings());

    auto dnc = MUST(s.list_dnc(t.id, 0, 100));
    REQUIRE(dnc.items.size() == nasty_strings().size());
    for (const auto& e : dnc.items) {
      auto k = std::stoul(e.number.substr(2)); // "+1<k><text>"
      REQUIRE(k < nasty_strings().size());
      CHECK(e.reason == nasty_strings()[k]);
    }
    // Every table is still there.
    CHECK(MUST(s.list_agents(t.id)).size() == nasty_strings().size());
  });
}

TEST_CASE("text: a NUL byte is refused the same way on both backends") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto l = MUST(s.create_lead_list(make_list(t.id, "nul")));
    std::string with_nul{"a\0b", 3};
    CHECK(code_of(s.create_tenant(make_tenant(with_nul))) == errc::invalid_argument);
    auto leads = make_leads(t.id, l.id, 3);
    leads[1].name = with_nul;
    CHECK(code_of(s.insert_leads(leads)) == errc::invalid_argument);
    CHECK(MUST(s.get_lead_list(t.id, l.id)).lead_count == 0);
    CHECK(MUST(s.lead_phones(l.id)).empty());
  });
}
