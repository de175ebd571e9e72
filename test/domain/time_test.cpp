#include "domain/time.hpp"

#include <doctest/doctest.h>

#include <optional>

TEST_CASE("time: format ISO 8601 in UTC with milliseconds") {
  struct test_case {
    gobi::millis t;
    const char* text;
  };
  const test_case cases[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {-1, "1969-12-31T23:59:59.999Z"},
    {1'760'635'500'000, "2025-10-16T17:25:00.000Z"},
    {951'782'400'000, "2000-02-29T00:00:00.000Z"},
    {4'107'542'399'999, "2100-02-28T23:59:59.999Z"},
    {253'402'300'799'999, "9999-12-31T23:59:59.999Z"},
    {-62'135'596'800'000, "0001-01-01T00:00:00.000Z"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.t);
    CHECK(gobi::format_iso8601(c.t) == c.text);
    CHECK(gobi::parse_iso8601(c.text) == c.t);
  }
}

TEST_CASE("time: parse accepts offsets and fractions, refuses the rest") {
  struct test_case {
    const char* text;
    std::optional<gobi::millis> t;
  };
  const test_case cases[] = {
    {"2025-10-16T17:25:00Z", 1'760'635'500'000},
    {"2025-10-16t17:25:00z", 1'760'635'500'000},
    {"2025-10-16 17:25:00Z", 1'760'635'500'000},
    {"2025-10-16T17:25:00.5Z", 1'760'635'500'500},
    {"2025-10-16T17:25:00.123456789Z", 1'760'635'500'123},
    {"2025-10-16T19:25:00+02:00", 1'760'635'500'000},
    {"2025-10-16T12:25:00-0500", 1'760'635'500'000},
    {"2025-10-17T00:25:00+07:00", 1'760'635'500'000},
    {"2024-02-29T00:00:00Z", 1'709'164'800'000},
    {"2025-10-16T17:25:00", std::nullopt},   // no zone
    {"2025-10-16", std::nullopt},
    {"2025-02-29T00:00:00Z", std::nullopt},  // not a leap year
    {"2025-13-01T00:00:00Z", std::nullopt},
    {"2025-00-10T00:00:00Z", std::nullopt},
    {"2025-10-16T24:00:00Z", std::nullopt},
    {"2025-10-16T17:60:00Z", std::nullopt},
    {"2025-10-16T17:25:00.Z", std::nullopt},
    {"2025-10-16T17:25:00Zjunk", std::nullopt},
    {"2025-10-16T17:25:00+25:00", std::nullopt},
    {"25-10-16T17:25:00Z", std::nullopt},
    {"", std::nullopt},
  };
  for (const auto& c : cases) {
    const std::string input = c.text;
    CAPTURE(input);
    CHECK(gobi::parse_iso8601(c.text) == c.t);
  }
}
