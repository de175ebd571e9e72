#include "storage/pg_store.hpp"

#include "storage/defaults.hpp"
#include "storage/sql_store.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace gobi::storage {

namespace {

struct pg_result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, pg_result_deleter>;

std::string trimmed(const char* s) {
  std::string out = s != nullptr ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

/// Maps a failed libpq call to a gobi error: SQLSTATE 23505 (unique violation) is a
/// conflict, 23503 (foreign key violation) a reference to a row that does not exist.
error pg_error(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg{"postgresql: "};
  msg += what;
  msg += ": ";
  const char* state = nullptr;
  const char* primary = nullptr;
  if (res != nullptr) {
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  }
  if (primary != nullptr) {
    msg += primary;
    if (const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL))
      msg += std::string{" ("} + detail + ")";
  } else {
    msg += trimmed(PQerrorMessage(conn));
  }
  errc code = errc::storage;
  if (state != nullptr) {
    msg += std::string{" [SQLSTATE "} + state + "]";
    if (std::strcmp(state, "23505") == 0)
      code = errc::conflict;
    else if (std::strcmp(state, "23503") == 0)
      code = errc::not_found;
  }
  return error{code, std::move(msg)};
}

template <class T> T parse_number(std::string_view s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

class pg_row final : public detail::sql_row {
public:
  pg_row(const PGresult* res, int row)
      : res_(res)
      , row_(row) {}

  bool is_null(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
  std::string_view text(int col) const override {
    return {PQgetvalue(res_, row_, col), static_cast<std::size_t>(PQgetlength(res_, row_, col))};
  }
  std::int64_t int64(int col) const override { return parse_number<std::int64_t>(text(col)); }
  double real(int col) const override { return parse_number<double>(text(col)); }
  bool boolean(int col) const override { return text(col) == "t"; }

private:
  const PGresult* res_;
  int row_;
};

/// Appends `s` to COPY text-format data, escaping what the format reserves: backslash,
/// tab (the delimiter), newline and carriage return. False when `s` holds a NUL byte, which
/// PostgreSQL text cannot store.
bool append_copy_field(std::string& out, std::string_view s) {
  std::size_t run = 0; // start of the pending run of plain bytes
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char* esc = nullptr;
    switch (s[i]) {
    case '\\':
      esc = "\\\\";
      break;
    case '\t':
      esc = "\\t";
      break;
    case '\n':
      esc = "\\n";
      break;
    case '\r':
      esc = "\\r";
      break;
    case '\0':
      return false;
    default:
      continue;
    }
    out.append(s.substr(run, i - run));
    out.append(esc);
    run = i + 1;
  }
  out.append(s.substr(run));
  return true;
}

void append_copy_int(std::string& out, std::int64_t v) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

/// The PostgreSQL store. Owns its connection and the names of the statements prepared on
/// it; used by one thread at a time.
class pg_store final : public detail::sql_store {
public:
  explicit pg_store(PGconn* conn)
      : sql_store(sql_dialect::postgresql)
      , conn_(conn) {}

  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  ~pg_store() override { PQfinish(conn_); }

  std::string_view backend() const noexcept override { return "postgresql"; }

protected:
  result<std::int64_t> execute(std::string_view sql, std::span<const detail::sql_param> params,
                               const detail::row_handler& on_row) override {
    auto name = prepare(sql);
    if (!name) return std::move(name).err();
    // Text-format values, NUL-terminated (run() has refused text with a NUL inside).
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return; // values[i] stays null: SQL NULL
            } else if constexpr (std::is_same_v<T, bool>) {
              texts[i] = v ? "t" : "f";
            } else if constexpr (std::is_same_v<T, std::string_view>) {
              texts[i].assign(v);
            } else { // integers, and doubles in their shortest exact form
              std::array<char, 32> buf;
              auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
              texts[i].assign(buf.data(), end);
            }
            values[i] = texts[i].c_str();
          },
          params[i]);
    }
    pg_result res{PQexecPrepared(conn_, (*name)->c_str(), static_cast<int>(params.size()),
                                 values.data(), nullptr, nullptr, 0)};
    switch (PQresultStatus(res.get())) {
    case PGRES_TUPLES_OK: {
      int n = PQntuples(res.get());
      if (on_row) {
        for (int i = 0; i < n; ++i) {
          if (auto r = on_row(pg_row{res.get(), i}); !r) return std::move(r).err();
        }
      }
      return std::int64_t{n};
    }
    case PGRES_COMMAND_OK:
      return parse_number<std::int64_t>(PQcmdTuples(res.get()));
    default:
      return failure(res.get(), "query");
    }
  }

  status exec_script(std::string_view sql) override {
    std::string text{sql};
    pg_result res{PQexec(conn_, text.c_str())};
    auto st = PQresultStatus(res.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return unit;
    return failure(res.get(), "exec");
  }

  status begin() override { return exec_script("BEGIN"); }

  status commit() override {
    pg_result res{PQexec(conn_, "COMMIT")};
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return failure(res.get(), "commit");
    // COMMIT of a transaction that failed earlier succeeds as a ROLLBACK.
    if (std::strcmp(PQcmdStatus(res.get()), "ROLLBACK") == 0)
      return error{errc::storage, "postgresql: commit: the transaction was rolled back"};
    return unit;
  }

  status rollback() override { return exec_script("ROLLBACK"); }

  status lock_for_migration() override {
    auto r =
        run("SELECT pg_advisory_xact_lock($1)", {std::int64_t{defaults::pg_migration_lock_key}});
    if (!r) return std::move(r).err();
    return unit;
  }

  void schema_changed() override {
    // A prepared plan may still describe the old tables.
    pg_result res{PQexec(conn_, "DEALLOCATE ALL")};
    statements_.clear();
  }

  status insert_lead_rows(std::vector<lead>& leads) override {
    // 1. Reserve one id per row from the table's own sequence (in a binary result: eight
    //    big-endian bytes per id), so that rows can be COPYed with their ids and every
    //    other writer keeps drawing from the same sequence.
    auto count = std::to_string(leads.size());
    const char* count_value = count.c_str();
    pg_result ids{PQexecParams(conn_,
                               "SELECT nextval('leads_id_seq')"
                               " FROM generate_series(1, $1::bigint)",
                               1, nullptr, &count_value, nullptr, nullptr, 1)};
    if (PQresultStatus(ids.get()) != PGRES_TUPLES_OK) return failure(ids.get(), "reserve lead ids");
    if (static_cast<std::size_t>(PQntuples(ids.get())) != leads.size() ||
        PQgetlength(ids.get(), 0, 0) != 8)
      return error{errc::storage, "postgresql: reserve lead ids: unexpected result"};
    for (std::size_t i = 0; i < leads.size(); ++i) {
      const auto* p =
          reinterpret_cast<const unsigned char*>(PQgetvalue(ids.get(), static_cast<int>(i), 0));
      std::uint64_t v = 0;
      for (int b = 0; b < 8; ++b)
        v = (v << 8) | p[b];
      leads[i].id = static_cast<std::int64_t>(v);
    }
    ids.reset();

    // 2. Stream the rows in COPY's text format.
    pg_result start{PQexec(conn_, "COPY leads (id, tenant_id, list_id, phone, name, email, "
                                  "company_name, job_title, timezone, resource_name, "
                                  "custom_fields_json, state, attempts, created_at) "
                                  "FROM STDIN")};
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) return failure(start.get(), "copy leads");
    start.reset();
    std::string buf;
    buf.reserve(defaults::pg_copy_chunk_bytes + 64 * 1024);
    for (const auto& l : leads) {
      bool ok = true;
      append_copy_int(buf, l.id);
      for (std::string_view field :
           {std::string_view{l.tenant.str()}, std::string_view{l.list.str()},
            std::string_view{l.phone}, std::string_view{l.name}, std::string_view{l.email},
            std::string_view{l.company_name}, std::string_view{l.job_title},
            std::string_view{l.timezone}, std::string_view{l.resource_name},
            std::string_view{l.custom_fields_json}, to_string(l.state)}) {
        buf.push_back('\t');
        ok = append_copy_field(buf, field) && ok;
      }
      buf.push_back('\t');
      append_copy_int(buf, l.attempts);
      buf.push_back('\t');
      append_copy_int(buf, l.created_at);
      buf.push_back('\n');
      if (!ok) {
        (void)end_copy("a lead holds a NUL byte");
        return error{errc::invalid_argument,
                     "postgresql: lead " + l.phone + " holds text with a NUL byte"};
      }
      if (buf.size() >= defaults::pg_copy_chunk_bytes) {
        if (PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1)
          return end_copy("sending rows failed");
        buf.clear();
      }
    }
    if (!buf.empty() && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1)
      return end_copy("sending rows failed");
    return end_copy(nullptr);
  }

private:
  /// Ends a COPY (aborting it with `abort_reason` when given) and collects its outcome.
  status end_copy(const char* abort_reason) {
    status outcome = unit;
    if (PQputCopyEnd(conn_, abort_reason) != 1) outcome = pg_error(conn_, nullptr, "copy end");
    bool first = true;
    while (PGresult* raw = PQgetResult(conn_)) {
      pg_result res{raw};
      if (first && outcome && PQresultStatus(raw) != PGRES_COMMAND_OK)
        outcome = pg_error(conn_, raw, "copy leads");
      first = false;
    }
    if (abort_reason != nullptr && outcome)
      outcome = error{errc::storage, std::string{"postgresql: copy aborted: "} + abort_reason};
    if (PQstatus(conn_) == CONNECTION_BAD) reset();
    return outcome;
  }

  /// The name of the statement prepared for `sql` on this connection.
  result<const std::string*> prepare(std::string_view sql) {
    std::string key{sql};
    if (auto i = statements_.find(key); i != statements_.end()) return &i->second;
    std::string name = "gobi_" + std::to_string(++statement_counter_);
    pg_result res{PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr)};
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return failure(res.get(), "prepare");
    auto [i, inserted] = statements_.emplace(std::move(key), std::move(name));
    return &i->second;
  }

  /// The error a failed call answers; resets a broken connection first, so that the next
  /// call may work again.
  error failure(const PGresult* res, std::string_view what) {
    auto err = pg_error(conn_, res, what);
    if (PQstatus(conn_) == CONNECTION_BAD) reset();
    return err;
  }

  void reset() {
    PQreset(conn_);
    statements_.clear(); // a new session has no prepared statements
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> statements_; ///< SQL text -> statement name
  std::uint64_t statement_counter_ = 0;
};

void ignore_notice(void*, const char*) {
  // NOTICEs ("relation already exists, skipping") are not errors and not for stderr.
}

} // namespace

result<std::unique_ptr<store>> open_pg_store(const std::string& url) {
  // Parameters before dbname are defaults the URL may override; those after it win.
  auto timeout = std::to_string(defaults::pg_connect_timeout_s);
  std::array<const char*, 5> keys{"connect_timeout", "fallback_application_name", "dbname",
                                  "client_encoding", nullptr};
  std::array<const char*, 5> values{timeout.c_str(), "gobi", url.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) return error{errc::storage, "postgresql: connect: out of memory"};
  if (PQstatus(conn) != CONNECTION_OK) {
    auto msg = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return error{errc::storage, "postgresql: connect: " + msg};
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  return std::unique_ptr<store>{std::make_unique<pg_store>(conn)};
}

} // namespace gobi::storage
