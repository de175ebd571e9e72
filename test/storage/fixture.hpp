#pragma once

/// Test fixture for the storage tests: a fresh store per test case and backend.
///
/// SQLite: a new database file in a temporary folder. PostgreSQL (when GOBI_TEST_PG_URL is
/// set): a uniquely named schema in that database, selected through the connection's
/// search_path and dropped afterwards, so concurrent runs against one server do not meet.

#include "domain/model.hpp"
#include "domain/result.hpp"
#include "storage/store.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace gobi {

inline std::ostream& operator<<(std::ostream& os, errc e) {
  return os << to_string(e);
}

} // namespace gobi

namespace gobi::storage::test {

/// One backend's fresh database and a store open on it. Removes the database when destroyed.
class test_db {
public:
  test_db(std::string backend, bool migrated);
  test_db(test_db&&) noexcept;
  ~test_db();

  store& operator*() { return *store_; }
  store* operator->() { return store_.get(); }

  const std::string& backend() const { return backend_; }
  const std::string& url() const { return url_; }

  /// Closes the store and opens a new one on the same database.
  void reopen();

  /// Runs SQL statements on the database over a connection of its own, behind the store's
  /// back (a database as an older gobi left it). Fails the test case on an error.
  void exec(const std::string& sql);

private:
  std::string backend_;
  std::string url_;
  std::string pg_schema_; ///< postgresql only: the schema to drop
  std::unique_ptr<store> store_;
};

/// "sqlite", and "postgresql" when GOBI_TEST_PG_URL is set.
std::vector<std::string> backends();

/// Runs `body(store&)` once per backend, each time on a fresh, migrated database.
template <class F> void for_each_backend(F body) {
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, true};
    body(*db);
  }
}

/// The value of a result that must be ok; fails the test case (with the error) otherwise.
template <class T> T must_impl(result<T> r, const char* expr) {
  if (!r) FAIL(expr << " failed: " << to_string(r.err().code) << ": " << r.err().message);
  return std::move(r).value();
}

#define MUST(expr) ::gobi::storage::test::must_impl((expr), #expr)

/// The error code of a result (errc::ok when it holds a value).
template <class T> errc code_of(const result<T>& r) {
  return r ? errc::ok : r.err().code;
}

// --- builders: entities with every field set, so round trips compare something --------------

tenant make_tenant(std::string name, millis at = 1000);
agent make_agent(const tenant_id& t, std::string name, millis at = 2000);
campaign make_campaign(const tenant_id& t, std::string name, millis at = 3000);
lead_list make_list(const tenant_id& t, std::string name, millis at = 4000);
/// `n` leads for the list, phones +1555000000, +1555000001, ...
std::vector<lead> make_leads(const tenant_id& t, const lead_list_id& l, int n,
                             long long first_phone = 15550000000LL);
phone_number make_number(const tenant_id& t, std::string e164, millis at = 5000);

} // namespace gobi::storage::test
