#pragma once

/// Typed SIP header values (RFC 3261 section 20/25): name-addr (From, To, Contact, Route,
/// Record-Route), Via, CSeq, and the canonical/compact header names. Each type parses from
/// and writes to one header value.

#include "domain/sip/error.hpp"
#include "domain/sip/uri.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip {

/// The long form of a header name: compact forms expanded (i -> Call-ID, v -> Via, ...) and
/// well-known names in their usual capitalisation ("call-id" -> "Call-ID"); unknown names are
/// returned as given.
std::string canonical_header_name(std::string_view name);
/// True for headers whose value is a comma-separated list that the parser splits into one
/// header field per element (Via, Route, Record-Route, Contact, Allow, Supported, ...).
bool is_list_header(std::string_view canonical_name) noexcept;

/// `"Display Name" <uri>;params` or `uri;params` (addr-spec form: the params belong to the
/// header, not the URI).
struct name_addr {
  std::string display_name; ///< unquoted; empty when absent
  sip::uri uri;
  sip::params params; ///< header parameters (tag, expires, q, lr lives in the URI)

  std::string tag() const;
  void set_tag(std::string tag) { set_param(params, "tag", std::move(tag)); }
  /// Always written in name-addr form (`<...>`).
  std::string to_string() const;
  friend bool operator==(const name_addr&, const name_addr&) = default;
};
result<name_addr> parse_name_addr(std::string_view value);

/// A Contact header field: either `*` or a list of addresses.
struct contact_list {
  bool wildcard = false;
  std::vector<name_addr> contacts;
};

/// `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=...;rport`
struct via {
  std::string protocol = "SIP/2.0";
  std::string transport = "UDP"; ///< upper case
  std::string host;
  std::optional<std::uint16_t> port;
  sip::params params;

  std::string branch() const;
  std::optional<std::string> received() const;
  /// nullopt: no rport; 0: rport without a value (a request asking for it); else the port.
  std::optional<std::uint16_t> rport() const;
  /// "host[:port]" lower-cased, as compared by transaction matching.
  std::string sent_by() const;
  std::string to_string() const;
};
result<via> parse_via(std::string_view value);

/// The RFC 3261 magic cookie that marks a branch as unique per transaction.
inline constexpr std::string_view branch_cookie = "z9hG4bK";

struct cseq {
  std::uint32_t number = 0; ///< < 2^31
  std::string method;
  std::string to_string() const;
  friend bool operator==(const cseq&, const cseq&) = default;
};
result<cseq> parse_cseq(std::string_view value);

/// Call-ID = word [ "@" word ]
bool valid_call_id(std::string_view value) noexcept;

} // namespace gobi::sip
