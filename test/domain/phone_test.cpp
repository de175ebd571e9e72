#include "domain/phone.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() {
  return *PhoneNumberUtil::GetInstance();
}

/// What libphonenumber itself says: Parse, IsValidNumber, Format(E164).
std::optional<std::string> reference(const std::string& raw, const std::string& region) {
  PhoneNumber n;
  if (util().Parse(raw, region, &n) != PhoneNumberUtil::NO_PARSING_ERROR || !util().IsValidNumber(n))
    return std::nullopt;
  std::string out;
  util().Format(n, PhoneNumberUtil::E164, &out);
  return out;
}

/// Our answer must equal libphonenumber's, except that "00" also works as an international
/// prefix where the region's own is different: then it must equal Parse of "+...".
void check_against_reference(const std::string& raw, const std::string& region) {
  CAPTURE(raw);
  CAPTURE(region);
  const gobi::phone::normalizer norm{region};
  const auto ours = norm.to_e164(raw);
  auto expected = reference(raw, region);
  std::string trimmed = raw;
  trimmed.erase(0, trimmed.find_first_not_of(" \t"));
  if (!expected && trimmed.starts_with("00"))
    expected = reference("+" + trimmed.substr(2), region);
  if (expected) {
    REQUIRE_MESSAGE(ours.ok(), ours.err().message);
    CHECK(*ours == *expected);
  } else {
    CHECK_MESSAGE(!ours.ok(), *ours);
  }
}

} // namespace

TEST_CASE("phone: table of formats, compared with libphonenumber") {
  struct test_case {
    const char* raw;
    const char* region;
    const char* e164; // what we expect (also checked against libphonenumber)
  };
  const test_case cases[] = {
    // US national formats
    {"(415) 555-1001", "US", "+14155551001"},
    {"415.555.1001", "US", "+14155551001"},
    {"415-555-1001", "US", "+14155551001"},
    {"4155551001", "US", "+14155551001"},
    {"1 415 555 1001", "US", "+14155551001"},
    {"1-415-555-1001", "US", "+14155551001"},
    {"14155551001", "US", "+14155551001"},
    {"  (212) 555-0199 ", "US", "+12125550199"},
    {"011 44 20 7946 0958", "US", "+442079460958"},
    // E.164 and international
    {"+14155551001", "US", "+14155551001"},
    {"+1 (415) 555-1001", "GB", "+14155551001"},
    {"+1 1 415 555 1001", "US", "+14155551001"},
    {"+1 604 555 0123", "US", "+16045550123"},     // Canada
    {"604-555-0123", "CA", "+16045550123"},
    {"+1 787 555 0123", "US", "+17875550123"},     // Puerto Rico
    // UK
    {"+44 20 7946 0958", "US", "+442079460958"},
    {"+44 (0)20 7946 0958", "US", "+442079460958"},
    {"0044 20 7946 0958", "GB", "+442079460958"},
    {"0044 20 7946 0958", "US", "+442079460958"},  // "00" accepted outside its regions too
    {"020 7946 0958", "GB", "+442079460958"},
    {"07911 123456", "GB", "+447911123456"},
    {"+44 7911 123456", "DE", "+447911123456"},
    // Germany
    {"+49 30 1234567", "US", "+49301234567"},
    {"0049 30 1234567", "DE", "+49301234567"},
    {"030 1234567", "DE", "+49301234567"},
    {"030/1234567", "DE", "+49301234567"},
    {"+49 (0)151 12345678", "US", "+4915112345678"},
    {"0151 12345678", "DE", "+4915112345678"},
    // France
    {"+33 6 12 34 56 78", "US", "+33612345678"},
    {"0033 6 12 34 56 78", "FR", "+33612345678"},
    {"06 12 34 56 78", "FR", "+33612345678"},
    {"01.23.45.67.89", "FR", "+33123456789"},
    // India
    {"+91 98765 43210", "US", "+919876543210"},
    {"0091 98765 43210", "IN", "+919876543210"},
    {"098765 43210", "IN", "+919876543210"},
    {"98765 43210", "IN", "+919876543210"},
    {"+91 11 2345 6789", "US", "+911123456789"},
    // Italy keeps its leading zero
    {"+39 06 1234 5678", "US", "+390612345678"},
    {"06 1234 5678", "IT", "+390612345678"},
    // Regions left to libphonenumber (slow path) still work
    {"+61 2 9876 5432", "US", "+61298765432"},
    {"(02) 9876 5432", "AU", "+61298765432"},
    {"+55 11 98765 4321", "US", "+5511987654321"},
    {"415-555-1001 ext. 12", "US", "+14155551001"},
    {"tel:+1-415-555-1001", "US", "+14155551001"},
  };
  for (const auto& c : cases) {
    const std::string raw_text = c.raw;
    CAPTURE(raw_text);
    const std::string region_text = c.region;
    CAPTURE(region_text);
    const gobi::phone::normalizer norm{c.region};
    const auto r = norm.to_e164(c.raw);
    REQUIRE_MESSAGE(r.ok(), r.err().message);
    CHECK(*r == c.e164);
    check_against_reference(c.raw, c.region);
  }
}

TEST_CASE("phone: rejections carry a reason") {
  struct test_case {
    const char* raw;
    const char* region;
    const char* reason;
  };
  const test_case cases[] = {
    {"", "US", "empty"},
    {"   ", "US", "empty"},
    {"abc", "US", "not a phone number"},
    {"n/a", "US", "not a phone number"},
    {"12", "US", "too short"},
    {"555-1001", "US", "too short"}, // a local number without its area code
    {"1234567890123456789", "US", "too long"},
    {"+999 1234 5678", "US", "invalid country code"},
    {"+1 099 555 1001", "US", "invalid number for region US"},
    {"(099) 555-1001", "US", "invalid number for region US"},
    {"+44 20 1234", "US", "too short"},
    {"0999 123456", "GB", "invalid number for region GB"},
  };
  for (const auto& c : cases) {
    const std::string raw_text = c.raw;
    CAPTURE(raw_text);
    const gobi::phone::normalizer norm{c.region};
    const auto r = norm.to_e164(c.raw);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == gobi::errc::validation);
    CHECK(r.err().message == c.reason);
    CHECK(r.err().field == "phone");
  }
}

TEST_CASE("phone: every region's example numbers, in every format, match libphonenumber") {
  // Covers the fast path's region table (national and international input), the regions
  // left to Parse, and calling codes shared by several regions (NANP, +44, +39).
  std::set<std::string> regions;
  util().GetSupportedRegions(&regions);
  const PhoneNumberUtil::PhoneNumberType types[] = {
    PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE, PhoneNumberUtil::TOLL_FREE,
    PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::VOIP, PhoneNumberUtil::UAN};
  std::mt19937 rng{42};
  std::size_t checked = 0;
  for (const auto& region : regions) {
    for (auto type : types) {
      PhoneNumber example;
      if (!util().GetExampleNumberForType(region, type, &example))
        continue;
      std::vector<PhoneNumber> numbers{example};
      // Neighbours of the example: some valid, some not.
      for (int k = 0; k < 2; ++k) {
        PhoneNumber n = example;
        const auto base = example.national_number() / 1000 * 1000;
        n.set_national_number(base + rng() % 1000);
        numbers.push_back(n);
      }
      for (const auto& n : numbers) {
        std::string national, international, e164;
        util().Format(n, PhoneNumberUtil::NATIONAL, &national);
        util().Format(n, PhoneNumberUtil::INTERNATIONAL, &international);
        util().Format(n, PhoneNumberUtil::E164, &e164);
        std::string nsn;
        util().GetNationalSignificantNumber(n, &nsn);
        const std::string code = std::to_string(n.country_code());
        for (const auto& from : {region, std::string{"US"}}) {
          check_against_reference(national, from);
          check_against_reference(international, from);
          check_against_reference(e164, from);
          check_against_reference(nsn, from);
          check_against_reference("00" + code + " " + nsn, from);
          check_against_reference("011 " + code + " " + nsn, from);
          checked += 6;
        }
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("phone: random digit strings agree with libphonenumber in the fast regions") {
  const char* regions[] = {"US", "CA", "GB", "DE", "FR", "IN", "IT", "ES", "NL", "PL", "NO"};
  const char* prefixes[] = {"", "0", "00", "1", "011", "+", "+1", "+44", "+49", "+33", "+91",
                            "+39", "+47", "0044", "00 1 "};
  std::mt19937 rng{7};
  for (const char* region : regions)
    for (const char* prefix : prefixes)
      for (int i = 0; i < 40; ++i) {
        std::string raw = prefix;
        const int len = 6 + static_cast<int>(rng() % 8);
        for (int d = 0; d < len; ++d)
          raw.push_back(static_cast<char>('0' + rng() % 10));
        check_against_reference(raw, region);
      }
}

TEST_CASE("phone: the default region is case-insensitive; unknown regions still take +") {
  CHECK(gobi::phone::normalizer{"gb"}.to_e164("020 7946 0958").value() == "+442079460958");
  CHECK(gobi::phone::normalizer{"gb"}.default_region() == "GB");
  const gobi::phone::normalizer unknown{"ZZ"};
  CHECK(unknown.to_e164("+44 20 7946 0958").value() == "+442079460958");
  CHECK_FALSE(unknown.to_e164("020 7946 0958").ok());
}

TEST_CASE("phone: looks_like_e164") {
  struct test_case {
    const char* s;
    bool expected;
  };
  const test_case cases[] = {
    {"+14155551001", true},    {"+442079460958", true}, {"+12345678", true},
    {"+123456789012345", true}, {"+1234567", false},     {"+1234567890123456", false},
    {"14155551001", false},    {"+04155551001", false}, {"+1415555100a", false},
    {"", false},               {"+", false},            {"+1 415 555 1001", false},
  };
  for (const auto& c : cases) {
    const std::string input = c.s;
    CAPTURE(input);
    CHECK(gobi::phone::looks_like_e164(c.s) == c.expected);
  }
}
