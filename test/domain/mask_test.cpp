#include "domain/mask.hpp"

#include <doctest/doctest.h>

TEST_CASE("mask: phone numbers keep their last four digits") {
  struct test_case {
    const char* in;
    const char* out;
  };
  const test_case cases[] = {
    {"+14155551001", "+*******1001"},
    {"call +14155551001 now", "call +*******1001 now"},
    {"(415) 555-1001", "(***) ***-1001"},
    {"415.555.1001", "***.***.1001"},
    {"415-555-1001", "***-***-1001"},
    {"+44 20 7946 0958", "+** ** **** 0958"},
    {"+1 (415) 555-1001", "+* (***) ***-1001"},
    {"lead 4155551001 failed", "lead ******1001 failed"},
    {"to=+442079460958,from=+14155551001", "to=+********0958,from=+*******1001"},
    {"phone:4155551001", "phone:******1001"},
    {"\"+14155551001\"", "\"+*******1001\""},
    {"sip:+14155551001@10.0.0.1:5060", "sip:+*******1001@10.0.0.1:5060"},
    {"dialing 555-1001.", "dialing ***-1001."},
    {"imported 1000000 rows in 5139 ms", "imported 1000000 rows in 5139 ms"}, // counts stay
    {"0044 20 7946 0958", "**** ** **** 0958"},
  };
  for (const auto& c : cases) {
    const std::string input = c.in;
    CAPTURE(input);
    CHECK(gobi::mask_pii(c.in) == c.out);
  }
}

TEST_CASE("mask: e-mail addresses keep the first letter and the domain") {
  struct test_case {
    const char* in;
    const char* out;
  };
  const test_case cases[] = {
    {"john@acme.com", "j***@acme.com"},
    {"user john.doe+tag@mail.example.co.uk logged in",
     "user j***@mail.example.co.uk logged in"},
    {"<jane@acme.io>", "<j***@acme.io>"},
    {"mail a@b.de.", "mail a***@b.de."},
    {"x@y.com, z@w.org", "x***@y.com, z***@w.org"},
    {"14155551001@pbx.example.com", "1***@pbx.example.com"},
  };
  for (const auto& c : cases) {
    const std::string input = c.in;
    CAPTURE(input);
    CHECK(gobi::mask_pii(c.in) == c.out);
  }
}

TEST_CASE("mask: ordinary log text is left alone") {
  const char* cases[] = {
    "2025-01-20 14:23:45",
    "2025-01-20T14:23:45.123Z",
    "[2025-01-20 14:23:45.123] call ended",
    "on 2025-01-20 we",
    "on 20.01.2025 we",
    "on 01-20-2025 we",
    "agt_3k4j5h6g7f8d9s0a1b2c",
    "cmp_1234567890abcdef",
    "listening on 127.0.0.1:3000",
    "peer 192.168.100.200 connected",
    "peer 192.168.100.200:50600 connected",
    "took 1234ms",
    "took 12.345678s",
    "duration_ms=1234",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "version 1.2.3",
    "user@localhost",
    "@channel ping",
    "trace 0123456789abcdef0123456789abcdef",
    "id 12345678901234567890",
    "count=123456",
    "v1.2345678",
    "",
  };
  for (const char* c : cases) {
    const std::string input = c;
    CAPTURE(input);
    CHECK(gobi::mask_pii(c) == c);
  }
}
