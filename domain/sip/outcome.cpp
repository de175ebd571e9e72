#include "domain/sip/outcome.hpp"

namespace gobi::sip {

const char* to_string(redial r) noexcept {
  switch (r) {
  case redial::safe:
    return "safe";
  case redial::unsafe:
    return "unsafe";
  case redial::futile:
    return "futile";
  }
  return "unsafe";
}

call_verdict verdict_for_response(int status, cancel_reason cancelled) {
  call_verdict v;
  v.sip_status = status;
  if (status >= 200 && status < 300) {
    v.outcome = call_outcome::answered;
    v.redial = redial::unsafe;
    v.reason = "answered";
    return v;
  }
  v.redial = redial::safe; // a definitive final response: nothing is up
  switch (status) {
  case 486:
  case 600:
    v.outcome = call_outcome::busy;
    v.reason = "busy";
    return v;
  case 408:
  case 480:
    v.outcome = call_outcome::no_answer;
    v.reason = "no answer";
    return v;
  case 487:
    if (cancelled == cancel_reason::ring_timeout) {
      v.outcome = call_outcome::no_answer;
      v.reason = "no answer (ring timeout)";
    } else if (cancelled == cancel_reason::hangup) {
      v.outcome = call_outcome::cancelled;
      v.reason = "cancelled";
    } else {
      v.outcome = call_outcome::failed; // terminated by someone else
      v.reason = "request terminated";
    }
    return v;
  case 404:
  case 410:
  case 484:
  case 604:
    v.outcome = call_outcome::rejected;
    v.redial = redial::futile;
    v.reason = "number does not exist";
    return v;
  case 403:
  case 603:
  case 606:
    v.outcome = call_outcome::rejected;
    v.reason = "declined";
    return v;
  default:
    break;
  }
  v.outcome = call_outcome::failed;
  if (status >= 300 && status < 400)
    v.reason = "redirected (not followed)";
  else if (status >= 500 && status < 600)
    v.reason = "server failure";
  else
    v.reason = "request failed";
  return v;
}

call_verdict verdict_for_no_response(invite_progress progress, bool transport_error,
                                     cancel_reason cancelled) {
  call_verdict v;
  v.sip_status = 0;
  v.outcome = call_outcome::failed;
  if (progress == invite_progress::not_sent) {
    v.redial = redial::safe;
    v.reason = transport_error ? "transport error before sending" : "not sent";
    return v;
  }
  v.redial = redial::unsafe;
  if (cancelled != cancel_reason::none && progress == invite_progress::provisional_received) {
    // our CANCEL got no 487: it was ringing and we gave up; still ambiguous
    v.outcome = cancelled == cancel_reason::ring_timeout ? call_outcome::no_answer
                                                         : call_outcome::cancelled;
  }
  v.reason = std::string(transport_error ? "transport error" : "timeout") +
             (progress == invite_progress::provisional_received ? " after a provisional response"
                                                                : " with no response") +
             " (ambiguous)";
  return v;
}

} // namespace gobi::sip
