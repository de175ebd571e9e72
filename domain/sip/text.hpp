#pragma once

/// Character classes and small string helpers from the RFC 3261 section 25 grammar, shared by
/// the SIP parser, URI parser and digest code. Pure functions, no allocation unless a string
/// is returned.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip::text {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_alnum(char c) noexcept {
  return is_digit(c) || is_alpha(c);
}
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_wsp(char c) noexcept {
  return c == ' ' || c == '\t';
}
/// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
bool is_token_char(char c) noexcept;
bool is_token(std::string_view s) noexcept;
/// unreserved = alphanum / mark
bool is_unreserved(char c) noexcept;
/// word (Call-ID) characters
bool is_word_char(char c) noexcept;

char lower(char c) noexcept;
std::string lower(std::string_view s);
std::string upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;

/// Strips SP, HTAB, CR and LF at both ends.
std::string_view trim(std::string_view s) noexcept;

/// Decimal digits only, no sign, value <= max; nullopt otherwise (empty, overflow, junk).
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) noexcept;

/// Splits a header value at commas that are outside quoted strings and angle brackets.
/// Pieces are trimmed; an empty piece is kept (callers reject it).
std::vector<std::string_view> split_commas(std::string_view value);

/// Index of the quote closing a quoted-string that starts at s[open] == '"', honouring
/// backslash escapes; npos when unterminated.
std::size_t closing_quote(std::string_view s, std::size_t open) noexcept;
/// The content of a quoted-string (escapes resolved); nullopt if `s` is not exactly one.
std::optional<std::string> unquote(std::string_view s);
/// `s` as a quoted-string, escaping '"' and '\'.
std::string quote(std::string_view s);

/// Resolves %HH escapes; nullopt on a malformed escape.
std::optional<std::string> unescape(std::string_view s);
/// True when every '%' starts a %HH escape.
bool valid_escapes(std::string_view s) noexcept;

} // namespace gobi::sip::text
