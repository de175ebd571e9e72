#include "domain/sip/uri.hpp"

#include "domain/sip/text.hpp"

#include <algorithm>

namespace gobi::sip {

using namespace text;

const param* find_param(const params& ps, std::string_view name) noexcept {
  for (const auto& p : ps)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

void set_param(params& ps, std::string_view name, std::optional<std::string> value) {
  for (auto& p : ps)
    if (iequals(p.name, name)) {
      p.value = std::move(value);
      return;
    }
  ps.push_back(param{std::string(name), std::move(value)});
}

void erase_param(params& ps, std::string_view name) {
  std::erase_if(ps, [&](const param& p) { return iequals(p.name, name); });
}

std::string to_string(const params& ps) {
  std::string out;
  for (const auto& p : ps) {
    out += ';';
    out += p.name;
    if (p.value) {
      out += '=';
      out += *p.value;
    }
  }
  return out;
}

namespace {

error uri_error(std::string msg) {
  return error{errc::bad_uri, std::move(msg)};
}

bool is_user_char(char c) noexcept {
  if (is_unreserved(c) || c == '%') return true;
  switch (c) {
  case '&':
  case '=':
  case '+':
  case '$':
  case ',':
  case ';':
  case '?':
  case '/':
    return true;
  default:
    return false;
  }
}

bool is_password_char(char c) noexcept {
  if (is_unreserved(c) || c == '%') return true;
  switch (c) {
  case '&':
  case '=':
  case '+':
  case '$':
  case ',':
    return true;
  default:
    return false;
  }
}

bool is_param_char(char c) noexcept {
  if (is_unreserved(c) || c == '%') return true;
  switch (c) {
  case '[':
  case ']':
  case '/':
  case ':':
  case '&':
  case '+':
  case '$':
    return true;
  default:
    return false;
  }
}

bool is_hvalue_char(char c) noexcept {
  if (is_unreserved(c) || c == '%') return true;
  switch (c) {
  case '[':
  case ']':
  case '/':
  case '?':
  case ':':
  case '+':
  case '$':
    return true;
  default:
    return false;
  }
}

template <class Pred> bool all_of(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

/// hostname / IPv4address / IPv6reference
bool valid_host(std::string_view h) {
  if (h.empty()) return false;
  if (h.front() == '[') {
    if (h.size() < 4 || h.back() != ']') return false;
    return all_of(h.substr(1, h.size() - 2),
                  [](char c) { return is_hex(c) || c == ':' || c == '.'; });
  }
  if (!all_of(h, [](char c) { return is_alnum(c) || c == '-' || c == '.'; })) return false;
  // labels may not be empty (but for a trailing dot) nor start or end with '-'
  std::size_t start = 0;
  while (true) {
    const auto dot = h.find('.', start);
    const auto label =
        h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return dot == std::string_view::npos && start != 0;
    if (label.front() == '-' || label.back() == '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

result<params> parse_uri_params(std::string_view s) {
  params out;
  std::size_t i = 0;
  while (i < s.size()) {
    // s[i] == ';'
    auto next = s.find(';', i + 1);
    if (next == std::string_view::npos) next = s.size();
    const auto piece = s.substr(i + 1, next - i - 1);
    const auto eq = piece.find('=');
    const auto name = piece.substr(0, eq);
    if (name.empty() || !all_of(name, is_param_char) || !valid_escapes(name))
      return uri_error("bad URI parameter '" + std::string(piece) + "'");
    param p{std::string(name), std::nullopt};
    if (eq != std::string_view::npos) {
      const auto value = piece.substr(eq + 1);
      if (value.empty() || !all_of(value, is_param_char) || !valid_escapes(value))
        return uri_error("bad URI parameter value '" + std::string(piece) + "'");
      p.value = std::string(value);
    }
    out.push_back(std::move(p));
    i = next;
  }
  return out;
}

result<uri> parse_sip_uri(uri u, std::string_view rest, bool in_request_line) {
  // userinfo contains no unescaped '@', nor does hostport/params/headers: at most one '@'.
  const auto at = rest.find('@');
  std::string_view hostpart = rest;
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    hostpart = rest.substr(at + 1);
    if (hostpart.find('@') != std::string_view::npos) return uri_error("more than one '@'");
    const auto colon = userinfo.find(':');
    const auto user = userinfo.substr(0, colon);
    if (user.empty()) return uri_error("empty user part");
    if (!all_of(user, is_user_char) || !valid_escapes(user))
      return uri_error("bad character in user part '" + std::string(user) + "'");
    u.user = std::string(user);
    if (colon != std::string_view::npos) {
      const auto pw = userinfo.substr(colon + 1);
      if (!all_of(pw, is_password_char) || !valid_escapes(pw))
        return uri_error("bad character in password");
      u.password = std::string(pw);
    }
  }
  const auto q = hostpart.find('?');
  auto before_headers = hostpart.substr(0, q);
  const auto semi = before_headers.find(';');
  auto hostport = before_headers.substr(0, semi);
  if (semi != std::string_view::npos) {
    auto ps = parse_uri_params(before_headers.substr(semi));
    if (!ps) return std::move(ps).err();
    u.params = std::move(*ps);
  }
  // host [ ":" port ], IPv6 references contain ':' inside brackets
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return uri_error("unterminated IPv6 reference");
    host = hostport.substr(0, close + 1);
    const auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return uri_error("junk after IPv6 reference");
      port = after.substr(1);
      has_port = true;
    }
  } else if (const auto c = hostport.find(':'); c != std::string_view::npos) {
    host = hostport.substr(0, c);
    port = hostport.substr(c + 1);
    has_port = true;
  }
  if (!valid_host(host)) return uri_error("bad host '" + std::string(host) + "'");
  u.host = std::string(host);
  if (has_port) {
    const auto p = parse_uint(port, 65535);
    if (!p) return uri_error("bad port '" + std::string(port) + "'");
    u.port = static_cast<std::uint16_t>(*p);
  }
  if (q != std::string_view::npos) {
    if (in_request_line) return uri_error("URI headers are not allowed in a Request-URI");
    auto hs = hostpart.substr(q + 1);
    if (hs.empty()) return uri_error("empty URI headers");
    std::size_t i = 0;
    while (i <= hs.size()) {
      auto amp = hs.find('&', i);
      if (amp == std::string_view::npos) amp = hs.size();
      const auto h = hs.substr(i, amp - i);
      const auto eq = h.find('=');
      if (eq == std::string_view::npos || eq == 0) return uri_error("bad URI header");
      const auto name = h.substr(0, eq);
      const auto value = h.substr(eq + 1);
      if (!all_of(name, is_hvalue_char) || !all_of(value, is_hvalue_char) || !valid_escapes(name) ||
          !valid_escapes(value))
        return uri_error("bad URI header '" + std::string(h) + "'");
      u.headers.emplace_back(std::string(name), std::string(value));
      i = amp + 1;
    }
  }
  return u;
}

result<uri> parse_tel_uri(uri u, std::string_view rest) {
  const auto semi = rest.find(';');
  const auto number = rest.substr(0, semi);
  auto ok = [](char c) {
    return is_hex(c) || c == '*' || c == '#' || c == '-' || c == '.' || c == '(' || c == ')' ||
           c == '+';
  };
  if (number.empty() || !all_of(number, ok) || number.find('+', 1) != std::string_view::npos)
    return uri_error("bad telephone number '" + std::string(number) + "'");
  u.user = std::string(number);
  if (semi != std::string_view::npos) {
    auto ps = parse_uri_params(rest.substr(semi));
    if (!ps) return std::move(ps).err();
    u.params = std::move(*ps);
  }
  return u;
}

} // namespace

result<uri> parse_uri(std::string_view s, bool in_request_line) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return uri_error("no scheme");
  const auto scheme = s.substr(0, colon);
  if (!is_alpha(scheme.front()) ||
      !all_of(scheme, [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; }))
    return uri_error("bad scheme '" + std::string(scheme) + "'");
  const auto rest = s.substr(colon + 1);
  for (char c : rest)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
      return uri_error("URI contains whitespace, a control character, '<', '>' or '\"'");
  uri u;
  if (iequals(scheme, "sip") || iequals(scheme, "sips")) {
    u.scheme = iequals(scheme, "sip") ? uri_scheme::sip : uri_scheme::sips;
    return parse_sip_uri(std::move(u), rest, in_request_line);
  }
  if (iequals(scheme, "tel")) {
    u.scheme = uri_scheme::tel;
    return parse_tel_uri(std::move(u), rest);
  }
  if (rest.empty()) return uri_error("empty URI after scheme");
  u.scheme = uri_scheme::other;
  u.other_scheme = lower(scheme);
  u.opaque = std::string(rest);
  return u;
}

std::string uri::to_string() const {
  std::string out;
  switch (scheme) {
  case uri_scheme::sip:
    out = "sip:";
    break;
  case uri_scheme::sips:
    out = "sips:";
    break;
  case uri_scheme::tel:
    out = "tel:";
    break;
  case uri_scheme::other:
    out = other_scheme + ":" + opaque;
    return out;
  }
  if (scheme == uri_scheme::tel) {
    out += user;
    out += sip::to_string(params);
    return out;
  }
  if (!user.empty()) {
    out += user;
    if (password) {
      out += ':';
      out += *password;
    }
    out += '@';
  }
  out += host_port();
  out += sip::to_string(params);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += headers[i].first;
    out += '=';
    out += headers[i].second;
  }
  return out;
}

std::string uri::host_port() const {
  std::string out = host;
  if (port) {
    out += ':';
    out += std::to_string(*port);
  }
  return out;
}

std::optional<std::string> uri::param(std::string_view name) const {
  if (const auto* p = find_param(params, name)) return p->value.value_or(std::string());
  return std::nullopt;
}

std::string uri::user_unescaped() const {
  return unescape(user).value_or(user);
}

std::string uri::dial_string() const {
  std::string out;
  for (char c : user_unescaped())
    if (c != '-' && c != '.' && c != '(' && c != ')' && c != ' ') out += c;
  return out;
}

result<params> parse_header_params(std::string_view s) {
  params out;
  s = trim(s);
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && is_wsp(s[i]))
      ++i;
  };
  while (i < s.size()) {
    skip_ws();
    if (i >= s.size()) break;
    if (s[i] != ';') return error{errc::bad_header, "expected ';' before parameter"};
    ++i;
    skip_ws();
    const auto name_start = i;
    while (i < s.size() && is_token_char(s[i]))
      ++i;
    if (i == name_start) return error{errc::bad_header, "empty parameter name"};
    param p{std::string(s.substr(name_start, i - name_start)), std::nullopt};
    skip_ws();
    if (i < s.size() && s[i] == '=') {
      ++i;
      skip_ws();
      if (i < s.size() && s[i] == '"') {
        const auto q = closing_quote(s, i);
        if (q == std::string_view::npos)
          return error{errc::bad_header, "unterminated quoted parameter value"};
        p.value = std::string(s.substr(i, q - i + 1));
        i = q + 1;
      } else {
        const auto v_start = i;
        // token, host (incl. IPv6 reference) characters
        while (i < s.size() && (is_token_char(s[i]) || s[i] == ':' || s[i] == '[' || s[i] == ']'))
          ++i;
        if (i == v_start) return error{errc::bad_header, "empty parameter value for " + p.name};
        p.value = std::string(s.substr(v_start, i - v_start));
      }
    }
    out.push_back(std::move(p));
    skip_ws();
  }
  return out;
}

} // namespace gobi::sip
