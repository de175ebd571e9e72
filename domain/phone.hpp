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

namespace detail {
struct region_rules; // the parsing rules of a region the fast path handles (phone.cpp)
} // namespace detail

/// Normalises raw phone numbers to E.164. Cheap to copy; immutable after construction, so
/// one instance may serve many threads.
///
/// Fast path: plain input (digits, spaces, `.-()/`, a leading '+') for regions whose
/// parsing rules it reproduces exactly is split into country code and national number by
/// hand, and only the validity check runs through libphonenumber. Everything else (letters,
/// extensions, unusual regions, and every number the fast path finds invalid) goes through
/// libphonenumber's full Parse, which also words the rejection. The results equal
/// Parse + IsValidNumber + Format(E164), with one addition: "00" is accepted as an
/// international prefix in every region (libphonenumber only does so where it is the
/// region's own, e.g. not in the US, whose prefix is 011).
class normalizer {
public:
  /// `default_region`: ISO 3166 region for numbers written without a country code ("US").
  explicit normalizer(std::string default_region = "US");

  /// E.164 for a valid number; errc::validation with a reason ("not a phone number",
  /// "invalid number for region US", "too short") otherwise.
  result<std::string> to_e164(std::string_view raw) const;

  const std::string& default_region() const noexcept { return region_; }

private:
  result<std::string> slow_path(std::string_view raw) const;

  std::string region_;
  int region_calling_code_ = 0;
  const detail::region_rules* rules_ = nullptr; ///< null: national input takes the slow path
};

/// True for a syntactically plausible E.164 string ("+" then 8-15 digits, no leading 0).
bool looks_like_e164(std::string_view s) noexcept;

} // namespace gobi::phone
