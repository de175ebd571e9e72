#include "test/storage/fixture.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace gobi::storage::test {

namespace {

namespace fs = std::filesystem;

/// One temporary folder per test run, removed when the run ends.
class temp_root {
public:
  temp_root() {
    auto pattern = (fs::temp_directory_path() / "gobi-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  temp_root(const temp_root&) = delete;
  temp_root& operator=(const temp_root&) = delete;
  ~temp_root() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

const fs::path& temp_dir() {
  static temp_root root;
  return root.path();
}

int next_serial() {
  static int n = 0;
  return ++n;
}

std::string pg_base_url() {
  const char* url = std::getenv("GOBI_TEST_PG_URL");
  return url != nullptr ? url : "";
}

void ignore_notice(void*, const char*) {}

/// A connection of its own for administrative SQL (creating and dropping test schemas).
PGconn* pg_admin_connect() {
  PGconn* conn = PQconnectdb(pg_base_url().c_str());
  PQsetNoticeProcessor(conn, ignore_notice, nullptr); // "drop cascades to ..."
  return conn;
}

void pg_admin(const std::string& sql) {
  PGconn* conn = pg_admin_connect();
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    FAIL("cannot connect to GOBI_TEST_PG_URL: " << msg);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string msg = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) FAIL(sql << ": " << msg);
}

} // namespace

std::vector<std::string> backends() {
  std::vector<std::string> out{"sqlite"};
  if (!pg_base_url().empty()) out.emplace_back("postgresql");
  return out;
}

test_db::test_db(std::string backend, bool migrated)
    : backend_(std::move(backend)) {
  auto serial = std::to_string(::getpid()) + "_" + std::to_string(next_serial());
  if (backend_ == "sqlite") {
    // A folder that does not exist yet: open_store must create it.
    url_ = "sqlite:" + (temp_dir() / ("db_" + serial) / "gobi.db").string();
  } else {
    pg_schema_ = "gobi_test_" + serial;
    pg_admin("CREATE SCHEMA " + pg_schema_);
    auto base = pg_base_url();
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           pg_schema_;
  }
  store_ = MUST(open_store(url_));
  REQUIRE(store_->backend() == backend_);
  if (migrated) MUST(store_->migrate());
}

test_db::test_db(test_db&&) noexcept = default;

test_db::~test_db() {
  store_.reset();
  if (!pg_schema_.empty()) {
    // Not FAIL from a destructor: a schema left behind only costs space.
    PGconn* conn = pg_admin_connect();
    if (PQstatus(conn) == CONNECTION_OK)
      PQclear(PQexec(conn, ("DROP SCHEMA " + pg_schema_ + " CASCADE").c_str()));
    PQfinish(conn);
  }
}

void test_db::reopen() {
  store_.reset();
  store_ = MUST(open_store(url_));
}

void test_db::exec(const std::string& sql) {
  if (backend_ == "sqlite") {
    sqlite3* db = nullptr;
    int rc = sqlite3_open(url_.substr(std::string_view{"sqlite:"}.size()).c_str(), &db);
    char* msg = nullptr;
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    }
    std::string what = msg != nullptr ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    sqlite3_close(db);
    if (rc != SQLITE_OK) FAIL(sql << ": " << what);
    return;
  }
  pg_admin("SET search_path TO " + pg_schema_ + "; " + sql);
}

// --- builders ------------------------------------------------------------------------------

tenant make_tenant(std::string name, millis at) {
  tenant t;
  t.name = std::move(name);
  t.created_at = at;
  return t;
}

agent make_agent(const tenant_id& t, std::string name, millis at) {
  agent a;
  a.tenant = t;
  a.name = std::move(name);
  a.description = "sells solar panels";
  a.system_prompt = "You are a friendly caller.";
  a.personality = "warm";
  a.greeting_message = "Hi, this is Ava.";
  a.llm_provider = "openai";
  a.llm_model = "gpt-4o-mini";
  a.temperature = 0.25;
  a.voice_provider = "piper";
  a.voice_id = "en_US-amy";
  a.stt_provider = "whisper";
  a.stt_language = "en-US";
  a.max_concurrent_calls = 7;
  a.metadata_json = R"({"transferNumber":"+15550001111"})";
  a.status = agent_status::active;
  a.last_heartbeat_at = at + 5;
  a.runtime_metrics_json = R"({"calls":3})";
  a.created_at = at;
  a.updated_at = at + 1;
  return a;
}

campaign make_campaign(const tenant_id& t, std::string name, millis at) {
  campaign c;
  c.tenant = t;
  c.name = std::move(name);
  c.description = "Q3 outreach";
  c.type = campaign_type::outbound;
  c.status = campaign_status::paused;
  c.agent_instructions = "Ask [Prospect Name] about {{company_name}}.";
  c.session_script = "Greet, qualify, book.";
  c.dialer = dialer_type::ratio;
  c.dial_ratio = 1.5;
  c.max_abandon_rate = 0.05;
  c.max_attempts = 4;
  c.retry_delay_s = 1800;
  c.max_concurrent_calls = 12;
  c.window = calling_window{9 * 60, 17 * 60 + 30, 0x1f, "Europe/Berlin"};
  c.created_at = at;
  c.updated_at = at + 1;
  return c;
}

lead_list make_list(const tenant_id& t, std::string name, millis at) {
  lead_list l;
  l.tenant = t;
  l.name = std::move(name);
  l.description = "from the fair";
  l.created_at = at;
  l.updated_at = at + 1;
  return l;
}

std::vector<lead> make_leads(const tenant_id& t, const lead_list_id& l, int n,
                             long long first_phone) {
  std::vector<lead> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    lead x;
    x.list = l;
    x.tenant = t;
    x.phone = "+" + std::to_string(first_phone + i);
    x.name = "Lead " + std::to_string(i);
    x.email = "lead" + std::to_string(i) + "@example.com";
    x.company_name = "Acme";
    x.job_title = "CTO";
    x.timezone = "America/Chicago";
    x.resource_name = "row-" + std::to_string(i);
    x.custom_fields_json = R"({"i":)" + std::to_string(i) + "}";
    x.state = lead_state::pending;
    x.attempts = i % 3;
    x.created_at = 6000 + i;
    out.push_back(std::move(x));
  }
  return out;
}

phone_number make_number(const tenant_id& t, std::string e164, millis at) {
  phone_number n;
  n.tenant = t;
  n.number = std::move(e164);
  n.label = "main line";
  n.created_at = at;
  n.updated_at = at + 1;
  return n;
}

} // namespace gobi::storage::test
