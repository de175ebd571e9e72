#include "domain/model.hpp"

#include "domain/defaults.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <string>

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

/// Every value prints as `names[i]` and parses back from it in any case.
template <class Enum, class Parse, std::size_t N>
void check_round_trip(const char* const (&names)[N], Parse parse) {
  for (std::size_t i = 0; i < N; ++i) {
    const auto value = static_cast<Enum>(i);
    const std::string name = names[i];
    CAPTURE(name);
    CHECK(gobi::to_string(value) == names[i]);
    CHECK(parse(names[i]) == value);
    CHECK(parse(lower(names[i])) == value);
    CHECK(parse(upper(names[i])) == value);
  }
  CHECK_FALSE(parse("").has_value());
  CHECK_FALSE(parse("bogus").has_value());
  CHECK_FALSE(parse(std::string{names[0]} + " ").has_value());
}

} // namespace

TEST_CASE("model: enums print their API spelling and parse back case-insensitively") {
  using namespace gobi;
  const char* const agent_statuses[] = {"INACTIVE", "ACTIVE"};
  check_round_trip<agent_status>(agent_statuses, parse_agent_status);
  const char* const runtime_statuses[] = {"RUNNING", "STOPPED"};
  check_round_trip<runtime_status>(runtime_statuses, parse_runtime_status);
  const char* const campaign_types[] = {"INBOUND", "OUTBOUND"};
  check_round_trip<campaign_type>(campaign_types, parse_campaign_type);
  const char* const campaign_statuses[] = {"DRAFT", "RUNNING", "PAUSED", "COMPLETED"};
  check_round_trip<campaign_status>(campaign_statuses, parse_campaign_status);
  const char* const dialer_types[] = {"progressive", "predictive", "ratio"};
  check_round_trip<dialer_type>(dialer_types, parse_dialer_type);
  const char* const lead_states[] = {"PENDING", "DNC",    "DIALING",
                                     "COMPLETED", "FAILED", "EXHAUSTED"};
  check_round_trip<lead_state>(lead_states, parse_lead_state);
}

TEST_CASE("model: strong ids compare by value and hash") {
  const gobi::agent_id a{"agt_1"};
  const gobi::agent_id b{"agt_1"};
  const gobi::agent_id c{"agt_2"};
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a < c);
  CHECK(std::hash<gobi::agent_id>{}(a) == std::hash<gobi::agent_id>{}(b));
  CHECK(gobi::agent_id{}.empty());
}

TEST_CASE("model: a call record keeps DTMF digits in order, up to the cap") {
  using namespace gobi;
  struct row {
    const char* sent;
    const char* kept;
  };
  for (auto r : {row{"159", "159"}, row{"*0#", "*0#"}, row{"ABCD", "ABCD"}, row{"1x2", "12"},
                 row{"abcd", ""}, row{"E!", ""}}) {
    CAPTURE(r.sent);
    call_record c;
    for (const char* p = r.sent; *p != '\0'; ++p)
      append_dtmf(c, *p);
    CHECK(c.dtmf == r.kept);
  }
  call_record c;
  CHECK_FALSE(append_dtmf(c, '\0'));
  for (std::size_t i = 0; i < defaults::max_dtmf_digits; ++i)
    CHECK(append_dtmf(c, static_cast<char>('0' + i % 10)));
  CHECK_FALSE(append_dtmf(c, '9'));
  CHECK(c.dtmf.size() == defaults::max_dtmf_digits);
  CHECK(c.dtmf.substr(0, 3) == "012");
}
