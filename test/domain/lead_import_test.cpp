#include "domain/lead_import.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using gobi::leads::classify_header;
using gobi::leads::column;
using gobi::leads::parse_csv;

namespace {

const gobi::phone::normalizer& us() {
  static const gobi::phone::normalizer norm{"US"};
  return norm;
}

} // namespace

TEST_CASE("lead import: header names map loosely to fields") {
  struct test_case {
    const char* header;
    column expected;
  };
  const test_case cases[] = {
    {"phoneNumber", column::phone},     {"phone", column::phone},
    {"Phone Number", column::phone},    {"phone_number", column::phone},
    {"PHONE-NUMBER", column::phone},    {"mobile", column::phone},
    {"Telephone", column::phone},       {" phone ", column::phone},
    {"name", column::name},             {"prospect_name", column::name},
    {"Full Name", column::name},        {"fullname", column::name},
    {"contact_name", column::name},     {"first_name", column::first_name},
    {"FirstName", column::first_name},  {"last name", column::last_name},
    {"lastname", column::last_name},    {"email", column::email},
    {"E-mail", column::email},          {"email_address", column::email},
    {"company_name", column::company_name}, {"Company", column::company_name},
    {"organization", column::company_name}, {"job_title", column::job_title},
    {"Title", column::job_title},       {"jobtitle", column::job_title},
    {"timezone", column::timezone},     {"time_zone", column::timezone},
    {"TZ", column::timezone},           {"resource_name", column::resource_name},
    {"resource", column::resource_name}, {"notes", column::custom},
    {"", column::custom},               {"phone2", column::custom},
    {"a very long header name that is nothing we know", column::custom},
  };
  for (const auto& c : cases) {
    const std::string header = c.header;
    CAPTURE(header);
    CHECK(classify_header(c.header) == c.expected);
  }
}

TEST_CASE("lead import: fields, custom columns and rejections") {
  const std::string csv = "Phone Number,Name,E-mail,Company,Title,Time Zone,Resource,Notes,"
                          "Budget \"2025\"\n"
                          "(415) 555-1001,Ada Lovelace,ada@example.com,Acme,CTO,America/New_York,"
                          "r1,\"Likes \"\"tea\"\"\nand cake\",10k\n"
                          "12,Bob,,,,,,,\n"
                          ",No Phone,,,,,,,\n"
                          "+44 20 7946 0958,Carol,not-an-email,,,,,,\n"
                          "+44 20 7946 0958,Dan,,,,EST,,,\n"
                          "212.555.0199,Eve,,,,,,,,,extra\n"
                          "212.555.0198, Short Row \n"
                          "\n"
                          "  +1 646 555 0100  ,Fay,fay@example.co.uk,,,UTC,,,,,\n";
  auto r = parse_csv(csv, us());
  REQUIRE_MESSAGE(r.ok(), r.err().message);
  CHECK(r->rows == 8);

  REQUIRE(r->leads.size() == 3);
  const auto& ada = r->leads[0];
  CHECK(ada.phone == "+14155551001");
  CHECK(ada.name == "Ada Lovelace");
  CHECK(ada.email == "ada@example.com");
  CHECK(ada.company_name == "Acme");
  CHECK(ada.job_title == "CTO");
  CHECK(ada.timezone == "America/New_York");
  CHECK(ada.resource_name == "r1");
  CHECK(ada.custom_fields_json
        == R"({"Notes":"Likes \"tea\"\nand cake","Budget \"2025\"":"10k"})");
  CHECK(ada.state == gobi::lead_state::pending);
  CHECK(ada.list.empty());
  CHECK(ada.tenant.empty());

  CHECK(r->leads[1].phone == "+12125550198");
  CHECK(r->leads[1].name == "Short Row");
  CHECK(r->leads[1].custom_fields_json == R"({"Notes":"","Budget \"2025\"":""})");
  CHECK(r->leads[2].phone == "+16465550100");
  CHECK(r->leads[2].timezone == "UTC");

  struct rejection {
    std::size_t line;
    std::string reason;
  };
  const std::vector<rejection> expected{
    {4, "invalid phone number '12': too short"},
    {5, "missing phone number"},
    {6, "invalid email 'not-an-email'"},
    {7, "invalid timezone 'EST': expected an IANA name such as America/New_York"},
    {8, "has 11 fields, header has 9"},
  };
  REQUIRE(r->invalid.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(r->invalid[i].line == expected[i].line);
    CHECK(r->invalid[i].reason == expected[i].reason);
  }
}

TEST_CASE("lead import: first and last names") {
  SUBCASE("combined when there is no name column") {
    auto r = parse_csv("phone,first_name,last_name\n4155551001,Ada,Lovelace\n4155551002,,Solo\n"
                       "4155551003,Mononym,\n",
                       us());
    REQUIRE(r.ok());
    REQUIRE(r->leads.size() == 3);
    CHECK(r->leads[0].name == "Ada Lovelace");
    CHECK(r->leads[1].name == "Solo");
    CHECK(r->leads[2].name == "Mononym");
    CHECK(r->leads[0].custom_fields_json == "{}");
  }
  SUBCASE("kept as custom fields next to a name column") {
    auto r = parse_csv("phone,name,first_name\n4155551001,Ada Lovelace,Ada\n", us());
    REQUIRE(r.ok());
    REQUIRE(r->leads.size() == 1);
    CHECK(r->leads[0].name == "Ada Lovelace");
    CHECK(r->leads[0].custom_fields_json == R"({"first_name":"Ada"})");
  }
}

TEST_CASE("lead import: custom keys are unique, escaped and valid UTF-8") {
  auto r = parse_csv("phone,notes,Notes,,phone,x\n"
                     "4155551001,a,b,c,+442079460958,\"tab\there \\ \x01\"\n"
                     "4155551002,caf\xE9,\xC3\xA9t\xC3\xA9,,,\n",
                     us());
  REQUIRE(r.ok());
  REQUIRE(r->leads.size() == 2);
  CHECK(r->leads[0].custom_fields_json
        == R"({"notes":"a","Notes":"b","column_4":"c","phone":"+442079460958","x":"tab\there \\ \u0001"})");
  // Latin-1 bytes become UTF-8; valid UTF-8 stays as it is.
  CHECK(r->leads[1].custom_fields_json
        == "{\"notes\":\"caf\xC3\xA9\",\"Notes\":\"\xC3\xA9t\xC3\xA9\",\"column_4\":\"\","
           "\"phone\":\"\",\"x\":\"\"}");
}

TEST_CASE("lead import: whole-file errors") {
  struct test_case {
    const char* name;
    std::string csv;
    gobi::errc code;
    std::string message;
  };
  const std::vector<test_case> cases{
    {"empty", "", gobi::errc::validation, "the file is empty: expected a header row"},
    {"blank", "\n\n", gobi::errc::validation, "the file is empty: expected a header row"},
    {"no phone column", "name,email\nx,y\n", gobi::errc::validation,
     "no phone column: name one phone, phone_number, phoneNumber or mobile"},
    {"unterminated quote", "phone,name\n4155551001,\"Ada\n4155551002,Bob\n",
     gobi::errc::invalid_argument, "unterminated quoted field starting on line 2"},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    for (unsigned threads : {1u, 4u}) {
      auto r = parse_csv(c.csv, us(), threads);
      REQUIRE_FALSE(r.ok());
      CHECK(r.err().code == c.code);
      CHECK(r.err().message == c.message);
    }
  }
}

TEST_CASE("lead import: a header-only file has no rows") {
  auto r = parse_csv("phone,name\n", us());
  REQUIRE(r.ok());
  CHECK(r->rows == 0);
  CHECK(r->leads.empty());
  CHECK(r->invalid.empty());
}

TEST_CASE("lead import: threads give the same result, in file order") {
  std::string csv = "phone,name,notes\n";
  for (int i = 0; i < 20000; ++i) {
    const auto n = std::to_string(1000 + i % 9000);
    if (i % 97 == 0)
      csv += "12" + std::to_string(i) + ",bad,\n"; // invalid phone
    else if (i % 101 == 0)
      csv += "\n"; // blank line
    else
      csv += "(415) 555-" + n + ",\"Lead " + std::to_string(i) + "\",\"multi\nline\"\n";
  }
  auto one = parse_csv(csv, us(), 1);
  REQUIRE(one.ok());
  for (unsigned threads : {2u, 3u, 8u}) {
    CAPTURE(threads);
    auto many = parse_csv(csv, us(), threads);
    REQUIRE(many.ok());
    CHECK(many->rows == one->rows);
    REQUIRE(many->leads.size() == one->leads.size());
    REQUIRE(many->invalid.size() == one->invalid.size());
    bool same = true;
    for (std::size_t i = 0; i < one->leads.size(); ++i)
      same = same && many->leads[i].phone == one->leads[i].phone
             && many->leads[i].name == one->leads[i].name
             && many->leads[i].custom_fields_json == one->leads[i].custom_fields_json;
    CHECK(same);
    for (std::size_t i = 0; i < one->invalid.size(); ++i) {
      CHECK(many->invalid[i].line == one->invalid[i].line);
      CHECK(many->invalid[i].reason == one->invalid[i].reason);
    }
  }
}

TEST_CASE("lead import: e-mail and time zone checks") {
  struct email_case {
    const char* email;
    bool ok;
  };
  const email_case emails[] = {
    {"a@b.co", true},           {"first.last+tag@sub.example.com", true},
    {"x@y", false},             {"@example.com", false},
    {"a@@example.com", false},  {"a@b@example.com", false},
    {"a b@example.com", false}, {"a@.example.com", false},
    {"a@example.com.", false},  {"a@example..com", false},
    {"a@", false},              {"<a@example.com>", false},
  };
  for (const auto& c : emails) {
    const std::string email = c.email;
    CAPTURE(email);
    CHECK(gobi::leads::is_plausible_email(c.email) == c.ok);
  }
  struct tz_case {
    const char* tz;
    bool ok;
  };
  const tz_case zones[] = {
    {"UTC", true},
    {"America/New_York", true},
    {"Europe/London", true},
    {"America/Argentina/Buenos_Aires", true},
    {"America/Port-au-Prince", true},
    {"Etc/GMT+5", true},
    {"EST", false},
    {"utc", false},
    {"America/", false},
    {"Mars/Olympus_Mons", false},
    {"america/new_york", false},
    {"America/New York", false},
    {"America//New_York", false},
    {"+05:00", false},
  };
  for (const auto& c : zones) {
    const std::string tz = c.tz;
    CAPTURE(tz);
    CHECK(gobi::leads::is_plausible_timezone(c.tz) == c.ok);
  }
}

TEST_CASE("chunked_parser yields the same leads as parse_csv, a chunk at a time") {
  gobi::phone::normalizer pn{"US"};
  std::string csv = "phone,name,Note\r\n";
  for (int i = 0; i < 25; ++i)
    csv += "415555" + std::to_string(1000 + i) + ",Name " + std::to_string(i) + ",\"n, " +
           std::to_string(i) + "\"\r\n";
  csv += "12,bad,\r\n";
  auto whole = gobi::leads::parse_csv(csv, pn);
  REQUIRE(whole.ok());
  auto p = gobi::leads::chunked_parser::open(csv, pn);
  REQUIRE(p.ok());
  CHECK(p->total_rows() == 26);
  std::vector<gobi::lead> got;
  std::vector<gobi::leads::rejected_row> bad;
  std::size_t chunks = 0;
  while (!p->done()) {
    auto part = p->next(10);
    CHECK(part.rows <= 10);
    ++chunks;
    for (auto& l : part.leads)
      got.push_back(std::move(l));
    for (auto& r : part.invalid)
      bad.push_back(std::move(r));
  }
  CHECK(chunks == 3);
  CHECK(p->next(10).rows == 0);
  REQUIRE(got.size() == whole->leads.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].phone == whole->leads[i].phone);
    CHECK(got[i].custom_fields_json == whole->leads[i].custom_fields_json);
  }
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].line == 27);
}

TEST_CASE("chunked_parser refuses a malformed file before yielding any row") {
  gobi::phone::normalizer pn{"US"};
  auto p = gobi::leads::chunked_parser::open("phone\n4155551000\n\"4155551001\n", pn);
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == gobi::errc::invalid_argument);
  auto no_phone = gobi::leads::chunked_parser::open("name\nBob\n", pn);
  REQUIRE_FALSE(no_phone.ok());
  CHECK(no_phone.err().code == gobi::errc::validation);
}
