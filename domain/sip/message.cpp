#include "domain/sip/message.hpp"

#include "domain/sip/text.hpp"

#include <algorithm>

namespace gobi::sip {

using text::iequals;

namespace {
bool same_name(const std::string& stored, std::string_view canonical) {
  return iequals(stored, canonical);
}
} // namespace

const std::string* message::header(std::string_view name) const {
  const auto canonical = canonical_header_name(name);
  for (const auto& h : headers)
    if (same_name(h.name, canonical)) return &h.value;
  return nullptr;
}

std::vector<std::string> message::header_values(std::string_view name) const {
  const auto canonical = canonical_header_name(name);
  std::vector<std::string> out;
  for (const auto& h : headers)
    if (same_name(h.name, canonical)) out.push_back(h.value);
  return out;
}

std::size_t message::header_count(std::string_view name) const {
  const auto canonical = canonical_header_name(name);
  return static_cast<std::size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const auto& h) { return same_name(h.name, canonical); }));
}

void message::add_header(std::string_view name, std::string value) {
  headers.push_back({canonical_header_name(name), std::move(value)});
}

void message::push_front_header(std::string_view name, std::string value) {
  const auto canonical = canonical_header_name(name);
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return same_name(h.name, canonical); });
  headers.insert(it, {canonical, std::move(value)});
}

void message::set_header(std::string_view name, std::string value) {
  const auto canonical = canonical_header_name(name);
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return same_name(h.name, canonical); });
  if (it == headers.end()) {
    headers.push_back({canonical, std::move(value)});
    return;
  }
  it->value = std::move(value);
  const auto keep = static_cast<std::size_t>(it - headers.begin());
  std::size_t i = 0;
  std::erase_if(headers, [&](const auto& h) {
    const bool drop = i != keep && same_name(h.name, canonical);
    ++i;
    return drop;
  });
}

std::size_t message::remove_header(std::string_view name) {
  const auto canonical = canonical_header_name(name);
  return std::erase_if(headers, [&](const auto& h) { return same_name(h.name, canonical); });
}

namespace {
error missing(std::string_view name) {
  return error{errc::missing_header, std::string(name) + " missing"};
}
} // namespace

result<std::vector<via>> message::vias() const {
  std::vector<via> out;
  for (const auto& h : headers)
    if (same_name(h.name, "Via")) {
      auto v = parse_via(h.value);
      if (!v) return std::move(v).err();
      out.push_back(std::move(*v));
    }
  if (out.empty()) return missing("Via");
  return out;
}

result<via> message::top_via() const {
  const auto* v = header("Via");
  if (!v) return missing("Via");
  return parse_via(*v);
}

result<name_addr> message::from() const {
  const auto* v = header("From");
  if (!v) return missing("From");
  return parse_name_addr(*v);
}

result<name_addr> message::to() const {
  const auto* v = header("To");
  if (!v) return missing("To");
  return parse_name_addr(*v);
}

result<std::string> message::call_id() const {
  const auto* v = header("Call-ID");
  if (!v) return missing("Call-ID");
  return *v;
}

result<sip::cseq> message::cseq() const {
  const auto* v = header("CSeq");
  if (!v) return missing("CSeq");
  return parse_cseq(*v);
}

result<contact_list> message::contacts() const {
  contact_list out;
  for (const auto& h : headers)
    if (same_name(h.name, "Contact")) {
      if (text::trim(h.value) == "*") {
        out.wildcard = true;
        continue;
      }
      auto na = parse_name_addr(h.value);
      if (!na) return std::move(na).err();
      out.contacts.push_back(std::move(*na));
    }
  return out;
}

namespace {
result<std::vector<name_addr>> addresses(const message& m, std::string_view name) {
  std::vector<name_addr> out;
  for (const auto& h : m.headers)
    if (same_name(h.name, name)) {
      auto na = parse_name_addr(h.value);
      if (!na) return std::move(na).err();
      out.push_back(std::move(*na));
    }
  return out;
}
} // namespace

result<std::vector<name_addr>> message::routes() const {
  return addresses(*this, "Route");
}
result<std::vector<name_addr>> message::record_routes() const {
  return addresses(*this, "Record-Route");
}

std::optional<int> message::max_forwards() const {
  const auto* v = header("Max-Forwards");
  if (!v) return std::nullopt;
  const auto n = text::parse_uint(text::trim(*v), 255);
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

std::string message::transaction_method() const {
  if (is_request()) return method;
  auto c = cseq();
  return c ? c->method : std::string();
}

std::string message::to_string() const {
  std::string out;
  std::size_t size = 64 + body.size();
  for (const auto& h : headers)
    size += h.name.size() + h.value.size() + 4;
  out.reserve(size);
  if (is_request()) {
    out += method;
    out += ' ';
    out += request_uri.to_string();
    out += " SIP/2.0\r\n";
  } else {
    out += "SIP/2.0 ";
    out += std::to_string(status);
    out += ' ';
    out += reason;
    out += "\r\n";
  }
  for (const auto& h : headers) {
    if (iequals(h.name, "Content-Length")) continue;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
  case 100:
    return "Trying";
  case 180:
    return "Ringing";
  case 181:
    return "Call Is Being Forwarded";
  case 182:
    return "Queued";
  case 183:
    return "Session Progress";
  case 200:
    return "OK";
  case 202:
    return "Accepted";
  case 300:
    return "Multiple Choices";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Moved Temporarily";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 407:
    return "Proxy Authentication Required";
  case 408:
    return "Request Timeout";
  case 410:
    return "Gone";
  case 413:
    return "Request Entity Too Large";
  case 415:
    return "Unsupported Media Type";
  case 416:
    return "Unsupported URI Scheme";
  case 420:
    return "Bad Extension";
  case 480:
    return "Temporarily Unavailable";
  case 481:
    return "Call/Transaction Does Not Exist";
  case 482:
    return "Loop Detected";
  case 483:
    return "Too Many Hops";
  case 484:
    return "Address Incomplete";
  case 486:
    return "Busy Here";
  case 487:
    return "Request Terminated";
  case 488:
    return "Not Acceptable Here";
  case 491:
    return "Request Pending";
  case 500:
    return "Server Internal Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Server Time-out";
  case 505:
    return "Version Not Supported";
  case 513:
    return "Message Too Large";
  case 600:
    return "Busy Everywhere";
  case 603:
    return "Decline";
  case 604:
    return "Does Not Exist Anywhere";
  case 606:
    return "Not Acceptable";
  default:
    return "";
  }
}

} // namespace gobi::sip
