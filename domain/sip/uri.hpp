#pragma once

/// SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), parsed into parts and written
/// back. Escapes are kept as received (`user` is raw); `user_unescaped()` resolves them.
/// Other schemes (http, mailto, im, ...) are kept opaque so a UA can answer 416 itself.

#include "domain/sip/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip {

/// A `;name[=value]` parameter of a URI or a header; the value is kept as written (a quoted
/// string keeps its quotes).
struct param {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const param&, const param&) = default;
};
using params = std::vector<param>;

/// Case-insensitive lookup; nullptr when absent.
const param* find_param(const params& ps, std::string_view name) noexcept;
/// Adds or replaces `name`.
void set_param(params& ps, std::string_view name, std::optional<std::string> value);
void erase_param(params& ps, std::string_view name);
/// ";a=b;c" (each param prefixed by ';').
std::string to_string(const params& ps);

enum class uri_scheme { sip, sips, tel, other };

struct uri {
  uri_scheme scheme = uri_scheme::sip;
  std::string other_scheme; ///< the scheme's name when scheme == other
  std::string user;         ///< raw userinfo user (escapes kept); tel: the number
  std::optional<std::string> password;
  std::string host; ///< hostname, IPv4, or "[IPv6]"
  std::optional<std::uint16_t> port;
  sip::params params;
  std::vector<std::pair<std::string, std::string>> headers; ///< ?a=b&c=d, raw
  std::string opaque; ///< everything after "scheme:" for other schemes

  bool is_sip() const noexcept { return scheme == uri_scheme::sip || scheme == uri_scheme::sips; }
  std::string to_string() const;
  std::optional<std::string> param(std::string_view name) const;
  bool has_param(std::string_view name) const noexcept { return find_param(params, name); }
  /// User part with %HH escapes resolved.
  std::string user_unescaped() const;
  /// The user (or tel number) stripped of visual separators (-.() and spaces): what a number
  /// lookup compares; keeps a leading '+'.
  std::string dial_string() const;
  /// "host" or "host:port".
  std::string host_port() const;

  friend bool operator==(const uri&, const uri&) = default;
};

/// Parses a URI. `in_request_line` forbids URI headers (?...) in SIP URIs, as section 19.1.1
/// does for Request-URIs.
result<uri> parse_uri(std::string_view s, bool in_request_line = false);

/// Parses `;a=b;c=d` (leading ';' optional) with header-parameter rules: names are tokens,
/// values tokens, hosts or quoted strings, LWS allowed around ';' and '='.
result<params> parse_header_params(std::string_view s);

} // namespace gobi::sip
