#pragma once

/// Logging through spdlog, with every line passed through mask_pii() before it is written:
/// phone numbers and e-mail addresses never reach a log file in clear.

#include <string>

namespace gobi::app {

/// Installs the masking stderr logger as spdlog's default, at `level`.
void setup_logging(const std::string& level);

} // namespace gobi::app
