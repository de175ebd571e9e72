#pragma once

/// SDP (RFC 4566) session descriptions as values: parse and serialise. The parser never
/// truncates; each error names its line. Unknown attributes are kept; a line type outside
/// RFC 4566 is an error (section 5: such a description must be ignored).
///
/// Pure data and functions; owned by whoever holds it.

#include "domain/sip/expected.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sdp {

/// A parse or negotiation failure. `sip_status` is how a SIP UA answers it: 400 for an
/// unparsable body, 488 (Not Acceptable Here) for an offer we cannot accept.
struct error {
  std::string message;
  std::size_t line = 0; ///< 1-based line in the SDP, 0 when not tied to a line
  int sip_status = 400;
  std::string to_string() const;
};

template <class T> using result = sip::expected<T, error>;

struct origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string nettype = "IN";
  std::string addrtype = "IP4";
  std::string address;
};

struct connection {
  std::string nettype = "IN";
  std::string addrtype = "IP4";
  std::string address; ///< may carry /ttl[/n] for multicast, as written
  /// True for the RFC 2543 hold address 0.0.0.0 (or ::).
  bool is_null() const noexcept;
};

struct attribute {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const attribute&, const attribute&) = default;
};

enum class direction { sendrecv, sendonly, recvonly, inactive };
const char* to_string(direction d) noexcept;
/// The direction seen from the other side: sendonly <-> recvonly.
direction reverse(direction d) noexcept;

struct rtpmap {
  int payload_type = 0;
  std::string encoding; ///< as written ("PCMU", "opus", "telephone-event")
  std::uint32_t clock_rate = 0;
  int channels = 1;
};

/// `a=crypto:<tag> <suite> <key-params> [<session-params>]` (RFC 4568), unvalidated.
struct crypto_line {
  int tag = 0;
  std::string suite;
  std::string key_params;
  std::string session_params;
};

struct media_description {
  std::string media; ///< audio, video, ...
  std::uint16_t port = 0;
  std::optional<int> port_count;
  std::string proto; ///< RTP/AVP, RTP/SAVP, ...
  std::vector<std::string> formats;
  std::optional<std::string> title;
  std::optional<sdp::connection> connection;
  std::vector<std::string> bandwidths;
  std::optional<std::string> key;
  std::vector<attribute> attributes;

  /// First value of attribute `name` (empty string for a flag); nullopt when absent.
  std::optional<std::string> attribute_value(std::string_view name) const;
  bool has_attribute(std::string_view name) const;
  /// The rtpmap of a format: a=rtpmap, or the RFC 3551 static table (0 PCMU, 8 PCMA, ...).
  std::optional<sdp::rtpmap> rtpmap_for(int payload_type) const;
  std::optional<std::string> fmtp_for(int payload_type) const;
  /// a=sendrecv/sendonly/recvonly/inactive of this media, else `session_default`.
  sdp::direction direction_or(sdp::direction session_default) const;
  std::optional<int> ptime() const;
  std::vector<crypto_line> cryptos() const;
};

struct session_description {
  int version = 0;
  sdp::origin origin;
  std::string name = "-";
  std::optional<std::string> info;
  std::optional<std::string> uri;
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::optional<sdp::connection> connection;
  std::vector<std::string> bandwidths;
  std::vector<std::string> times{"0 0"}; ///< t= values
  std::vector<std::string> repeats;      ///< r= and z= lines, "r=..." / "z=..." as written
  std::optional<std::string> key;
  std::vector<attribute> attributes;
  std::vector<media_description> media;

  sdp::direction direction() const; ///< session-level direction, default sendrecv
};

struct parse_limits {
  std::size_t max_bytes = 65536;
  std::size_t max_media = 32;
  std::size_t max_lines = 2048;
};

result<session_description> parse(std::string_view text, const parse_limits& limits = {});
/// Writes the description with CRLF line ends, fields in RFC 4566 order.
std::string to_string(const session_description& s);

} // namespace gobi::sdp
