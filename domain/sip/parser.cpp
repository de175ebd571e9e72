#include "domain/sip/parser.hpp"

#include "domain/sip/text.hpp"

#include <algorithm>

namespace gobi::sip {

using namespace text;

namespace {

/// One logical header line (folded continuation lines joined with a single SP).
struct raw_header {
  std::string name;  ///< canonical
  std::string value; ///< trimmed
  std::size_t line = 0;
};

/// The message cut into start line, header fields and body position, before any header is
/// interpreted. Errors in individual lines are remembered, not fatal, so that a failed parse
/// can still find the headers needed for a 400.
struct raw_message {
  std::string_view start_line;
  std::size_t start_line_no = 1;
  std::vector<raw_header> headers;
  bool terminated = false;     ///< the empty line ending the headers was found
  std::size_t body_offset = 0; ///< offset of the body in the input
  std::optional<error> line_error;
};

bool has_bad_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

raw_message split(std::string_view in) {
  raw_message raw;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  // Leading CRLFs (keep-alives, stray line ends) are ignored (section 7.5).
  while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) {
    if (in[pos] == '\n') ++line_no;
    ++pos;
  }
  auto next_line = [&](std::string_view& line) -> bool {
    if (pos >= in.size()) return false;
    auto nl = in.find('\n', pos);
    const bool has_nl = nl != std::string_view::npos;
    if (!has_nl) nl = in.size();
    line = in.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = has_nl ? nl + 1 : nl;
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(line)) return raw;
  raw.start_line = line;
  raw.start_line_no = line_no;
  auto fail = [&](std::string msg) {
    if (!raw.line_error) raw.line_error = error{errc::bad_header, std::move(msg), line_no};
  };
  while (next_line(line)) {
    if (line.empty()) {
      raw.terminated = true;
      raw.body_offset = pos;
      return raw;
    }
    if (is_wsp(line.front())) {
      // continuation of the previous header (folding)
      if (raw.headers.empty()) {
        fail("continuation line without a header");
        continue;
      }
      const auto more = trim(line);
      if (!more.empty()) {
        auto& v = raw.headers.back().value;
        if (!v.empty()) v += ' ';
        v += more;
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail("header line without ':'");
      continue;
    }
    auto name = line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
      name.remove_suffix(1);
    if (!is_token(name)) {
      fail("bad header name '" + std::string(name) + "'");
      continue;
    }
    raw.headers.push_back(
        {canonical_header_name(name), std::string(trim(line.substr(colon + 1))), line_no});
  }
  raw.body_offset = in.size();
  return raw;
}

/// Control characters are allowed in a header value only as quoted-pairs inside a
/// quoted-string (RFC 3261 section 25.1); HTAB is always allowed.
bool bad_header_bytes(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (quoted && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"')
      quoted = !quoted;
    else if ((u < 0x20 && s[i] != '\t') || u == 0x7f)
      return true;
  }
  return false;
}

bool is(const raw_header& h, std::string_view canonical) {
  return iequals(h.name, canonical);
}

/// The Request-Line's method when the start line looks like a request, however broken.
std::optional<std::string> request_method(std::string_view start_line) {
  const auto sp = start_line.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  const auto method = start_line.substr(0, sp);
  if (!is_token(method) || istarts_with(start_line, "SIP/")) return std::nullopt;
  return std::string(method);
}

/// Tries to build a request holding just the headers a response copies; nullopt when one of
/// them is missing or unusable.
std::optional<message> core_request(const raw_message& raw, const std::string& method) {
  message m;
  m.method = method;
  bool from = false, to = false, call_id = false, cseq_ok = false, via = false;
  for (const auto& h : raw.headers) {
    const bool core =
        is(h, "Via") || is(h, "From") || is(h, "To") || is(h, "Call-ID") || is(h, "CSeq");
    // what a response echoes must be clean: no raw control characters
    if (core && bad_header_bytes(h.value)) return std::nullopt;
    if (is(h, "Via")) {
      for (auto piece : split_commas(h.value)) {
        if (!parse_via(piece)) return std::nullopt;
        m.headers.push_back({"Via", std::string(piece)});
        via = true;
      }
    } else if (is(h, "From") && !from) {
      if (!parse_name_addr(h.value)) return std::nullopt;
      m.headers.push_back({"From", h.value});
      from = true;
    } else if (is(h, "To") && !to) {
      if (!parse_name_addr(h.value)) return std::nullopt;
      m.headers.push_back({"To", h.value});
      to = true;
    } else if (is(h, "Call-ID") && !call_id) {
      if (!valid_call_id(h.value)) return std::nullopt;
      m.headers.push_back({"Call-ID", h.value});
      call_id = true;
    } else if (is(h, "CSeq") && !cseq_ok) {
      if (!parse_cseq(h.value)) return std::nullopt;
      m.headers.push_back({"CSeq", h.value});
      cseq_ok = true;
    }
  }
  if (!(from && to && call_id && cseq_ok && via)) return std::nullopt;
  return m;
}

parse_failure fail_with(const raw_message& raw, error err) {
  parse_failure f{std::move(err), std::nullopt};
  if (const auto method = request_method(raw.start_line)) {
    f.partial = core_request(raw, *method);
    if (f.partial) {
      if (f.error.response_status == 0) f.error.response_status = 400;
    } else {
      f.error.response_status = 0;
    }
  } else {
    f.error.response_status = 0;
  }
  return f;
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; returns false when malformed, and sets
/// `is_2_0` when it is 2.0.
bool parse_version(std::string_view v, bool& is_2_0) {
  if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return false;
  const auto nums = v.substr(4);
  const auto dot = nums.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == nums.size()) return false;
  if (!std::all_of(nums.begin(), nums.begin() + static_cast<std::ptrdiff_t>(dot), is_digit) ||
      !std::all_of(nums.begin() + static_cast<std::ptrdiff_t>(dot) + 1, nums.end(), is_digit))
    return false;
  is_2_0 = nums == "2.0";
  return true;
}

std::optional<error> parse_start_line(std::string_view line, std::size_t line_no, message& m) {
  auto bad = [&](std::string msg) { return error{errc::bad_start_line, std::move(msg), line_no}; };
  if (has_bad_control(line)) return bad("control character in start line");
  if (istarts_with(line, "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return bad("status line without status code");
    bool v20 = false;
    if (!parse_version(line.substr(0, sp1), v20)) return bad("bad SIP version");
    if (!v20) return error{errc::bad_version, "unsupported SIP version", line_no};
    auto rest = line.substr(sp1 + 1);
    const auto sp2 = rest.find(' ');
    const auto code = rest.substr(0, sp2);
    const auto n = code.size() == 3 ? parse_uint(code, 699) : std::nullopt;
    if (!n || *n < 100) return bad("bad status code '" + std::string(code) + "'");
    m.status = static_cast<int>(*n);
    m.reason = sp2 == std::string_view::npos ? std::string() : std::string(rest.substr(sp2 + 1));
    return std::nullopt;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version, single spaces, nothing after
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return bad("request line has no spaces");
  const auto method = line.substr(0, sp1);
  if (!is_token(method)) return bad("bad method '" + std::string(method) + "'");
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad("request line without SIP version");
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (target.empty()) return bad("more than one SP after the method");
  if (version.find(' ') != std::string_view::npos || version.empty() || is_wsp(version.back()))
    return bad("Request-URI contains whitespace, or junk after the SIP version");
  bool v20 = false;
  if (!parse_version(version, v20)) return bad("bad SIP version '" + std::string(version) + "'");
  if (!v20) {
    error e{errc::bad_version, "unsupported SIP version " + std::string(version), line_no};
    e.response_status = 505;
    return e;
  }
  auto u = parse_uri(target, true);
  if (!u) {
    auto e = std::move(u).err();
    e.line = line_no;
    return e;
  }
  m.method = std::string(method);
  m.request_uri = std::move(*u);
  return std::nullopt;
}

/// Validates one header field whose grammar matters to us.
std::optional<std::string> check_header(const std::string& name, const std::string& value) {
  auto err = [&](const error& e) { return std::optional<std::string>(e.message); };
  if (name == "Via") {
    if (auto v = parse_via(value); !v) return err(v.err());
  } else if (name == "From" || name == "To" || name == "Route" || name == "Record-Route" ||
             name == "Reply-To" || name == "Refer-To" || name == "Referred-By" ||
             name == "P-Asserted-Identity") {
    if (auto v = parse_name_addr(value); !v) return err(v.err());
  } else if (name == "Contact") {
    if (trim(value) != "*")
      if (auto v = parse_name_addr(value); !v) return err(v.err());
  } else if (name == "Call-ID") {
    if (!valid_call_id(value)) return "bad Call-ID";
  } else if (name == "CSeq") {
    if (auto v = parse_cseq(value); !v) return err(v.err());
  } else if (name == "Max-Forwards") {
    if (!parse_uint(value, 255)) return "Max-Forwards is not a number of 0-255";
  } else if (name == "Expires" || name == "Min-Expires") {
    if (!parse_uint(value, 0xffffffffULL)) return name + " is not a number of 0-2^32-1";
  } else if (name == "Content-Type") {
    const auto semi = value.find(';');
    const auto mt = trim(std::string_view(value).substr(0, semi));
    const auto slash = mt.find('/');
    if (slash == std::string_view::npos || !is_token(trim(mt.substr(0, slash))) ||
        !is_token(trim(mt.substr(slash + 1))))
      return "bad Content-Type";
    if (semi != std::string::npos)
      if (auto ps = parse_header_params(std::string_view(value).substr(semi)); !ps)
        return "Content-Type: " + ps.err().message;
  } else if (name == "Date") {
    // rfc1123-date, always GMT
    if (value.size() < 29 || value.substr(value.size() - 4) != " GMT")
      return "Date is not an RFC 1123 date in GMT";
  }
  return std::nullopt;
}

} // namespace

expected<message, parse_failure> parse_message(std::string_view bytes, framing how,
                                               const parse_limits& limits) {
  const auto raw = split(bytes);
  if (raw.start_line.empty()) {
    return parse_failure{error{errc::empty_message, "no start line"}, std::nullopt};
  }
  if (bytes.size() > limits.max_message_bytes) {
    error e{errc::message_too_large, "message of " + std::to_string(bytes.size()) +
                                         " bytes is over the limit of " +
                                         std::to_string(limits.max_message_bytes)};
    e.response_status = 513;
    return fail_with(raw, std::move(e));
  }
  message m;
  if (auto e = parse_start_line(raw.start_line, raw.start_line_no, m)) {
    if (e->code == errc::bad_version && m.status != 0) e->response_status = 0;
    return fail_with(raw, std::move(*e));
  }
  if (raw.line_error) return fail_with(raw, *raw.line_error);
  if (!raw.terminated)
    return fail_with(raw, error{errc::bad_header, "headers not ended by an empty line"});

  // Header fields: validate, split lists, count.
  std::optional<std::uint64_t> content_length;
  for (const auto& h : raw.headers) {
    if (bad_header_bytes(h.value))
      return fail_with(raw, error{errc::bad_header, "control character in " + h.name, h.line});
    if (h.name == "Content-Length") {
      const auto n = parse_uint(h.value, limits.max_message_bytes);
      if (!n)
        return fail_with(raw, error{errc::bad_content_length,
                                    "Content-Length '" + h.value + "' is not a number within " +
                                        std::to_string(limits.max_message_bytes),
                                    h.line});
      if (content_length && *content_length != *n)
        return fail_with(raw,
                         error{errc::bad_content_length, "conflicting Content-Lengths", h.line});
      content_length = n;
      continue;
    }
    std::vector<std::string_view> pieces;
    if (is_list_header(h.name) && !(h.name == "Contact" && trim(h.value) == "*"))
      pieces = split_commas(h.value);
    else
      pieces.push_back(h.value);
    for (auto piece : pieces) {
      if (piece.empty() &&
          (h.name == "Via" || h.name == "Contact" || h.name == "Route" || h.name == "Record-Route"))
        return fail_with(raw, error{errc::bad_header, "empty element in " + h.name, h.line});
      std::string value(piece);
      if (auto bad = check_header(h.name, value))
        return fail_with(raw, error{errc::bad_header, h.name + ": " + *bad, h.line});
      m.headers.push_back({h.name, std::move(value)});
      if (m.headers.size() > limits.max_headers)
        return fail_with(raw,
                         error{errc::too_many_headers,
                               "more than " + std::to_string(limits.max_headers) + " header fields",
                               h.line});
    }
  }

  // Required headers, once each.
  for (std::string_view name : {"From", "To", "Call-ID", "CSeq"}) {
    const auto n = m.header_count(name);
    if (n == 0) return fail_with(raw, error{errc::missing_header, std::string(name) + " missing"});
    if (n > 1)
      return fail_with(raw, error{errc::duplicate_header,
                                  std::string(name) + " appears " + std::to_string(n) + " times"});
  }
  if (m.header_count("Via") == 0) return fail_with(raw, error{errc::missing_header, "Via missing"});
  if (m.header_count("Max-Forwards") > 1)
    return fail_with(raw, error{errc::duplicate_header, "Max-Forwards appears more than once"});
  const auto cs = m.cseq();
  if (m.is_request() && cs->method != m.method)
    return fail_with(raw,
                     error{errc::method_mismatch, "CSeq method " + cs->method +
                                                      " differs from request method " + m.method});
  if (m.header_count("Contact") > 1) {
    for (const auto& h : m.headers)
      if (h.name == "Contact" && trim(h.value) == "*")
        return fail_with(raw, error{errc::bad_header, "Contact '*' mixed with addresses"});
  }

  // Body.
  const auto available = bytes.size() - std::min(raw.body_offset, bytes.size());
  if (!content_length) {
    if (how == framing::stream)
      return fail_with(
          raw, error{errc::bad_content_length, "Content-Length is required on stream transports"});
    m.body = std::string(bytes.substr(raw.body_offset));
  } else {
    if (*content_length > available)
      return fail_with(raw,
                       error{errc::bad_content_length,
                             "Content-Length " + std::to_string(*content_length) + " but only " +
                                 std::to_string(available) + " body bytes received"});
    if (how == framing::stream && *content_length < available)
      return fail_with(raw, error{errc::bad_content_length,
                                  "Content-Length " + std::to_string(*content_length) + " but " +
                                      std::to_string(available) + " body bytes in the frame"});
    // On UDP, bytes after the body are discarded (section 18.3).
    m.body = std::string(bytes.substr(raw.body_offset, *content_length));
  }
  return m;
}

// --- stream framer -----------------------------------------------------------------------

void stream_framer::append(std::string_view bytes) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

stream_framer::frame stream_framer::next() {
  frame f;
  if (broken_) {
    f.what = kind::error;
    f.error = broken_error_;
    return f;
  }
  auto fail = [&](errc code, std::string msg) {
    broken_ = true;
    broken_error_ = error{code, std::move(msg)};
    f.what = kind::error;
    f.error = broken_error_;
    return f;
  };
  // Keep-alives between messages: CRLFCRLF is a ping, a lone CRLF is skipped.
  while (pos_ < buf_.size() && (buf_[pos_] == '\r' || buf_[pos_] == '\n')) {
    const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    if (rest.substr(0, 4) == "\r\n\r\n") {
      pos_ += 4;
      f.what = kind::ping;
      return f;
    }
    if (rest.size() < 4 && std::string_view("\r\n\r\n").substr(0, rest.size()) == rest)
      return f; // could still become a ping
    pos_ += rest.substr(0, 2) == "\r\n" ? 2 : 1;
  }
  const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  if (rest.empty()) return f;
  // End of headers: the first empty line (CRLFCRLF, tolerating bare LFs).
  std::size_t header_end = std::string_view::npos;
  std::size_t line_start = 0;
  while (true) {
    const auto nl = rest.find('\n', line_start);
    if (nl == std::string_view::npos) break;
    const auto line = rest.substr(line_start, nl - line_start);
    if (line.empty() || line == "\r") {
      header_end = nl + 1;
      break;
    }
    line_start = nl + 1;
  }
  if (header_end == std::string_view::npos) {
    if (rest.size() > limits_.max_message_bytes)
      return fail(errc::message_too_large, "no end of headers within " +
                                               std::to_string(limits_.max_message_bytes) +
                                               " bytes");
    return f;
  }
  // Content-Length (or its compact form l) among the header lines.
  std::optional<std::uint64_t> length;
  std::size_t ls = 0;
  while (ls < header_end) {
    auto nl = rest.find('\n', ls);
    if (nl == std::string_view::npos || nl > header_end) nl = header_end;
    auto line = rest.substr(ls, nl - ls);
    ls = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || is_wsp(line.front())) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
      name.remove_suffix(1);
    if (!iequals(name, "Content-Length") && !iequals(name, "l")) continue;
    const auto v = parse_uint(trim(line.substr(colon + 1)), limits_.max_message_bytes);
    if (!v) return fail(errc::bad_content_length, "unusable Content-Length on a stream");
    if (length && *length != *v)
      return fail(errc::bad_content_length, "conflicting Content-Lengths");
    length = v;
  }
  const auto total = header_end + static_cast<std::size_t>(length.value_or(0));
  if (total > limits_.max_message_bytes)
    return fail(errc::message_too_large, "message of " + std::to_string(total) +
                                             " bytes is over the limit of " +
                                             std::to_string(limits_.max_message_bytes));
  if (rest.size() < total) return f;
  f.what = kind::message;
  f.bytes = std::string(rest.substr(0, total));
  pos_ += total;
  return f;
}

} // namespace gobi::sip
