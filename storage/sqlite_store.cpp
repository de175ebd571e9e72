#include "storage/sqlite_store.hpp"

#include "storage/defaults.hpp"
#include "storage/sql_store.hpp"

#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <unordered_map>

namespace gobi::storage {

namespace {

/// Maps a failed SQLite call to a gobi error; `rc` is an extended result code.
error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  errc code = errc::storage;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    code = errc::conflict;
  else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    code = errc::not_found;
  std::string msg{"sqlite: "};
  msg += what;
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return error{code, std::move(msg)};
}

/// SQLite spells numbered parameters `?1`; the shared SQL spells them `$1`.
std::string to_sqlite_params(std::string_view sql) {
  std::string out{sql};
  for (std::size_t i = 0; i + 1 < out.size(); ++i)
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  return out;
}

/// SQLite binds a null pointer as NULL: an empty string must point somewhere.
const char* text_ptr(std::string_view s) {
  return s.data() != nullptr ? s.data() : "";
}

class sqlite_row final : public detail::sql_row {
public:
  explicit sqlite_row(sqlite3_stmt* st)
      : st_(st) {}

  bool is_null(int col) const override { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  std::string_view text(int col) const override {
    auto* p = sqlite3_column_text(st_, col);
    auto n = sqlite3_column_bytes(st_, col); // after _text, as the SQLite docs require
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
  }
  std::int64_t int64(int col) const override { return sqlite3_column_int64(st_, col); }
  double real(int col) const override { return sqlite3_column_double(st_, col); }
  bool boolean(int col) const override { return sqlite3_column_int(st_, col) != 0; }

private:
  sqlite3_stmt* st_;
};

/// Resets a cached statement (and drops its bindings) when the call using it ends.
class statement_use {
public:
  explicit statement_use(sqlite3_stmt* st)
      : st_(st) {}
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;
  ~statement_use() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }

private:
  sqlite3_stmt* st_;
};

/// The SQLite store. Owns its connection and its cached statements; used by one thread at a
/// time (opened without SQLite's own mutex for that reason).
class sqlite_store final : public detail::sql_store {
public:
  explicit sqlite_store(sqlite3* db)
      : sql_store(sql_dialect::sqlite)
      , db_(db) {}

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  ~sqlite_store() override {
    for (auto& [sql, st] : statements_)
      sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  std::string_view backend() const noexcept override { return "sqlite"; }

protected:
  result<std::int64_t> execute(std::string_view sql, std::span<const detail::sql_param> params,
                               const detail::row_handler& on_row) override {
    auto prepared = prepare(sql);
    if (!prepared) return std::move(prepared).err();
    auto* st = *prepared;
    statement_use use{st};
    int index = 1;
    for (const auto& p : params) {
      if (int rc = bind(st, index++, p); rc != SQLITE_OK) return sqlite_error(db_, rc, "bind");
    }
    std::int64_t rows = 0;
    sqlite_row row{st};
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sqlite_error(db_, rc, "step");
      ++rows;
      if (on_row) {
        if (auto r = on_row(row); !r) return std::move(r).err();
      }
    }
    if (rows == 0 && sqlite3_stmt_readonly(st) == 0) return std::int64_t{sqlite3_changes(db_)};
    return rows;
  }

  status exec_script(std::string_view sql) override {
    std::string text{sql};
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) return unit;
    auto err = sqlite_error(db_, rc, "exec");
    sqlite3_free(msg);
    return err;
  }

  // IMMEDIATE: take the write lock now rather than fail to upgrade a read lock later.
  status begin() override { return exec_script("BEGIN IMMEDIATE"); }
  status commit() override { return exec_script("COMMIT"); }
  status rollback() override { return exec_script("ROLLBACK"); }

  void schema_changed() override {
    // Prepared statements re-prepare themselves on schema changes; nothing to drop.
  }

  status insert_lead_rows(std::vector<lead>& leads) override {
    // One statement, prepared once, bound and stepped per row inside the caller's
    // transaction; the id is the rowid SQLite assigns.
    auto prepared = prepare("INSERT INTO leads (tenant_id, list_id, phone, name, email, "
                            "company_name, job_title, timezone, resource_name, "
                            "custom_fields_json, state, attempts, created_at) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!prepared) return std::move(prepared).err();
    auto* st = *prepared;
    statement_use use{st};
    auto text = [st](int i, std::string_view s) {
      return sqlite3_bind_text(st, i, text_ptr(s), static_cast<int>(s.size()), SQLITE_STATIC);
    };
    for (auto& l : leads) {
      auto state = to_string(l.state);
      int rc = SQLITE_OK;
      // Stop at the first failing bind: `rc == SQLITE_OK && ...` keeps the first error.
      rc = text(1, l.tenant.str());
      rc = rc == SQLITE_OK ? text(2, l.list.str()) : rc;
      rc = rc == SQLITE_OK ? text(3, l.phone) : rc;
      rc = rc == SQLITE_OK ? text(4, l.name) : rc;
      rc = rc == SQLITE_OK ? text(5, l.email) : rc;
      rc = rc == SQLITE_OK ? text(6, l.company_name) : rc;
      rc = rc == SQLITE_OK ? text(7, l.job_title) : rc;
      rc = rc == SQLITE_OK ? text(8, l.timezone) : rc;
      rc = rc == SQLITE_OK ? text(9, l.resource_name) : rc;
      rc = rc == SQLITE_OK ? text(10, l.custom_fields_json) : rc;
      rc = rc == SQLITE_OK ? text(11, state) : rc;
      rc = rc == SQLITE_OK ? sqlite3_bind_int64(st, 12, l.attempts) : rc;
      rc = rc == SQLITE_OK ? sqlite3_bind_int64(st, 13, l.created_at) : rc;
      if (rc != SQLITE_OK) return sqlite_error(db_, rc, "bind lead");
      rc = sqlite3_step(st);
      if (rc != SQLITE_DONE) return sqlite_error(db_, rc, "insert lead");
      l.id = sqlite3_last_insert_rowid(db_);
      sqlite3_reset(st);
    }
    return unit;
  }

private:
  result<sqlite3_stmt*> prepare(std::string_view sql) {
    std::string key{sql};
    if (auto i = statements_.find(key); i != statements_.end()) return i->second;
    auto text = to_sqlite_params(sql);
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
    statements_.emplace(std::move(key), st);
    return st;
  }

  static int bind(sqlite3_stmt* st, int i, const detail::sql_param& p) {
    struct binder {
      sqlite3_stmt* st;
      int i;
      int operator()(std::nullptr_t) const { return sqlite3_bind_null(st, i); }
      int operator()(std::int64_t v) const { return sqlite3_bind_int64(st, i, v); }
      int operator()(double v) const { return sqlite3_bind_double(st, i, v); }
      int operator()(bool v) const { return sqlite3_bind_int(st, i, v ? 1 : 0); }
      int operator()(std::string_view v) const {
        return sqlite3_bind_text(st, i, text_ptr(v), static_cast<int>(v.size()), SQLITE_STATIC);
      }
    };
    return std::visit(binder{st, i}, p);
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

} // namespace

result<std::unique_ptr<store>> open_sqlite_store(const std::string& path) {
  if (path.empty()) return error{errc::invalid_argument, "sqlite: empty database path"};
  if (path != ":memory:") {
    auto parent = std::filesystem::path{path}.parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
      return error{errc::storage, "sqlite: cannot create " + parent.string() + ": " + ec.message()};
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    auto err = sqlite_error(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, defaults::sqlite_busy_timeout_ms);
  // The store takes ownership first, so that a failing pragma closes the connection.
  auto s = std::make_unique<sqlite_store>(db);
  std::string pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                        "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; "
                        "PRAGMA cache_size = -" +
                        std::to_string(defaults::sqlite_cache_size_kib) + ";";
  char* msg = nullptr;
  rc = sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "configure " + path);
  return std::unique_ptr<store>{std::move(s)};
}

} // namespace gobi::storage
