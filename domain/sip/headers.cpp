#include "domain/sip/headers.hpp"

#include "domain/sip/text.hpp"

#include <array>

namespace gobi::sip {

using namespace text;

namespace {

struct header_name {
  std::string_view name;
  char compact; ///< 0 when none
  bool list;
};

// Well-known names with their compact forms (RFC 3261 section 7.3.3, RFC 3265, 3515, 3892,
// 4028) and whether the parser splits comma lists into separate fields.
constexpr std::array<header_name, 55> known_headers{{
    {"Accept", 0, false},
    {"Accept-Contact", 'a', false},
    {"Accept-Encoding", 0, false},
    {"Accept-Language", 0, false},
    {"Alert-Info", 0, false},
    {"Allow", 0, true},
    {"Allow-Events", 'u', true},
    {"Authentication-Info", 0, false},
    {"Authorization", 0, false},
    {"Call-ID", 'i', false},
    {"Call-Info", 0, false},
    {"Contact", 'm', true},
    {"Content-Disposition", 0, false},
    {"Content-Encoding", 'e', false},
    {"Content-Language", 0, false},
    {"Content-Length", 'l', false},
    {"Content-Type", 'c', false},
    {"CSeq", 0, false},
    {"Date", 0, false},
    {"Error-Info", 0, false},
    {"Event", 'o', false},
    {"Expires", 0, false},
    {"From", 'f', false},
    {"Identity", 'y', false},
    {"Identity-Info", 'n', false},
    {"In-Reply-To", 0, false},
    {"Max-Forwards", 0, false},
    {"MIME-Version", 0, false},
    {"Min-Expires", 0, false},
    {"Min-SE", 0, false},
    {"Organization", 0, false},
    {"P-Asserted-Identity", 0, false},
    {"Priority", 0, false},
    {"Privacy", 0, false},
    {"Proxy-Authenticate", 0, false},
    {"Proxy-Authorization", 0, false},
    {"Proxy-Require", 0, true},
    {"RAck", 0, false},
    {"Reason", 0, false},
    {"Record-Route", 0, true},
    {"Refer-To", 'r', false},
    {"Referred-By", 'b', false},
    {"Reject-Contact", 'j', false},
    {"Reply-To", 0, false},
    {"Request-Disposition", 'd', false},
    {"Require", 0, true},
    {"Retry-After", 0, false},
    {"Route", 0, true},
    {"RSeq", 0, false},
    {"Server", 0, false},
    {"Session-Expires", 'x', false},
    {"Subject", 's', false},
    {"Supported", 'k', true},
    {"Timestamp", 0, false},
    {"To", 't', false},
}};

constexpr std::array<header_name, 6> more_headers{{
    {"Unsupported", 0, true},
    {"User-Agent", 0, false},
    {"Via", 'v', true},
    {"Warning", 0, false},
    {"WWW-Authenticate", 0, false},
    {"Path", 0, true},
}};

const header_name* lookup(std::string_view name) noexcept {
  if (name.size() == 1) {
    const char c = lower(name[0]);
    for (const auto& h : known_headers)
      if (h.compact == c) return &h;
    for (const auto& h : more_headers)
      if (h.compact == c) return &h;
    return nullptr;
  }
  for (const auto& h : known_headers)
    if (iequals(h.name, name)) return &h;
  for (const auto& h : more_headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

error header_error(std::string msg) {
  return error{errc::bad_header, std::move(msg)};
}

} // namespace

std::string canonical_header_name(std::string_view name) {
  if (const auto* h = lookup(name)) return std::string(h->name);
  return std::string(name);
}

bool is_list_header(std::string_view canonical_name) noexcept {
  const auto* h = lookup(canonical_name);
  return h && h->list;
}

// --- name-addr ---------------------------------------------------------------------------

std::string name_addr::tag() const {
  const auto* p = find_param(params, "tag");
  return p && p->value ? *p->value : std::string();
}

std::string name_addr::to_string() const {
  std::string out;
  if (!display_name.empty()) {
    out += quote(display_name);
    out += ' ';
  }
  out += '<';
  out += uri.to_string();
  out += '>';
  out += sip::to_string(params);
  return out;
}

result<name_addr> parse_name_addr(std::string_view value) {
  value = trim(value);
  if (value.empty()) return header_error("empty address");
  name_addr na;
  std::size_t lt = std::string_view::npos;
  if (value.front() == '"') {
    const auto q = closing_quote(value, 0);
    if (q == std::string_view::npos) return header_error("unterminated quoted display name");
    auto dn = unquote(value.substr(0, q + 1));
    if (!dn) return header_error("bad quoted display name");
    na.display_name = std::move(*dn);
    std::size_t i = q + 1;
    while (i < value.size() && is_wsp(value[i]))
      ++i;
    if (i >= value.size() || value[i] != '<')
      return header_error("expected '<' after display name");
    lt = i;
  } else {
    lt = value.find('<');
    if (lt != std::string_view::npos) {
      const auto dn = trim(value.substr(0, lt));
      // display-name = *(token LWS): tokens separated by whitespace
      for (char c : dn)
        if (!is_token_char(c) && !is_wsp(c))
          return header_error("display name '" + std::string(dn) +
                              "' has characters that need quoting");
      na.display_name = std::string(dn);
    }
  }
  std::string_view rest;
  if (lt != std::string_view::npos) {
    const auto gt = value.find('>', lt);
    if (gt == std::string_view::npos) return header_error("missing '>'");
    auto u = parse_uri(value.substr(lt + 1, gt - lt - 1));
    if (!u) return error{errc::bad_header, "address: " + u.err().message};
    na.uri = std::move(*u);
    rest = value.substr(gt + 1);
  } else {
    // addr-spec: the URI ends at the first ';' (params are header params); such a URI may not
    // carry '?' headers or ',' (section 20: those need the name-addr form).
    const auto semi = value.find(';');
    const auto spec = trim(value.substr(0, semi));
    if (spec.find_first_of("?, \t") != std::string_view::npos)
      return header_error("addr-spec '" + std::string(spec) + "' must be enclosed in <>");
    auto u = parse_uri(spec);
    if (!u) return error{errc::bad_header, "address: " + u.err().message};
    na.uri = std::move(*u);
    rest = semi == std::string_view::npos ? std::string_view{} : value.substr(semi);
  }
  auto ps = parse_header_params(rest);
  if (!ps) return std::move(ps).err();
  na.params = std::move(*ps);
  return na;
}

// --- Via ---------------------------------------------------------------------------------

std::string via::branch() const {
  const auto* p = find_param(params, "branch");
  return p && p->value ? *p->value : std::string();
}

std::optional<std::string> via::received() const {
  const auto* p = find_param(params, "received");
  if (!p || !p->value) return std::nullopt;
  return *p->value;
}

std::optional<std::uint16_t> via::rport() const {
  const auto* p = find_param(params, "rport");
  if (!p) return std::nullopt;
  if (!p->value) return std::uint16_t{0};
  const auto v = parse_uint(*p->value, 65535);
  return v ? static_cast<std::uint16_t>(*v) : std::uint16_t{0};
}

std::string via::sent_by() const {
  std::string out = lower(host);
  if (port) out += ":" + std::to_string(*port);
  return out;
}

std::string via::to_string() const {
  std::string out = protocol + "/" + transport + " " + host;
  if (port) out += ":" + std::to_string(*port);
  out += sip::to_string(params);
  return out;
}

result<via> parse_via(std::string_view value) {
  value = trim(value);
  via v;
  // sent-protocol = name SLASH version SLASH transport (LWS allowed around the slashes)
  std::size_t i = 0;
  std::array<std::string_view, 3> parts{};
  for (int k = 0; k < 3; ++k) {
    while (i < value.size() && is_wsp(value[i]))
      ++i;
    const auto start = i;
    while (i < value.size() && is_token_char(value[i]))
      ++i;
    parts[static_cast<std::size_t>(k)] = value.substr(start, i - start);
    if (parts[static_cast<std::size_t>(k)].empty()) return header_error("Via: bad sent-protocol");
    while (i < value.size() && is_wsp(value[i]))
      ++i;
    if (k < 2) {
      if (i >= value.size() || value[i] != '/') return header_error("Via: bad sent-protocol");
      ++i;
    }
  }
  if (!iequals(parts[0], "SIP")) return header_error("Via: protocol is not SIP");
  v.protocol = upper(parts[0]) + "/" + std::string(parts[1]);
  v.transport = upper(parts[2]);
  // sent-by = host [ COLON port ]
  const auto hp_start = i;
  if (i < value.size() && value[i] == '[') {
    const auto close = value.find(']', i);
    if (close == std::string_view::npos) return header_error("Via: unterminated IPv6 reference");
    i = close + 1;
  } else {
    while (i < value.size() && (is_alnum(value[i]) || value[i] == '-' || value[i] == '.'))
      ++i;
  }
  v.host = std::string(value.substr(hp_start, i - hp_start));
  if (v.host.empty()) return header_error("Via: missing sent-by host");
  {
    // validate the host with the URI rules
    auto probe = parse_uri("sip:" + v.host);
    if (!probe) return header_error("Via: bad host '" + v.host + "'");
  }
  auto j = i;
  while (j < value.size() && is_wsp(value[j]))
    ++j;
  if (j < value.size() && value[j] == ':') {
    ++j;
    while (j < value.size() && is_wsp(value[j]))
      ++j;
    const auto p_start = j;
    while (j < value.size() && is_digit(value[j]))
      ++j;
    const auto port = parse_uint(value.substr(p_start, j - p_start), 65535);
    if (!port) return header_error("Via: bad port");
    v.port = static_cast<std::uint16_t>(*port);
    i = j;
  }
  auto ps = parse_header_params(value.substr(i));
  if (!ps) return error{errc::bad_header, "Via: " + ps.err().message};
  v.params = std::move(*ps);
  for (const auto& p : v.params) {
    if (iequals(p.name, "branch") && (!p.value || p.value->empty()))
      return header_error("Via: empty branch");
    if (iequals(p.name, "rport") && p.value && !parse_uint(*p.value, 65535))
      return header_error("Via: bad rport");
    if (iequals(p.name, "ttl") && (!p.value || !parse_uint(*p.value, 255)))
      return header_error("Via: bad ttl");
  }
  return v;
}

// --- CSeq / Call-ID ----------------------------------------------------------------------

std::string cseq::to_string() const {
  return std::to_string(number) + " " + method;
}

result<cseq> parse_cseq(std::string_view value) {
  value = trim(value);
  std::size_t i = 0;
  while (i < value.size() && is_digit(value[i]))
    ++i;
  const auto n = parse_uint(value.substr(0, i), 0x7fffffffULL);
  if (!n) return header_error("CSeq: number missing or over 2^31-1");
  const auto method = trim(value.substr(i));
  if (i == value.size() || !is_wsp(value[i]) || !is_token(method))
    return header_error("CSeq: bad method");
  return cseq{static_cast<std::uint32_t>(*n), std::string(method)};
}

bool valid_call_id(std::string_view value) noexcept {
  if (value.empty()) return false;
  const auto at = value.find('@');
  auto words_ok = [](std::string_view w) {
    if (w.empty()) return false;
    for (char c : w)
      if (!is_word_char(c)) return false;
    return true;
  };
  if (at == std::string_view::npos) return words_ok(value);
  return words_ok(value.substr(0, at)) && words_ok(value.substr(at + 1));
}

} // namespace gobi::sip
