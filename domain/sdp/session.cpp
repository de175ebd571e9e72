#include "domain/sdp/session.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gobi::sdp {

std::string error::to_string() const {
  std::string s = std::to_string(sip_status) + " ";
  if (line != 0) s += "line " + std::to_string(line) + ": ";
  return s + message;
}

bool connection::is_null() const noexcept {
  const auto slash = address.find('/');
  const std::string_view a = std::string_view(address).substr(0, slash);
  return a == "0.0.0.0" || a == "::";
}

const char* to_string(direction d) noexcept {
  switch (d) {
  case direction::sendrecv:
    return "sendrecv";
  case direction::sendonly:
    return "sendonly";
  case direction::recvonly:
    return "recvonly";
  case direction::inactive:
    return "inactive";
  }
  return "sendrecv";
}

direction reverse(direction d) noexcept {
  switch (d) {
  case direction::sendonly:
    return direction::recvonly;
  case direction::recvonly:
    return direction::sendonly;
  default:
    return d;
  }
}

namespace {

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    const auto start = i;
    while (i < s.size() && s[i] != ' ')
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

template <class T> std::optional<T> to_number(std::string_view s) {
  T v{};
  if (s.empty()) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<direction> parse_direction(std::string_view name) {
  if (name == "sendrecv") return direction::sendrecv;
  if (name == "sendonly") return direction::sendonly;
  if (name == "recvonly") return direction::recvonly;
  if (name == "inactive") return direction::inactive;
  return std::nullopt;
}

std::optional<direction> direction_in(const std::vector<attribute>& attrs) {
  for (const auto& a : attrs)
    if (!a.value)
      if (auto d = parse_direction(a.name)) return d;
  return std::nullopt;
}

std::optional<connection> parse_connection(std::string_view v) {
  const auto f = split_ws(v);
  if (f.size() != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") || f[2].empty())
    return std::nullopt;
  return connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`{|}~").find(c) != std::string_view::npos;
}

} // namespace

std::optional<std::string> media_description::attribute_value(std::string_view name) const {
  for (const auto& a : attributes)
    if (a.name == name) return a.value.value_or("");
  return std::nullopt;
}

bool media_description::has_attribute(std::string_view name) const {
  return attribute_value(name).has_value();
}

std::optional<rtpmap> media_description::rtpmap_for(int pt) const {
  for (const auto& a : attributes) {
    if (a.name != "rtpmap" || !a.value) continue;
    const auto sp = a.value->find(' ');
    if (sp == std::string::npos) continue;
    if (to_number<int>(std::string_view(*a.value).substr(0, sp)) != pt) continue;
    const std::string_view enc = std::string_view(*a.value).substr(sp + 1);
    const auto s1 = enc.find('/');
    if (s1 == std::string_view::npos) return std::nullopt;
    rtpmap m;
    m.payload_type = pt;
    m.encoding = std::string(enc.substr(0, s1));
    const auto rest = enc.substr(s1 + 1);
    const auto s2 = rest.find('/');
    const auto clock = to_number<std::uint32_t>(rest.substr(0, s2));
    if (!clock || *clock == 0) return std::nullopt;
    m.clock_rate = *clock;
    if (s2 != std::string_view::npos) {
      const auto ch = to_number<int>(rest.substr(s2 + 1));
      if (!ch || *ch < 1 || *ch > 8) return std::nullopt;
      m.channels = *ch;
    }
    return m;
  }
  // RFC 3551 static payload types that matter here
  switch (pt) {
  case 0:
    return rtpmap{0, "PCMU", 8000, 1};
  case 3:
    return rtpmap{3, "GSM", 8000, 1};
  case 8:
    return rtpmap{8, "PCMA", 8000, 1};
  case 9:
    return rtpmap{9, "G722", 8000, 1};
  case 18:
    return rtpmap{18, "G729", 8000, 1};
  default:
    return std::nullopt;
  }
}

std::optional<std::string> media_description::fmtp_for(int pt) const {
  for (const auto& a : attributes) {
    if (a.name != "fmtp" || !a.value) continue;
    const auto sp = a.value->find(' ');
    if (to_number<int>(std::string_view(*a.value).substr(0, sp)) != pt) continue;
    return sp == std::string::npos ? std::string() : a.value->substr(sp + 1);
  }
  return std::nullopt;
}

direction media_description::direction_or(direction session_default) const {
  return direction_in(attributes).value_or(session_default);
}

std::optional<int> media_description::ptime() const {
  const auto v = attribute_value("ptime");
  if (!v) return std::nullopt;
  // some peers write "20.0"
  const auto dot = v->find('.');
  const auto n = to_number<int>(std::string_view(*v).substr(0, dot));
  if (!n || *n <= 0 || *n > 1000) return std::nullopt;
  return n;
}

std::vector<crypto_line> media_description::cryptos() const {
  std::vector<crypto_line> out;
  for (const auto& a : attributes) {
    if (a.name != "crypto" || !a.value) continue;
    const auto f = split_ws(*a.value);
    if (f.size() < 3) continue;
    const auto tag = to_number<int>(f[0]);
    if (!tag || *tag < 0) continue;
    crypto_line c{*tag, std::string(f[1]), std::string(f[2]), {}};
    for (std::size_t i = 3; i < f.size(); ++i) {
      if (!c.session_params.empty()) c.session_params += ' ';
      c.session_params += f[i];
    }
    out.push_back(std::move(c));
  }
  return out;
}

direction session_description::direction() const {
  return direction_in(attributes).value_or(direction::sendrecv);
}

result<session_description> parse(std::string_view text, const parse_limits& limits) {
  auto fail = [](std::string msg, std::size_t line) { return error{std::move(msg), line, 400}; };
  if (text.size() > limits.max_bytes)
    return fail("SDP of " + std::to_string(text.size()) + " bytes is over the limit of " +
                    std::to_string(limits.max_bytes),
                0);
  session_description s;
  s.times.clear();
  bool seen_v = false, seen_o = false, seen_s = false;
  std::size_t pos = 0, line_no = 0;
  media_description* m = nullptr;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    auto line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line_no > limits.max_lines)
      return fail("more than " + std::to_string(limits.max_lines) + " lines", line_no);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue; // blank lines (a trailing one is common) are tolerated
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
      return fail("not a <type>=<value> line", line_no);
    for (char c : line)
      if (c == '\0' || c == '\r') return fail("NUL or CR inside a line", line_no);
    const char type = line[0];
    const auto value = line.substr(2);
    if (!seen_v) {
      if (type != 'v') return fail("the first line must be v=", line_no);
      if (value != "0")
        return fail("unsupported SDP version '" + std::string(value) + "'", line_no);
      seen_v = true;
      continue;
    }
    switch (type) {
    case 'v':
      return fail("second v= line", line_no);
    case 'o': {
      if (m || seen_o) return fail("misplaced o= line", line_no);
      const auto f = split_ws(value);
      if (f.size() != 6) return fail("o= needs 6 fields", line_no);
      s.origin = origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                        std::string(f[3]), std::string(f[4]), std::string(f[5])};
      seen_o = true;
      break;
    }
    case 's':
      if (m) return fail("s= inside a media section", line_no);
      s.name = std::string(value);
      seen_s = true;
      break;
    case 'i':
      if (m)
        m->title = std::string(value);
      else
        s.info = std::string(value);
      break;
    case 'u':
      if (m) return fail("u= inside a media section", line_no);
      s.uri = std::string(value);
      break;
    case 'e':
      if (m) return fail("e= inside a media section", line_no);
      s.emails.emplace_back(value);
      break;
    case 'p':
      if (m) return fail("p= inside a media section", line_no);
      s.phones.emplace_back(value);
      break;
    case 'c': {
      auto c = parse_connection(value);
      if (!c) return fail("bad c= line '" + std::string(value) + "'", line_no);
      if (m)
        m->connection = std::move(*c);
      else
        s.connection = std::move(*c);
      break;
    }
    case 'b':
      if (value.find(':') == std::string_view::npos) return fail("bad b= line", line_no);
      (m ? m->bandwidths : s.bandwidths).emplace_back(value);
      break;
    case 't':
      if (m) return fail("t= inside a media section", line_no);
      if (split_ws(value).size() != 2) return fail("t= needs start and stop", line_no);
      s.times.emplace_back(value);
      break;
    case 'r':
    case 'z':
      if (m) return fail("r=/z= inside a media section", line_no);
      s.repeats.push_back(std::string(1, type) + "=" + std::string(value));
      break;
    case 'k':
      if (m)
        m->key = std::string(value);
      else
        s.key = std::string(value);
      break;
    case 'a': {
      const auto colon = value.find(':');
      const auto name = value.substr(0, colon);
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
        return fail("bad attribute name '" + std::string(name) + "'", line_no);
      attribute a{std::string(name), std::nullopt};
      if (colon != std::string_view::npos) a.value = std::string(value.substr(colon + 1));
      (m ? m->attributes : s.attributes).push_back(std::move(a));
      break;
    }
    case 'm': {
      if (s.media.size() >= limits.max_media)
        return fail("more than " + std::to_string(limits.max_media) + " m= lines", line_no);
      const auto f = split_ws(value);
      if (f.size() < 4) return fail("m= needs media, port, proto and formats", line_no);
      media_description md;
      md.media = std::string(f[0]);
      const auto slash = f[1].find('/');
      const auto port = to_number<std::uint32_t>(f[1].substr(0, slash));
      if (!port || *port > 65535) return fail("bad port in m= line", line_no);
      md.port = static_cast<std::uint16_t>(*port);
      if (slash != std::string_view::npos) {
        const auto n = to_number<int>(f[1].substr(slash + 1));
        if (!n || *n < 1) return fail("bad port count in m= line", line_no);
        md.port_count = n;
      }
      md.proto = std::string(f[2]);
      for (std::size_t i = 3; i < f.size(); ++i)
        md.formats.emplace_back(f[i]);
      s.media.push_back(std::move(md));
      m = &s.media.back();
      break;
    }
    default:
      return fail(std::string("unknown line type '") + type + "='", line_no);
    }
  }
  if (!seen_v) return fail("empty SDP", 0);
  if (!seen_o) return fail("o= line missing", 0);
  if (!seen_s) return fail("s= line missing", 0);
  if (s.times.empty()) s.times.emplace_back("0 0");
  return s;
}

namespace {
void put(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}
void put_connection(std::string& out, const connection& c) {
  put(out, 'c', c.nettype + " " + c.addrtype + " " + c.address);
}
void put_attributes(std::string& out, const std::vector<attribute>& attrs) {
  for (const auto& a : attrs)
    put(out, 'a', a.value ? a.name + ":" + *a.value : a.name);
}
} // namespace

std::string to_string(const session_description& s) {
  std::string out;
  put(out, 'v', std::to_string(s.version));
  const auto& o = s.origin;
  put(out, 'o',
      o.username + " " + o.session_id + " " + o.session_version + " " + o.nettype + " " +
          o.addrtype + " " + o.address);
  put(out, 's', s.name);
  if (s.info) put(out, 'i', *s.info);
  if (s.uri) put(out, 'u', *s.uri);
  for (const auto& e : s.emails)
    put(out, 'e', e);
  for (const auto& p : s.phones)
    put(out, 'p', p);
  if (s.connection) put_connection(out, *s.connection);
  for (const auto& b : s.bandwidths)
    put(out, 'b', b);
  for (const auto& t : s.times)
    put(out, 't', t);
  for (const auto& r : s.repeats) {
    out += r;
    out += "\r\n";
  }
  if (s.key) put(out, 'k', *s.key);
  put_attributes(out, s.attributes);
  for (const auto& m : s.media) {
    std::string line = m.media + " " + std::to_string(m.port);
    if (m.port_count) line += "/" + std::to_string(*m.port_count);
    line += " " + m.proto;
    for (const auto& f : m.formats)
      line += " " + f;
    put(out, 'm', line);
    if (m.title) put(out, 'i', *m.title);
    if (m.connection) put_connection(out, *m.connection);
    for (const auto& b : m.bandwidths)
      put(out, 'b', b);
    if (m.key) put(out, 'k', *m.key);
    put_attributes(out, m.attributes);
  }
  return out;
}

} // namespace gobi::sdp
