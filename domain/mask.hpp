#pragma once

/// Masks personal data in log lines: phone numbers keep their last 4 digits
/// ("+1415555****" -> "+*******1001"), e-mail addresses keep the first letter and the domain
/// ("john@acme.com" -> "j***@acme.com"). Used by the log sink, so every log line is masked.

#include <string>
#include <string_view>

namespace gobi {

std::string mask_pii(std::string_view text);

} // namespace gobi
