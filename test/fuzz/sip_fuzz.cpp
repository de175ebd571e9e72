// libFuzzer target: the SIP parser, stream framer, typed header views, builders and digest
// parsing. Properties checked beyond "no crash": a parsed message serialises to text that
// parses again to the same headers and body; a failure that claims to be answerable has the
// headers a response needs.

#include "domain/sip/builder.hpp"
#include "domain/sip/digest.hpp"
#include "domain/sip/parser.hpp"
#include "domain/sip/transaction.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace gobi::sip;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

void exercise(const message& m) {
  (void)m.vias();
  (void)m.contacts();
  (void)m.routes();
  (void)m.record_routes();
  (void)m.max_forwards();
  (void)server_key(m);
  for (const char* h : {"WWW-Authenticate", "Proxy-Authenticate"})
    for (const auto& v : m.header_values(h))
      (void)parse_challenge(v);
  for (const char* h : {"Authorization", "Proxy-Authorization"})
    for (const auto& v : m.header_values(h))
      (void)parse_authorization(v);
  if (m.is_request()) {
    const auto r = make_response(m, 200, "fuzz");
    check(parse_message(r.to_string()).ok());
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (auto how : {framing::datagram, framing::stream}) {
    auto r = parse_message(bytes, how);
    if (r) {
      exercise(*r);
      const auto wire = r->to_string();
      auto again = parse_message(wire, framing::stream);
      check(again.ok());
      check(again->headers == r->headers);
      check(again->body == r->body);
    } else if (r.err().error.answerable()) {
      check(r.err().partial.has_value());
      const auto resp = make_error_response(r.err(), "fuzz");
      check(resp.has_value());
      check(parse_message(resp->to_string()).ok());
    }
  }
  // the framer, fed in two pieces
  stream_framer fr;
  const auto cut = size / 2;
  fr.append(bytes.substr(0, cut));
  for (int round = 0; round < 2; ++round) {
    for (auto f = fr.next(); f.what != stream_framer::kind::need_more; f = fr.next()) {
      if (f.what == stream_framer::kind::error) break;
      if (f.what == stream_framer::kind::message) (void)parse_message(f.bytes, framing::stream);
    }
    if (round == 0) fr.append(bytes.substr(cut));
  }
  return 0;
}
