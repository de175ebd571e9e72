#pragma once

/// Every tunable of the storage layer, with its unit in its name.

#include <array>
#include <cstddef>

namespace gobi::storage::defaults {

/// How long a SQLite call waits for another connection's write lock before failing.
inline constexpr int sqlite_busy_timeout_ms = 5000;

/// SQLite's page cache per connection. Large enough that the (tenant_id, phone) index of a
/// million-lead import stays in memory while it is built.
inline constexpr int sqlite_cache_size_kib = 128 * 1024;

/// How long opening a PostgreSQL connection may take (unless the URL says otherwise).
inline constexpr int pg_connect_timeout_s = 10;

/// How much COPY text insert_leads buffers before handing it to libpq.
inline constexpr std::size_t pg_copy_chunk_bytes = std::size_t{1} << 20;

/// add_dnc writes this many entries per statement (then smaller batches, then single rows:
/// the last size must be 1). 500 rows are 2000 parameters, far below both databases'
/// limits (SQLite 32766, PostgreSQL 65535).
inline constexpr std::array<std::size_t, 3> dnc_insert_batch_rows{500, 50, 1};

/// The pg_advisory_xact_lock key that serialises concurrent migrate() calls.
inline constexpr long long pg_migration_lock_key = 0x676f6269; // "gobi"

} // namespace gobi::storage::defaults
