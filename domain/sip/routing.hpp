#pragma once

/// Where SIP messages go, for the transport: stamping `received`/`rport` on the top Via of an
/// incoming request (RFC 3261 18.2.1, RFC 3581) and choosing where a response is sent over an
/// unreliable transport (18.2.2). Over TCP responses go back on the request's connection.

#include "domain/sip/headers.hpp"
#include "domain/sip/message.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace gobi::sip {

/// Adds received=<source_ip> when the top Via's host differs from it, and fills in rport when
/// the client asked for it. Does nothing to a message without a usable top Via.
void stamp_received(message& request, std::string_view source_ip, std::uint16_t source_port);

struct destination {
  std::string host;
  std::uint16_t port = 5060;
};

/// maddr if present, else received (with rport's port when given), else sent-by; the port
/// defaults to 5060 (5061 for TLS).
destination response_destination(const via& top);

} // namespace gobi::sip
