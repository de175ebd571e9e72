#pragma once

/// Time formatting for the API: RFC 3339 / ISO 8601 in UTC with milliseconds.

#include "domain/model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gobi {

/// "2025-10-16T17:25:00.000Z"
std::string format_iso8601(millis t);
/// Parses "2025-10-16T17:25:00Z", with optional fraction and "+hh:mm" offset.
std::optional<millis> parse_iso8601(std::string_view s);

} // namespace gobi
