#pragma once

/// The SIP transaction layer (RFC 3261 section 17) of SIP_ENDPOINT as a plain class: the
/// table of client and server transactions, their timers, the matching of requests,
/// responses, ACKs and CANCELs to them, and where each message goes. It owns the four
/// transaction machines of domain/sip/transaction.hpp and carries out their actions, except
/// those that leave the layer: sends and TU events are appended to an `output` the owner
/// (the SIP_ENDPOINT actor) carries out. Time comes in as an argument; the owner calls
/// `on_timers` when `next_timer()` is due.
///
///   network -> on_message --+-- request, new      -> server txn start -> event request
///                           |-- request, retrans  -> server txn       -> (resend)
///                           |-- ACK for 2xx       -> server txn       -> event ack
///                           |-- ACK for non-2xx   -> server txn       -> (absorbed)
///                           |-- CANCEL            -> 200, INVITE 487  -> event cancelled
///                           |-- response          -> client txn       -> event response
///                           `-- response, stray   ->                  -> event stray_response
///   TU -> respond(key, msg) -> server txn -> send
///   TU -> request(msg, to)  -> client txn -> send; later events response / client_failed
///
/// Owned by one actor; not thread-safe.

#include "domain/sip/message.hpp"
#include "domain/sip/transaction.hpp"
#include "transport/sip/transport.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace gobi::actors::sip_layer {

using sip::millis;

/// A new request for the TU (not ACK, not CANCEL): `key` names its server transaction,
/// to answer through `respond`.
struct request_event {
  std::string key;
  sip::message msg;
  sip::peer from;
};
/// An ACK for a 2xx (RFC 3261 13.3.1.4: a transaction of its own, straight to the TU).
struct ack_event {
  sip::message msg;
  sip::peer from;
};
/// A CANCEL matched a pending INVITE: the layer answered the CANCEL with 200 and the INVITE
/// with 487 (when it was still proceeding). `invite_key` is the INVITE's server transaction.
struct cancelled_event {
  std::string invite_key;
  std::string call_id;
};
/// A response to a client transaction the TU started (`key` as `request` returned it).
struct response_event {
  std::string key;
  sip::message msg;
};
/// A response no transaction matches: a 2xx retransmission for an INVITE whose transaction
/// ended (the dialog must ACK it again), or junk.
struct stray_response_event {
  sip::message msg;
  sip::peer from;
};
/// A client transaction ended without a final response (timeout or transport error).
struct client_failed_event {
  std::string key;
  std::string method;
  std::string call_id;
  sip::termination reason = sip::termination::timeout;
  bool provisional_seen = false;
};
/// A server INVITE transaction ended badly: no ACK for the 2xx (timer L) or for the final
/// non-2xx (timer H), or the transport failed.
struct server_failed_event {
  std::string key;
  std::string call_id;
  sip::termination reason = sip::termination::timeout;
  int final_status = 0;
};

using event = std::variant<request_event, ack_event, cancelled_event, response_event,
                           stray_response_event, client_failed_event, server_failed_event>;

struct send_item {
  sip::peer to;
  std::string bytes;
};

/// What one call into the layer produced, in order.
struct output {
  std::vector<send_item> sends;
  std::vector<event> events;
  void clear() {
    sends.clear();
    events.clear();
  }
};

struct layer_stats {
  std::uint64_t server_started = 0, client_started = 0;
  std::uint64_t retransmissions_absorbed = 0;
  std::uint64_t stray_responses = 0, stray_acks = 0;
  std::uint64_t timeouts = 0;
};

/// The Call-ID of a message ("" when it has none).
std::string call_id_of(const sip::message& m);

class transaction_layer {
public:
  explicit transaction_layer(sip::timer_config cfg = {});
  ~transaction_layer();
  transaction_layer(const transaction_layer&) = delete;
  transaction_layer& operator=(const transaction_layer&) = delete;

  /// A message from the transport (requests already stamped with received/rport).
  void on_message(sip::message msg, const sip::peer& from, millis now, output& out);

  /// The TU answers the server transaction `key`. False when it is gone (cancelled, timed
  /// out): the answer is dropped.
  bool respond(const std::string& key, sip::message response, millis now, output& out);

  /// Starts a client transaction for `request` (its top Via carries our branch) sent to
  /// `to`. Answers its key, or the error when the request has no usable Via.
  result<std::string> request(sip::message request, const sip::peer& to, millis now, output& out);

  /// The TU sent a CANCEL for the client INVITE `invite_key` (9.1): bounds the wait.
  void cancel_sent(const std::string& invite_key, millis now, output& out);

  /// Sends outside any transaction (the ACK for a 2xx, stateless rejections).
  void send_stateless(const sip::message& msg, const sip::peer& to, output& out);

  /// The transport could not deliver to `to`: fails the transactions sending there.
  void on_transport_error(const sip::peer& to, millis now, output& out);

  /// Fires every timer due at `now`.
  void on_timers(millis now, output& out);
  /// When the earliest armed timer is due (nullopt: none).
  std::optional<millis> next_timer() const;

  std::size_t server_transactions() const noexcept;
  std::size_t client_transactions() const noexcept;
  const layer_stats& stats() const noexcept { return stats_; }

  /// Where a response to a request that arrived from `from` goes: over UDP per the top Via
  /// (18.2.2), over TCP back on the connection.
  static sip::peer response_target(const sip::message& request, const sip::peer& from);

private:
  struct server_txn;
  struct client_txn;
  void apply_server(const std::string& key, sip::actions acts, output& out);
  void apply_client(const std::string& key, sip::actions acts, output& out);
  void arm(bool server, const std::string& key, sip::timer_id id, millis at);

  sip::timer_config cfg_;
  std::map<std::string, std::unique_ptr<server_txn>> servers_;
  std::map<std::string, std::unique_ptr<client_txn>> clients_;
  /// The latest INVITE server transaction of each Call-ID: where the ACK for a 2xx goes.
  std::unordered_map<std::string, std::string> invite_by_call_;
  struct timer_entry {
    millis at;
    bool server;
    std::string key;
    sip::timer_id id;
    bool operator>(const timer_entry& o) const { return at > o.at; }
  };
  std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>> timers_;
  layer_stats stats_;
};

} // namespace gobi::actors::sip_layer
