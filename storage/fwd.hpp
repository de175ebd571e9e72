#pragma once

/// Forward declarations of the storage layer, for headers that only pass stores around.

namespace gobi::storage {

class store;
enum class sql_dialect;
struct migration;

} // namespace gobi::storage
