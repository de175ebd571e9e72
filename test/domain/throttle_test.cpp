#include "domain/throttle.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using gobi::login_throttle;

TEST_CASE("throttle: delays double after the free attempts, up to the cap") {
  login_throttle t{login_throttle::options{5, 900, 1, 60, 100}};
  const std::int64_t now = 1000;
  // (failures so far, retry_after right after the last failure)
  const std::vector<std::int64_t> expected{0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto failures = i + 1;
    CAPTURE(failures);
    t.record_failure("ada@example.com", now);
    CHECK(t.retry_after("ada@example.com", now) == expected[i]);
  }
  CHECK(t.retry_after("ada@example.com", now + 59) == 1);
  CHECK(t.retry_after("ada@example.com", now + 60) == 0);
  CHECK(t.retry_after("bob@example.com", now) == 0);
}

TEST_CASE("throttle: success clears, the window expires") {
  login_throttle t{login_throttle::options{3, 100, 10, 1000, 100}};
  for (int i = 0; i < 3; ++i)
    t.record_failure("k", 0);
  CHECK(t.retry_after("k", 0) == 10);
  t.record_success("k");
  CHECK(t.retry_after("k", 0) == 0);
  CHECK(t.size() == 0);

  // Two failures, then a quiet window: the count starts again.
  t.record_failure("k", 0);
  t.record_failure("k", 50);
  t.record_failure("k", 200); // window (100 s from the first failure) has passed
  CHECK(t.retry_after("k", 200) == 0);
  t.record_failure("k", 201);
  t.record_failure("k", 202);
  CHECK(t.retry_after("k", 202) == 10);
}

TEST_CASE("throttle: memory is bounded; the least recently failed keys go first") {
  login_throttle t{login_throttle::options{1, 10'000, 100, 100, 16}};
  for (int i = 0; i < 16; ++i)
    t.record_failure("old" + std::to_string(i), i);
  CHECK(t.size() == 16);
  t.record_failure("new", 100);
  CHECK(t.size() <= 16);
  CHECK(t.retry_after("new", 100) == 100);
  CHECK(t.retry_after("old0", 100) == 0);   // evicted
  CHECK(t.retry_after("old15", 100) > 0);   // kept
  for (int i = 0; i < 1000; ++i)
    t.record_failure("flood" + std::to_string(i), 200 + i);
  CHECK(t.size() <= 16);
  CHECK(t.retry_after("flood999", 1199) == 100);
}

TEST_CASE("throttle: expired keys are dropped before live ones") {
  login_throttle t{login_throttle::options{5, 10, 1, 1, 4}};
  for (int i = 0; i < 3; ++i)
    t.record_failure("stale" + std::to_string(i), 0);
  t.record_failure("live", 95);
  t.record_failure("fresh", 100); // the stale ones (window 10 s) make room
  CHECK(t.size() == 2);
}
