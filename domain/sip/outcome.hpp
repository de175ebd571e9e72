#pragma once

/// Call outcomes: how a final SIP answer (or its absence) becomes the verdict a campaign's
/// retry policy acts on, and whether redialling is safe.
///
/// The rule that matters: once an INVITE went out, a failure without a definitive final
/// response (timeout, transport error after sending, no answer to our CANCEL) is ambiguous:
/// the callee may have answered or may still be ringing, so it is never redialled.

#include "domain/model.hpp"

#include <string>

namespace gobi::sip {

/// The call record's outcome (domain/model.hpp; its names: to_string, parse_call_outcome).
using gobi::call_outcome;

enum class redial {
  safe,   ///< nothing was established: a retry per policy cannot double-call
  unsafe, ///< ambiguous (or answered): never redial
  futile, ///< definitive "this number will not work" (404, 410, 484, 604): do not bother
};
const char* to_string(redial r) noexcept;

/// Why we cancelled a pending INVITE, which decides what a 487 means.
enum class cancel_reason { none, ring_timeout, hangup };

struct call_verdict {
  call_outcome outcome = call_outcome::failed;
  sip::redial redial = redial::unsafe;
  int sip_status = 0; ///< final status, 0 when none arrived
  std::string reason; ///< short text for logs and the CDR
};

/// The verdict for a final response to our INVITE.
call_verdict verdict_for_response(int status, cancel_reason cancelled = cancel_reason::none);

/// How far the INVITE got before the failure.
enum class invite_progress { not_sent, sent, provisional_received };

/// The verdict when no final response arrived: a timeout or transport error.
call_verdict verdict_for_no_response(invite_progress progress, bool transport_error,
                                     cancel_reason cancelled = cancel_reason::none);

} // namespace gobi::sip
