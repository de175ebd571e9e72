#pragma once

/// The schema both backends share, as an ordered list of versioned migration steps.
///
/// Policy: a migration that has shipped is never edited; a schema change is a new step
/// appended with the next version. Each step runs in its own transaction and is recorded
/// in `schema_migrations(version, applied_at)`. The SQL is written once in the subset
/// SQLite and PostgreSQL share; where the two spell a type differently the text carries a
/// placeholder that render_migration() replaces:
///
///   {serial_pk}  INTEGER PRIMARY KEY AUTOINCREMENT  |  BIGSERIAL PRIMARY KEY
///   {double}     REAL                               |  DOUBLE PRECISION
///   {bool}       INTEGER (0/1)                      |  BOOLEAN
///   {blob}       BLOB                               |  BYTEA

#include <span>
#include <string>
#include <string_view>

namespace gobi::storage {

/// The SQL dialects the migrations are rendered for.
enum class sql_dialect { sqlite, postgresql };

/// One step of the schema's history.
struct migration {
  int version;           ///< 1, 2, 3, ... without gaps
  std::string_view name; ///< what the step does, for logs
  std::string_view sql;  ///< statements separated by ';', with type placeholders
};

/// Every migration, oldest first.
std::span<const migration> migrations() noexcept;

/// The version of the last migration: what schema_version() answers once migrated.
int latest_schema_version() noexcept;

/// The migration's SQL with its type placeholders spelled for the dialect.
std::string render_migration(const migration& m, sql_dialect d);

/// The statement that creates `schema_migrations` when it does not exist yet.
std::string_view schema_migrations_ddl() noexcept;

} // namespace gobi::storage
