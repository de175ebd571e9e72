#pragma once

/// Building SIP messages: responses from requests (RFC 3261 section 8.2.6), requests outside
/// a dialog (section 8.1.1), the ACK for a non-2xx final response (17.1.1.3) and CANCEL (9.1).
/// In-dialog requests (BYE, re-INVITE, ACK for 2xx) come from `dialog`.
///
/// Random parts (tags, branches, Call-IDs) are arguments; `random_token()` makes them.

#include "domain/sip/headers.hpp"
#include "domain/sip/message.hpp"
#include "domain/sip/parser.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip {

/// `bytes` random bytes as lower-case hex (libsodium's generator).
std::string random_token(std::size_t bytes = 8);
/// "z9hG4bK" + token: a branch that marks itself as RFC 3261 unique.
std::string make_branch(std::string_view token);

/// A response to `request`: copies every Via (in order), From, To, Call-ID, CSeq (and the
/// Record-Route fields for 101-299 answers to dialog-creating requests, and Timestamp for 100);
/// adds `to_tag` to To when To has no tag and the status is above 100. `reason` defaults to
/// the standard phrase.
message make_response(const message& request, int status, std::string_view to_tag = {},
                      std::string_view reason = {});

/// The response answering a failed parse (400, 505 or 513, reason = what was wrong), or
/// nullopt when the input must be dropped.
std::optional<message> make_error_response(const parse_failure& failure, std::string_view to_tag);

/// What a request outside a dialog (or the first of one) is made of.
struct request_spec {
  std::string method;
  sip::uri request_uri;
  name_addr from; ///< must carry a tag
  name_addr to;   ///< no tag outside a dialog
  std::string call_id;
  std::uint32_t cseq = 1;
  sip::via via; ///< our transport and sent-by, branch set (see make_branch), rport asked
  std::optional<name_addr> contact;
  std::vector<name_addr> route; ///< pre-loaded route set (e.g. an outbound proxy with ;lr)
  int max_forwards = 70;
  std::string content_type; ///< with body
  std::string body;
  std::vector<header_field> extra; ///< User-Agent, Allow, Supported, Authorization, ...
};
message make_request(const request_spec& spec);

/// The ACK a client INVITE transaction sends for a 300-699 response: same Request-URI,
/// Call-ID, From, CSeq number and top Via as the INVITE, To from the response, Route from the
/// INVITE.
message make_ack_for_failure(const message& invite, const message& response);

/// CANCEL for a pending INVITE: same Request-URI, Call-ID, From, To, CSeq number, Route and a
/// single Via equal to the INVITE's top Via (same branch), Max-Forwards 70.
message make_cancel(const message& invite, std::string_view reason_header = {});

} // namespace gobi::sip
