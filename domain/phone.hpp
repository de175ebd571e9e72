#pragma once

/// Phone numbers to E.164 with libphonenumber: "(415) 555-1001", "415.555.1001",
/// "+1 415 555 1001", "0044 20 7946 0958" -> "+14155551001" / "+442079460958".
/// The normaliser is the hot path of a CSV import (a million rows): it takes a fast path
/// for input that is already plain digits, and caches nothing that could go stale.
///
/// Thread-safe: libphonenumber's PhoneNumberUtil is a thread-safe singleton, and
/// `normalizer` has no mutable shared state; one per thread is fine.

#include "domain/result.hpp"

#include <string>
#include <string_view>

namespace gobi::phone {

class normalizer {
public:
  /// `default_region`: ISO 3166 region for numbers written without a country code ("US").
  explicit normalizer(std::string default_region = "US");

  /// E.164 for a valid number; errc::validation with a reason ("not a phone number",
  /// "invalid number for region US", "too short") otherwise.
  result<std::string> to_e164(std::string_view raw) const;

  const std::string& default_region() const noexcept { return region_; }

private:
  std::string region_;
  int region_calling_code_ = 0;
};

/// True for a syntactically plausible E.164 string ("+" then 8-15 digits, no leading 0).
bool looks_like_e164(std::string_view s) noexcept;

} // namespace gobi::phone
