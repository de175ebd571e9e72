#pragma once

/// The PostgreSQL backend: one libpq connection.
///
/// Every value travels as a bound parameter of a prepared statement (prepared once per
/// connection and cached by its text); insert_leads streams rows with COPY FROM STDIN after
/// reserving their ids from the leads sequence. Unique violations (SQLSTATE 23505) answer
/// errc::conflict, foreign-key violations (23503) errc::not_found. A lost connection is
/// reset on the next failure, so the call after it may succeed.

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace gobi::storage {

/// Connects to the database a `postgresql://` or `postgres://` URL (or any libpq connection
/// string) names, with client_encoding UTF8. Does not migrate.
result<std::unique_ptr<store>> open_pg_store(const std::string& url);

} // namespace gobi::storage
