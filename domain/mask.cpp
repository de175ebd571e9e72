#include "domain/mask.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

// What counts as personal data, conservatively (a log line mangled beyond reading is worse
// than useless):
//
//  * e-mail: local part of [A-Za-z0-9._%+-] starting with a letter or digit, '@', then at
//    least two dot-separated labels, the last of two or more letters. "j***@acme.com".
//  * phone: an optional '+', then digit groups joined by single separators (' ', '-', '.',
//    one '(' or ')'), 7 to 15 digits in all, not touching letters, digits or '_' (nor a
//    '-'/'.' that touches them, as in UUIDs and versions), not followed by ':' and a digit
//    (clock times, ports), and not shaped like a date (2025-01-20, 20.01.2025), an IPv4
//    address or a decimal number (one '.'). All digits but the last four become '*'.

namespace gobi {

namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) noexcept {
  return is_digit(c) || is_alpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_local_char(char c) noexcept {
  return is_digit(c) || is_alpha(c) || c == '.' || c == '_' || c == '%' || c == '+'
         || c == '-';
}
bool is_label_char(char c) noexcept {
  return is_digit(c) || is_alpha(c) || c == '-';
}

/// A stretch of the text to replace.
struct span {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string replacement;
};

/// Finds e-mail addresses, left to right, without overlaps.
std::vector<span> find_emails(std::string_view s) {
  std::vector<span> out;
  std::size_t floor = 0; // nothing before this may be reused (it belongs to a match)
  for (auto at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
    if (at < floor)
      continue;
    std::size_t b = at;
    while (b > floor && is_local_char(s[b - 1]))
      --b;
    while (b < at && !is_digit(s[b]) && !is_alpha(s[b]))
      ++b;
    if (b == at)
      continue;
    // Domain: labels separated by single dots; stop before a trailing '.' (end of sentence).
    std::size_t e = at + 1;
    std::size_t labels = 0;
    std::size_t last_label = e;
    for (;;) {
      std::size_t l = e;
      while (l < s.size() && is_label_char(s[l]))
        ++l;
      if (l == e)
        break;
      ++labels;
      last_label = e;
      e = l;
      if (e + 1 < s.size() && s[e] == '.' && is_label_char(s[e + 1]))
        ++e;
      else
        break;
    }
    const auto tld = s.substr(last_label, e - last_label);
    if (labels < 2 || tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_alpha))
      continue;
    std::string masked;
    masked.push_back(s[b]);
    masked += "***@";
    masked.append(s.substr(at + 1, e - at - 1));
    out.push_back({b, e, std::move(masked)});
    floor = e;
    at = e - 1;
  }
  return out;
}

/// One digit run as scanned: where it ends, its digit groups and separators.
struct run {
  std::size_t end = 0;
  std::size_t digits = 0;
  std::vector<std::size_t> groups; ///< digits per group
  std::string seps;                ///< the non-paren separator char between groups (or ' ')
  std::size_t dots = 0;
  bool other_seps = false; ///< anything but '.' between groups
};

/// Scans the run starting at `i` (a '+', '(' or digit) up to `limit`.
run scan_run(std::string_view s, std::size_t i, std::size_t limit) {
  run r;
  if (s[i] == '+' || s[i] == '(')
    ++i;
  for (;;) {
    std::size_t g = i;
    while (g < limit && is_digit(s[g]))
      ++g;
    r.groups.push_back(g - i);
    r.digits += g - i;
    r.end = g;
    // A separator: up to three of ' ', '-', '.', '(' and ')', at most one paren, never two
    // plain separators in a row, then a digit.
    std::size_t j = g;
    int parens = 0;
    int plain = 0;
    char sep = 0;
    bool last_plain = false;
    while (j < limit && j - g < 3) {
      const char c = s[j];
      if (c == '(' || c == ')') {
        if (++parens > 1)
          break;
        last_plain = false;
      } else if (c == ' ' || c == '-' || c == '.') {
        if (last_plain)
          break;
        ++plain;
        sep = c;
        last_plain = true;
      } else {
        break;
      }
      ++j;
    }
    if (j == g || j >= limit || !is_digit(s[j]))
      return r;
    if (parens == 0 && plain == 1 && sep == '.')
      ++r.dots;
    else
      r.other_seps = true;
    r.seps.push_back(parens == 0 ? sep : ' ');
    i = j;
  }
}

bool looks_like_date(const run& r) {
  if (r.groups.size() < 3 || r.seps[0] != r.seps[1] || (r.seps[0] != '-' && r.seps[0] != '.'))
    return false;
  const auto a = r.groups[0];
  const auto b = r.groups[1];
  const auto c = r.groups[2];
  const bool ymd = a == 4 && b >= 1 && b <= 2 && c >= 1 && c <= 2;
  const bool dmy = a >= 1 && a <= 2 && b >= 1 && b <= 2 && c == 4;
  return ymd || dmy;
}

bool looks_like_ipv4(const run& r) {
  return r.groups.size() == 4 && !r.other_seps
         && std::all_of(r.groups.begin(), r.groups.end(), [](std::size_t n) { return n <= 3; });
}

/// Whether the run [b, r.end) is a phone number, judging also by its neighbours.
bool is_phone(std::string_view s, std::size_t b, const run& r) {
  if (r.digits < 7 || r.digits > 15)
    return false;
  if (b > 0) {
    const char p = s[b - 1];
    if (is_word(p))
      return false;
    if ((p == '-' || p == '.') && b > 1 && is_word(s[b - 2]))
      return false;
  }
  const std::size_t e = r.end;
  if (e < s.size()) {
    const char n = s[e];
    if (is_word(n))
      return false;
    if ((n == '-' || n == '.') && e + 1 < s.size() && is_word(s[e + 1]))
      return false;
    if (n == ':' && e + 1 < s.size() && is_digit(s[e + 1]))
      return false;
  }
  if (r.dots == 1 && !r.other_seps)
    return false; // a decimal number
  // A bare run of 7-9 digits is a count, a duration or a size ("imported 1000000 rows"):
  // phones reach logs in E.164 ('+'), written with separators, or with 10+ digits.
  if (r.groups.size() == 1 && r.digits < 10 && s[b] != '+' && s[b] != '(')
    return false;
  return !looks_like_date(r) && !looks_like_ipv4(r);
}

/// Appends [b, e) with all digits but the last four starred.
void append_masked(std::string& out, std::string_view s, std::size_t b, std::size_t e,
                   std::size_t digits) {
  std::size_t seen = 0;
  for (std::size_t i = b; i < e; ++i) {
    const char c = s[i];
    if (is_digit(c)) {
      out.push_back(seen + 4 < digits ? '*' : c);
      ++seen;
    } else {
      out.push_back(c);
    }
  }
}

/// Copies [b, e) of `s` to `out`, masking phone numbers.
void mask_phones(std::string& out, std::string_view s, std::size_t b, std::size_t e) {
  std::size_t i = b;
  while (i < e) {
    const char c = s[i];
    const bool starts = is_digit(c) || ((c == '+' || c == '(') && i + 1 < e && is_digit(s[i + 1]));
    if (!starts) {
      out.push_back(c);
      ++i;
      continue;
    }
    const run r = scan_run(s, i, e);
    if (is_phone(s, i, r))
      append_masked(out, s, i, r.end, r.digits);
    else
      out.append(s.substr(i, r.end - i)); // rejected runs are skipped whole, never re-split
    i = r.end;
  }
}

} // namespace

std::string mask_pii(std::string_view text) {
  // Most log lines hold neither an '@' nor seven digits: copy them as they are.
  const auto digits = std::count_if(text.begin(), text.end(), is_digit);
  if (digits < 7 && text.find('@') == std::string_view::npos)
    return std::string{text};

  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const auto& m : find_emails(text)) {
    mask_phones(out, text, pos, m.begin);
    out += m.replacement;
    pos = m.end;
  }
  mask_phones(out, text, pos, text.size());
  return out;
}

} // namespace gobi
