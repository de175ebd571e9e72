#pragma once

/// The four RFC 3261 section 17 transaction state machines (with the RFC 6026 "Accepted"
/// states for 2xx to INVITE) as pure classes: each consumes events (start, message received,
/// timer fired, TU response, transport error) with the current time, and returns actions
/// (send this message, start or stop timer X at time t, deliver to the TU, terminated with a
/// verdict). No clock, socket or thread: the owner (the SIP endpoint actor) carries the
/// actions out and calls `on_timer` when a timer it was asked to start expires. Timers that
/// were stopped or restarted are ignored if they fire late, so the owner need not cancel them.
///
/// Reliable transports (TCP) have no retransmission timers and zero-length wait states
/// (D, I, J, K), as section 17 says. Owned by one actor; not thread-safe.
///
/// Matching (17.1.3, 17.2.3): `client_key` / `server_key` give the key a transaction table
/// looks up; a CANCEL is matched to its INVITE with `cancel_target`.

#include "domain/sip/error.hpp"
#include "domain/sip/message.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gobi::sip {

/// Milliseconds since an epoch the owner chooses; only differences matter.
using millis = std::chrono::milliseconds;

/// The RFC timers; two_xx is the UAS core's 2xx retransmission (13.3.1.4), kept in the server
/// INVITE machine's Accepted state; L and M are RFC 6026's.
enum class timer_id { A, B, D, E, F, G, H, I, J, K, L, M, two_xx, cancel_guard };
const char* to_string(timer_id t) noexcept;

struct timer_config {
  millis t1{500};
  millis t2{4000};
  millis t4{5000};
  millis timer_d{32000}; ///< unreliable transports (at least 32 s)
};

enum class transport_reliability { unreliable, reliable };

/// Why a transaction ended: the verdict it hands to the TU.
enum class termination {
  completed,       ///< normal end (final response seen / sent and absorbed)
  timeout,         ///< B, F, H, L (no ACK for 2xx) or the CANCEL guard fired
  transport_error, ///< the transport reported the peer unreachable
};
const char* to_string(termination t) noexcept;

struct send_message {
  message msg;
};
struct start_timer {
  timer_id timer;
  millis at;
};
struct stop_timer {
  timer_id timer;
};
struct deliver {
  message msg;
};
struct terminated {
  termination reason = termination::completed;
  int final_status = 0;          ///< last final response sent or received (0 = none)
  bool provisional_seen = false; ///< client INVITE: a 1xx arrived before the end
};
using action = std::variant<send_message, start_timer, stop_timer, deliver, terminated>;
using actions = std::vector<action>;

/// Common timer bookkeeping.
class transaction_timers {
protected:
  void arm(actions& out, timer_id t, millis at);
  void disarm(actions& out, timer_id t);
  void disarm_all(actions& out);
  /// True (and disarms) when `t` is armed and due at `now`.
  bool fire(timer_id t, millis now);
  std::array<std::optional<millis>, 14> armed_{};
};

/// Client INVITE transaction (17.1.1, RFC 6026).
///
///                  start: send INVITE, start A (unreliable), B
///                          |
///     A: resend, A*=2      v            B or transport error: terminated(timeout)
///        +------------ [calling] ------------------------------------------------> (end)
///        +----------->  |  |   \ 1xx: deliver, stop A
///                       |  |    v
///                       |  |  [proceeding] <-- 1xx: deliver
///                       |  |   |     |     cancel_sent: start cancel_guard (64*T1)
///                       |  |   |     |     cancel_guard: terminated(timeout)
///          300-699:     |  |   |     | 2xx (from calling or proceeding):
///          send ACK,    |  |   |     | deliver, start M
///          deliver,     |  |   |     v
///          start D      v  v   v   [accepted] -- 2xx: deliver (the TU ACKs it again)
///                     [completed]      | M: terminated(completed)
///  300-699 again: resend ACK |          v
///                       D: terminated(completed)
class client_invite_transaction : transaction_timers {
public:
  enum class state { calling, proceeding, completed, accepted, terminated };

  client_invite_transaction(message invite, transport_reliability r, timer_config cfg = {});
  actions start(millis now);
  actions on_response(const message& response, millis now);
  actions on_timer(timer_id t, millis now);
  actions on_transport_error(millis now);
  /// The TU sent a CANCEL for this INVITE: bounds the wait for the final response (9.1).
  actions on_cancel_sent(millis now);

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return invite_; }
  bool provisional_seen() const noexcept { return provisional_seen_; }

private:
  actions terminate(actions out, termination why);
  message invite_;
  transport_reliability reliability_;
  timer_config cfg_;
  state state_ = state::calling;
  millis a_interval_{0};
  std::optional<message> ack_;
  int final_status_ = 0;
  bool provisional_seen_ = false;
};

/// Client non-INVITE transaction (17.1.2).
///
///    start: send, start E (unreliable), F
///                 |
///   E: resend,    v      1xx: deliver             E: resend, E = T2
///   E=min(2E,T2) [trying] ---------------> [proceeding] <--+ 1xx: deliver
///                 |  \  F or transport error: terminated(timeout / transport_error)
///                 |   +-----------------------------+
///    200-699:     v            200-699: deliver      v
///    deliver,  [completed] <------------------- (from proceeding)
///    start K      | K (T4 unreliable, 0 reliable): terminated(completed)
///                 v
class client_non_invite_transaction : transaction_timers {
public:
  enum class state { trying, proceeding, completed, terminated };

  client_non_invite_transaction(message request, transport_reliability r, timer_config cfg = {});
  actions start(millis now);
  actions on_response(const message& response, millis now);
  actions on_timer(timer_id t, millis now);
  actions on_transport_error(millis now);

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return request_; }

private:
  actions terminate(actions out, termination why);
  message request_;
  transport_reliability reliability_;
  timer_config cfg_;
  state state_ = state::trying;
  millis e_interval_{0};
  int final_status_ = 0;
};

/// Server INVITE transaction (17.2.1, RFC 6026), with the UAS core's 2xx retransmission
/// (13.3.1.4) on unreliable transports.
///
///   start(INVITE): deliver to TU, send 100 Trying
///                 |
///                 v   INVITE again: resend last provisional; TU 1xx: send
///           [proceeding] ------------------------------------------+
///            |         \ TU 2xx: send, start two_xx (unreliable), L |
///   TU 300-699: send,   v                                           |
///   start G (unrel.), H [accepted] -- INVITE again / two_xx: resend 2xx (two_xx doubles to T2)
///            |           |  on_ack_for_2xx: stop two_xx
///            v           |  L: terminated(completed if ACKed, else timeout)
///      [completed] -- INVITE again or G: resend final (G doubles to T2)
///            | ACK: start I (T4 unreliable, 0 reliable)   H: terminated(timeout)
///            v
///      [confirmed] -- ACK again: absorbed;  I: terminated(completed)
class server_invite_transaction : transaction_timers {
public:
  enum class state { proceeding, completed, confirmed, accepted, terminated };

  server_invite_transaction(message invite, transport_reliability r, timer_config cfg = {});
  actions start(millis now);
  /// A retransmitted INVITE or an ACK matching this transaction.
  actions on_request(const message& request, millis now);
  /// The TU responds (1xx-6xx).
  actions on_tu_response(message response, millis now);
  actions on_timer(timer_id t, millis now);
  actions on_transport_error(millis now);
  /// The ACK for our 2xx reached the dialog (it is a separate transaction): stop resending.
  actions on_ack_for_2xx(millis now);
  /// A CANCEL matched this INVITE: answers 487 when still proceeding (the caller answers the
  /// CANCEL itself with 200). Returns no actions when a final response was already sent.
  actions on_cancel(std::string_view to_tag, millis now);

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return invite_; }

private:
  actions terminate(actions out, termination why);
  message invite_;
  transport_reliability reliability_;
  timer_config cfg_;
  state state_ = state::proceeding;
  std::optional<message> last_response_;
  millis g_interval_{0};
  bool acked_ = false;
};

/// Server non-INVITE transaction (17.2.2).
///
///   start(request): deliver to TU
///          |
///          v      request again: absorbed       TU 1xx: send
///      [trying] -------------------------> [proceeding] -- request again: resend 1xx
///          |  TU 200-699: send, start J          | TU 200-699: send, start J
///          v                                     v
///      [completed] <-----------------------------+
///          |  request again: resend final
///          |  J (64*T1 unreliable, 0 reliable): terminated(completed)
///          v
class server_non_invite_transaction : transaction_timers {
public:
  enum class state { trying, proceeding, completed, terminated };

  server_non_invite_transaction(message request, transport_reliability r, timer_config cfg = {});
  actions start(millis now);
  actions on_request(const message& retransmission, millis now);
  actions on_tu_response(message response, millis now);
  actions on_timer(timer_id t, millis now);
  actions on_transport_error(millis now);

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return request_; }

private:
  actions terminate(actions out, termination why);
  message request_;
  transport_reliability reliability_;
  timer_config cfg_;
  state state_ = state::trying;
  std::optional<message> last_response_;
};

/// The key a transaction table uses. For RFC 3261 branches: branch, sent-by and method (ACK
/// counts as INVITE for the server side). For RFC 2543 peers (no magic cookie) a key built
/// from Request-URI, From tag, Call-ID, CSeq number and top Via, as 17.2.3 describes.
struct transaction_key {
  std::string branch;
  std::string sent_by;
  std::string method;
  friend bool operator==(const transaction_key&, const transaction_key&) = default;
  friend auto operator<=>(const transaction_key&, const transaction_key&) = default;
  std::string to_string() const { return branch + "|" + sent_by + "|" + method; }
};
/// Key of the server transaction a request belongs to.
result<transaction_key> server_key(const message& request);
/// Key of the client transaction a response belongs to (branch + CSeq method).
result<transaction_key> client_key(const message& response);
/// Key of a request we send (branch + method), to register the client transaction.
result<transaction_key> client_key_for_request(const message& request);
/// The INVITE server transaction a CANCEL's key points at.
transaction_key cancel_target(transaction_key cancel_key);

} // namespace gobi::sip
