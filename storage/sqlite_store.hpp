#pragma once

/// The SQLite backend: one connection to one database file, in WAL mode.
///
/// Opened with journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON and a busy timeout, so
/// that other processes may read while the STORAGE actor writes. Statements are prepared
/// once and cached by their text. Lead ids are the table's rowid.

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace gobi::storage {

/// Opens (creating the file and its folder when missing) the database at `path`;
/// ":memory:" opens a private in-memory database. Does not migrate.
result<std::unique_ptr<store>> open_sqlite_store(const std::string& path);

} // namespace gobi::storage
