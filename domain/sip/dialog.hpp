#pragma once

/// SIP dialog state (RFC 3261 section 12): identity (Call-ID, local and remote tags), CSeq
/// numbers, remote target, route set; building in-dialog requests (BYE, re-INVITE, INFO,
/// REFER, the ACK for a 2xx) and checking incoming ones.
///
///   as_uac(1xx with To-tag) --> [early] --2xx--> [confirmed] --BYE sent/received--> [terminated]
///   as_uac(2xx) / as_uas(...) ------------------> [confirmed]
///   early --3xx-6xx--> [terminated]
///
/// Owned by the CALL actor; not thread-safe.

#include "domain/sip/error.hpp"
#include "domain/sip/headers.hpp"
#include "domain/sip/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gobi::sip {

struct dialog_id {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  friend bool operator==(const dialog_id&, const dialog_id&) = default;
  friend auto operator<=>(const dialog_id&, const dialog_id&) = default;
  std::string to_string() const { return call_id + ";" + local_tag + ";" + remote_tag; }
};

/// The id of the dialog an incoming request belongs to (local = To tag, remote = From tag);
/// nullopt when it carries no To tag (not in a dialog).
std::optional<dialog_id> dialog_id_of_request(const message& request);
/// The id of the dialog an incoming response belongs to (local = From tag, remote = To tag).
std::optional<dialog_id> dialog_id_of_response(const message& response);

class dialog {
public:
  enum class state { early, confirmed, terminated };

  /// The UAC side, from our request and a 101-299 response carrying a To tag.
  static result<dialog> as_uac(const message& request, const message& response);
  /// The UAS side, from the received request and the tag and Contact we answer with.
  static result<dialog> as_uas(const message& request, std::string local_tag,
                               name_addr local_contact);

  dialog_id id() const { return {call_id_, local_tag_, remote_tag_}; }
  state current() const noexcept { return state_; }
  bool is_uac() const noexcept { return uac_; }
  const uri& remote_target() const noexcept { return remote_target_; }
  const std::vector<name_addr>& route_set() const noexcept { return route_set_; }
  std::uint32_t local_cseq() const noexcept { return local_cseq_; }
  std::optional<std::uint32_t> remote_cseq() const noexcept { return remote_cseq_; }
  const name_addr& local() const noexcept { return local_; }
  const name_addr& remote() const noexcept { return remote_; }

  /// A response on the dialog-creating transaction (UAC side): 2xx confirms, 3xx-6xx ends an
  /// early dialog; the remote target follows the Contact.
  void on_response(const message& response);

  /// A new in-dialog request with the next local CSeq (not ACK or CANCEL): Request-URI and
  /// Route from the route set (loose or strict routing, 12.2.1.1), our Via and Contact.
  message make_request(std::string_view method, const via& our_via);
  /// The ACK for a 2xx to the INVITE with CSeq `invite_cseq` (13.2.2.4): same CSeq number, a
  /// new branch in `our_via`.
  message make_ack(std::uint32_t invite_cseq, const via& our_via) const;

  /// Checks an incoming in-dialog request (12.2.2): 500 for a CSeq lower than the last one;
  /// updates the remote CSeq and, for re-INVITE/UPDATE, the remote target. Returns the status
  /// to reject with, or 0 to go on.
  int on_request(const message& request);

  void terminate() noexcept { state_ = state::terminated; }

private:
  dialog() = default;
  std::string call_id_;
  std::string local_tag_;
  std::string remote_tag_;
  name_addr local_;  ///< From of our requests
  name_addr remote_; ///< To of our requests
  uri remote_target_;
  std::vector<name_addr> route_set_;
  std::optional<name_addr> local_contact_;
  std::uint32_t local_cseq_ = 0;
  std::optional<std::uint32_t> remote_cseq_;
  state state_ = state::early;
  bool uac_ = true;
};

} // namespace gobi::sip
