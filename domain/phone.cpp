#include "domain/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

// Why there is a fast path at all: libphonenumber's Parse runs a dozen ICU regular
// expressions (7-15 us a number here); a CSV import normalises a million numbers. Splitting
// plain digits into country code and national number is trivial for regions whose rules are
// simple, so only the validity check (IsValidNumber, itself regex-based) runs through the
// library. Anything the fast path cannot settle goes to Parse, which stays the authority.
//
// How Parse treats plain digits, and what the fast path reproduces (see ParseHelper in
// libphonenumber's phonenumberutil.cc):
//   1. '+' or the region's international prefix (IDD, when not followed by 0) -> the next
//      1-3 digits that form a known calling code are the country code.
//   2. Without either, a number starting with the region's own calling code may lose it
//      (only if the result looks better): the fast path leaves such input to Parse, except
//      in NANP regions where the calling code and the national prefix are both "1" and both
//      readings give the same digits.
//   3. The national prefix of the number's region is stripped when present, unless what
//      remains is not a plausible number. The fast path strips it and accepts the result only
//      if it is valid, in which case Parse strips it too.
//   4. Leading zeros of the national number are kept as "Italian leading zeros".
// Step 3 uses each region's "national prefix for parsing", a regular expression that equals
// the plain national prefix for most regions but not all (AU, BR, MX, AR, GG, ... capture
// carrier codes or rewrite digits). Those regions are not in `fast_regions` below; every
// entry is checked against Parse by test/domain/phone_test.cpp.

namespace gobi::phone {

namespace detail {

/// What the fast path needs to know about a region.
struct region_rules {
  std::string region;       ///< "GB"
  int calling_code = 0;     ///< 44
  std::string code_digits;  ///< "44"
  std::string national_prefix; ///< "0"; empty where there is none (IT, ES, DK)
  std::string_view idd;     ///< international prefix: "00" or "011"
};

} // namespace detail

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/// A region whose national prefix for parsing is its plain national prefix, with no
/// transform rule, and whose international prefix is a fixed string (libphonenumber 8.12
/// metadata). The national prefix itself is read from libphonenumber at start-up.
struct fast_region {
  std::string_view region;
  std::string_view idd;
};

constexpr std::array<fast_region, 33> fast_regions{{
  {"US", "011"}, {"CA", "011"}, {"PR", "011"}, {"GB", "00"}, {"IE", "00"}, {"DE", "00"},
  {"AT", "00"},  {"CH", "00"},  {"FR", "00"},  {"BE", "00"}, {"NL", "00"}, {"IT", "00"},
  {"ES", "00"},  {"PT", "00"},  {"DK", "00"},  {"SE", "00"}, {"NO", "00"}, {"PL", "00"},
  {"CZ", "00"},  {"GR", "00"},  {"RO", "00"},  {"TR", "00"}, {"IN", "00"}, {"PK", "00"},
  {"BD", "00"},  {"PH", "00"},  {"ZA", "00"},  {"EG", "00"}, {"AE", "00"}, {"SA", "00"},
  {"MY", "00"},  {"VN", "00"},  {"UA", "00"},
}};

/// Shared calling codes whose main region (listed first by libphonenumber) has no
/// leading-digits pattern: for them IsValidNumberForRegion(number, main region) implies
/// IsValidNumber(number), which saves the library a second type check. Every code used by
/// one region only qualifies as well.
constexpr std::array<int, 3> shared_codes_led_by_plain_region{1, 39, 44};

constexpr std::size_t max_digits = 24;      // IDD (3) + country code (3) + NSN (17) + slack
constexpr std::size_t min_nsn_length = 2;   // libphonenumber's kMinLengthForNsn
constexpr std::size_t max_nsn_length = 17;  // libphonenumber's kMaxLengthForNsn
constexpr std::size_t max_fast_input = 64;  // longer input is unusual: let Parse judge it
constexpr std::size_t max_parse_input = 250; // libphonenumber's kMaxInputStringLength

/// Per calling code: the fast-path rules of its main region (if any) and how to validate.
struct code_info {
  bool known = false;
  const detail::region_rules* rules = nullptr; ///< main region's, when it is a fast region
  bool region_check_suffices = false;          ///< see shared_codes_led_by_plain_region
  bool single_region = false;                  ///< then the region check is IsValidNumber
  std::string main_region;
};

/// Built once, read-only afterwards: safe to share between threads.
struct tables {
  std::vector<detail::region_rules> regions;
  std::array<code_info, 1000> codes;
};

const PhoneNumberUtil& util() {
  return *PhoneNumberUtil::GetInstance();
}

tables build_tables() {
  const auto& u = util();
  tables t;
  t.regions.reserve(fast_regions.size()); // never reallocated: code_info points into it
  for (const auto& f : fast_regions) {
    detail::region_rules r;
    r.region = std::string{f.region};
    r.calling_code = u.GetCountryCodeForRegion(r.region);
    if (r.calling_code <= 0 || r.calling_code >= 1000)
      continue; // not in this libphonenumber's metadata: leave the region to Parse
    r.code_digits = std::to_string(r.calling_code);
    u.GetNddPrefixForRegion(r.region, true, &r.national_prefix);
    r.idd = f.idd;
    t.regions.push_back(std::move(r));
  }
  for (int code = 1; code < 1000; ++code) {
    std::list<std::string> regions;
    u.GetRegionCodesForCountryCallingCode(code, &regions);
    if (regions.empty())
      continue;
    auto& info = t.codes[static_cast<std::size_t>(code)];
    info.known = true;
    info.main_region = regions.front();
    info.single_region = regions.size() == 1;
    info.region_check_suffices
      = info.single_region
        || std::find(shared_codes_led_by_plain_region.begin(),
                     shared_codes_led_by_plain_region.end(), code)
             != shared_codes_led_by_plain_region.end();
    for (const auto& r : t.regions)
      if (r.region == info.main_region)
        info.rules = &r;
  }
  return t;
}

const tables& get_tables() {
  static const tables instance = build_tables(); // thread-safe initialisation
  return instance;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) noexcept {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

/// The digits of plain input and whether it began with '+'.
struct plain_digits {
  std::array<char, max_digits> buf{};
  std::size_t size = 0;
  bool plus = false;
  std::string_view view() const noexcept { return {buf.data(), size}; }
};

/// Accepts digits, '+' as the first character, and the punctuation people put in numbers.
/// Anything else (letters, extensions, '#', ';', non-ASCII) is for Parse.
bool extract_plain(std::string_view raw, plain_digits& out) noexcept {
  if (raw.size() > max_fast_input)
    return false;
  std::size_t i = 0;
  if (!raw.empty() && raw[0] == '+') {
    out.plus = true;
    i = 1;
  }
  for (; i < raw.size(); ++i) {
    const char c = raw[i];
    if (is_digit(c)) {
      if (out.size == out.buf.size())
        return false;
      out.buf[out.size++] = c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      return false;
    }
  }
  return out.size >= 3; // Parse's "viable number" needs three digits
}

error invalid(std::string reason) {
  return make_error(errc::validation, std::move(reason), "phone");
}

PhoneNumber make_number(int calling_code, std::string_view national) {
  PhoneNumber n;
  n.set_country_code(calling_code);
  std::uint64_t value = 0;
  for (char c : national)
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  if (national.size() > 1 && national[0] == '0') {
    // As Parse does: leading zeros are part of the number (Italy), remembered separately
    // because the integer cannot hold them; an all-zero number keeps its last zero.
    n.set_italian_leading_zero(true);
    std::size_t zeros = 1;
    while (zeros < national.size() - 1 && national[zeros] == '0')
      ++zeros;
    if (zeros != 1)
      n.set_number_of_leading_zeros(static_cast<std::int32_t>(zeros));
  }
  n.set_national_number(value);
  return n;
}

bool is_valid(const PhoneNumber& n, const code_info& info) {
  const auto& u = util();
  if (!info.region_check_suffices)
    return u.IsValidNumber(n);
  // IsValidNumber would first look up the number's region (a second type check for shared
  // codes); for these codes a valid number's region is the main one.
  if (u.IsValidNumberForRegion(n, info.main_region))
    return true;
  return !info.single_region && u.IsValidNumber(n); // e.g. +1 numbers of Canada
}

/// Strips the national prefix, validates, and formats; nullopt when Parse must decide.
std::optional<std::string> finish(const detail::region_rules& rules, std::string_view rest) {
  std::string_view national = rest;
  if (!rules.national_prefix.empty() && national.starts_with(rules.national_prefix))
    national.remove_prefix(rules.national_prefix.size());
  if (national.size() < min_nsn_length || national.size() > max_nsn_length)
    return std::nullopt;
  const auto& info = get_tables().codes[static_cast<std::size_t>(rules.calling_code)];
  if (!is_valid(make_number(rules.calling_code, national), info))
    return std::nullopt;
  std::string e164;
  e164.reserve(1 + rules.code_digits.size() + national.size());
  e164.push_back('+');
  e164.append(rules.code_digits);
  e164.append(national);
  return e164;
}

/// Digits after '+' or an international prefix.
std::optional<std::string> fast_international(std::string_view digits) {
  if (digits.size() <= min_nsn_length || digits[0] == '0')
    return std::nullopt;
  const auto& t = get_tables();
  int code = 0;
  for (std::size_t len = 1; len <= 3 && len < digits.size(); ++len) {
    code = code * 10 + (digits[len - 1] - '0');
    const auto& info = t.codes[static_cast<std::size_t>(code)];
    if (info.known) {
      if (info.rules == nullptr)
        return std::nullopt;
      return finish(*info.rules, digits.substr(len));
    }
  }
  return std::nullopt;
}

/// Maps a Parse error to the reason we give.
std::string_view parse_error_reason(PhoneNumberUtil::ErrorType e) noexcept {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "invalid country code";
    case PhoneNumberUtil::NOT_A_NUMBER: return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
    case PhoneNumberUtil::NO_PARSING_ERROR: break;
  }
  return "not a phone number";
}

} // namespace

normalizer::normalizer(std::string default_region) : region_(std::move(default_region)) {
  for (auto& c : region_)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  region_calling_code_ = util().GetCountryCodeForRegion(region_);
  for (const auto& r : get_tables().regions)
    if (r.region == region_)
      rules_ = &r;
}

result<std::string> normalizer::to_e164(std::string_view raw) const {
  raw = trim(raw);
  if (raw.empty())
    return invalid("empty");
  plain_digits d;
  if (extract_plain(raw, d)) {
    const std::string_view digits = d.view();
    std::optional<std::string> fast;
    if (d.plus) {
      fast = fast_international(digits);
    } else if (rules_ != nullptr) {
      const auto& r = *rules_;
      const auto after = [&](std::string_view prefix) {
        return digits.size() > prefix.size() && digits.starts_with(prefix)
               && digits[prefix.size()] != '0';
      };
      if (after(r.idd)) {
        fast = fast_international(digits.substr(r.idd.size()));
      } else if (after("00")) {
        // Not this region's prefix (US: 011), but what much of the world dials: accepted
        // when it yields a valid number. A NANP number never starts with 0, so nothing
        // valid is read differently.
        fast = fast_international(digits.substr(2));
      } else if (r.code_digits == r.national_prefix || !digits.starts_with(r.code_digits)) {
        fast = finish(r, digits);
      }
    }
    if (fast)
      return std::move(*fast);
  }
  return slow_path(raw);
}

result<std::string> normalizer::slow_path(std::string_view raw) const {
  if (raw.size() > max_parse_input)
    return invalid("too long");
  const auto& u = util();
  PhoneNumber number;
  const auto err = u.Parse(std::string{raw}, region_, &number);
  if (err == PhoneNumberUtil::NO_PARSING_ERROR && u.IsValidNumber(number)) {
    std::string e164;
    u.Format(number, PhoneNumberUtil::E164, &e164);
    return e164;
  }
  // "00" as an international prefix where the region dials something else (see to_e164).
  if (raw.starts_with("00")) {
    PhoneNumber retry;
    std::string plus = "+";
    plus.append(raw.substr(2));
    if (u.Parse(plus, region_, &retry) == PhoneNumberUtil::NO_PARSING_ERROR
        && u.IsValidNumber(retry)) {
      std::string e164;
      u.Format(retry, PhoneNumberUtil::E164, &e164);
      return e164;
    }
  }
  if (err != PhoneNumberUtil::NO_PARSING_ERROR)
    return invalid(std::string{parse_error_reason(err)});
  switch (u.IsPossibleNumberWithReason(number)) {
    case PhoneNumberUtil::TOO_SHORT:
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return invalid("too short");
    case PhoneNumberUtil::TOO_LONG: return invalid("too long");
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return invalid("invalid country code");
    case PhoneNumberUtil::IS_POSSIBLE:
    case PhoneNumberUtil::INVALID_LENGTH: break;
  }
  std::string region = region_;
  if (number.country_code() != region_calling_code_)
    u.GetRegionCodeForCountryCode(number.country_code(), &region);
  return invalid("invalid number for region " + region);
}

bool looks_like_e164(std::string_view s) noexcept {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] == '0')
    return false;
  return std::all_of(s.begin() + 1, s.end(), is_digit);
}

} // namespace gobi::phone
