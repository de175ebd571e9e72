// Opening stores, migrations, ids, and (SQLite) persistence across reopening.

#include "test/storage/fixture.hpp"

#include "storage/migrations.hpp"

#include <cstdlib>
#include <set>
#include <string_view>
#include <thread>

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

TEST_CASE("postgresql is tested in CI") {
  // A CI run that silently skipped PostgreSQL would pass without testing half the layer.
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string_view{ci} == "true")
    CHECK_MESSAGE(std::getenv("GOBI_TEST_PG_URL") != nullptr,
                  "CI=true but GOBI_TEST_PG_URL is not set (see scripts/pg-test-cluster)");
}

TEST_CASE("migrations: versions are 1..n and render for both dialects") {
  auto ms = migrations();
  REQUIRE(!ms.empty());
  for (std::size_t i = 0; i < ms.size(); ++i) {
    CHECK(ms[i].version == static_cast<int>(i) + 1);
    for (auto d : {sql_dialect::sqlite, sql_dialect::postgresql}) {
      auto sql = render_migration(ms[i], d);
      CHECK(sql.find('{') == std::string::npos);
    }
  }
  CHECK(latest_schema_version() == ms.back().version);
  CHECK(render_migration(ms[1], sql_dialect::postgresql).find("BIGSERIAL PRIMARY KEY") !=
        std::string::npos);
  CHECK(render_migration(ms[1], sql_dialect::sqlite).find("INTEGER PRIMARY KEY AUTOINCREMENT") !=
        std::string::npos);
}

TEST_CASE("migrate is idempotent and reports the schema version") {
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, false};
    CHECK(MUST(db->schema_version()) == 0);
    MUST(db->migrate());
    CHECK(MUST(db->schema_version()) == latest_schema_version());
    MUST(db->migrate());
    MUST(db->migrate());
    CHECK(MUST(db->schema_version()) == latest_schema_version());
    // The data survives a second migrate.
    auto t = MUST(db->create_tenant(make_tenant("acme")));
    MUST(db->migrate());
    CHECK(MUST(db->get_tenant(t.id)).name == "acme");
    // A second connection on the same database sees it migrated.
    db.reopen();
    CHECK(MUST(db->schema_version()) == latest_schema_version());
    MUST(db->migrate());
  }
}

TEST_CASE("open_store: URLs") {
  CHECK(code_of(open_store("mysql://localhost/x")) == errc::invalid_argument);
  CHECK(code_of(open_store("")) == errc::invalid_argument);
  CHECK(code_of(open_store("sqlite:")) == errc::invalid_argument);
  auto mem = MUST(open_store("sqlite::memory:"));
  CHECK(mem->backend() == "sqlite");
  MUST(mem->migrate());
  CHECK(MUST(mem->schema_version()) == latest_schema_version());
  // Nothing listens on port 1: a clear storage error, not a hang.
  auto pg = open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  REQUIRE(!pg);
  CHECK(pg.err().code == errc::storage);
  CHECK(pg.err().message.find("postgresql") != std::string::npos);
}

TEST_CASE("new_id: prefix, 20 lowercase base32 characters, unique") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_id("agt");
    REQUIRE(id.size() == 24);
    CHECK(id.starts_with("agt_"));
    for (char c : id.substr(4))
      CHECK(((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("sqlite: data persists across reopening") {
  test_db db{"sqlite", true};
  auto t = MUST(db->create_tenant(make_tenant("acme")));
  auto a = MUST(db->create_agent(make_agent(t.id, "ava")));
  auto l = MUST(db->create_lead_list(make_list(t.id, "fair")));
  auto leads = make_leads(t.id, l.id, 10);
  MUST(db->insert_leads(leads));
  db.reopen();
  CHECK(MUST(db->schema_version()) == latest_schema_version());
  CHECK(MUST(db->get_agent(t.id, a.id)).name == "ava");
  auto p = MUST(db->list_leads(t.id, l.id, 0, 100));
  CHECK(p.total == 10);
  REQUIRE(p.items.size() == 10);
  CHECK(p.items[9].id == leads[9].id);
  // Ids keep growing after a reopen.
  auto more = make_leads(t.id, l.id, 1, 15559990000LL);
  MUST(db->insert_leads(more));
  CHECK(more[0].id > leads[9].id);
}

TEST_CASE("two stores on one database see each other's writes") {
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, true};
    auto second = MUST(open_store(db.url()));
    MUST(second->migrate());
    auto t = MUST(db->create_tenant(make_tenant("acme")));
    CHECK(MUST(second->get_tenant(t.id)).name == "acme");
    auto a = MUST(second->create_agent(make_agent(t.id, "ava")));
    CHECK(MUST(db->get_agent(t.id, a.id)).name == "ava");
  }
}

TEST_CASE("a store opened on one thread works on another") {
  // The STORAGE actor's store is opened before the actor's thread exists.
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, true};
    result<tenant> created = error{};
    result<std::vector<lead_list>> listed = error{};
    std::thread worker{[&] {
      created = db->create_tenant(make_tenant("acme"));
      if (created) (void)db->create_lead_list(make_list(created->id, "fair"));
      if (created) listed = db->list_lead_lists(created->id);
    }};
    worker.join();
    REQUIRE(created.ok());
    REQUIRE(listed.ok());
    CHECK(listed->size() == 1);
    CHECK(MUST(db->get_tenant(created->id)).name == "acme"); // and back on this thread
  }
}

TEST_CASE("concurrent migrate calls on one database both succeed") {
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, false};
    std::vector<status> outcomes(3, status{error{}});
    std::vector<std::thread> workers;
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      workers.emplace_back([&, i] {
        auto s = open_store(db.url());
        outcomes[i] = s ? (*s)->migrate() : status{std::move(s).err()};
      });
    for (auto& w : workers)
      w.join();
    for (const auto& o : outcomes)
      CHECK_MESSAGE(o.ok(), (o.ok() ? std::string{} : o.err().message));
    CHECK(MUST(db->schema_version()) == latest_schema_version());
  }
}
