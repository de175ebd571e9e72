#include "domain/sip/builder.hpp"

#include "domain/sip/text.hpp"

#include <sodium.h>

namespace gobi::sip {

std::string random_token(std::size_t bytes) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string make_branch(std::string_view token) {
  return std::string(branch_cookie) + std::string(token);
}

message make_response(const message& request, int status, std::string_view to_tag,
                      std::string_view reason) {
  message r;
  r.status = status;
  r.reason = reason.empty() ? std::string(reason_phrase(status)) : std::string(reason);
  for (const auto& h : request.headers) {
    if (h.name == "Via" || h.name == "From" || h.name == "Call-ID" || h.name == "CSeq") {
      r.headers.push_back(h);
    } else if (h.name == "To") {
      auto to = parse_name_addr(h.value);
      if (to && to->tag().empty() && status > 100 && !to_tag.empty()) {
        // keep the caller's text, append the tag
        r.headers.push_back({"To", h.value + ";tag=" + std::string(to_tag)});
      } else {
        r.headers.push_back(h);
      }
    } else if (h.name == "Record-Route" && status > 100 && status < 300) {
      r.headers.push_back(h);
    } else if (h.name == "Timestamp" && status == 100) {
      r.headers.push_back(h);
    }
  }
  return r;
}

std::optional<message> make_error_response(const parse_failure& failure, std::string_view to_tag) {
  if (!failure.error.answerable() || !failure.partial) return std::nullopt;
  std::string reason(reason_phrase(failure.error.response_status));
  // The reason phrase says what was wrong; keep it printable and on one line.
  std::string detail;
  for (char c : failure.error.message) {
    const auto u = static_cast<unsigned char>(c);
    detail += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (!detail.empty()) reason += " (" + detail + ")";
  return make_response(*failure.partial, failure.error.response_status, to_tag, reason);
}

message make_request(const request_spec& spec) {
  message m;
  m.method = spec.method;
  m.request_uri = spec.request_uri;
  m.add_header("Via", spec.via.to_string());
  m.add_header("Max-Forwards", std::to_string(spec.max_forwards));
  for (const auto& r : spec.route)
    m.add_header("Route", r.to_string());
  m.add_header("From", spec.from.to_string());
  m.add_header("To", spec.to.to_string());
  m.add_header("Call-ID", spec.call_id);
  m.add_header("CSeq", std::to_string(spec.cseq) + " " + spec.method);
  if (spec.contact) m.add_header("Contact", spec.contact->to_string());
  for (const auto& h : spec.extra)
    m.add_header(h.name, h.value);
  if (!spec.body.empty()) {
    m.add_header("Content-Type", spec.content_type);
    m.body = spec.body;
  }
  return m;
}

message make_ack_for_failure(const message& invite, const message& response) {
  message ack;
  ack.method = "ACK";
  ack.request_uri = invite.request_uri;
  if (const auto* v = invite.header("Via")) ack.add_header("Via", *v);
  ack.add_header("Max-Forwards", "70");
  for (const auto& r : invite.header_values("Route"))
    ack.add_header("Route", r);
  if (const auto* f = invite.header("From")) ack.add_header("From", *f);
  if (const auto* t = response.header("To")) ack.add_header("To", *t);
  if (const auto* c = invite.header("Call-ID")) ack.add_header("Call-ID", *c);
  const auto cs = invite.cseq();
  ack.add_header("CSeq", std::to_string(cs ? cs->number : 0) + " ACK");
  return ack;
}

message make_cancel(const message& invite, std::string_view reason_header) {
  message c;
  c.method = "CANCEL";
  c.request_uri = invite.request_uri;
  if (const auto* v = invite.header("Via")) c.add_header("Via", *v);
  c.add_header("Max-Forwards", "70");
  for (const auto& r : invite.header_values("Route"))
    c.add_header("Route", r);
  if (const auto* f = invite.header("From")) c.add_header("From", *f);
  if (const auto* t = invite.header("To")) c.add_header("To", *t);
  if (const auto* id = invite.header("Call-ID")) c.add_header("Call-ID", *id);
  const auto cs = invite.cseq();
  c.add_header("CSeq", std::to_string(cs ? cs->number : 0) + " CANCEL");
  if (!reason_header.empty()) c.add_header("Reason", std::string(reason_header));
  return c;
}

} // namespace gobi::sip
