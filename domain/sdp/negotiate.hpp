#pragma once

/// SDP offer/answer (RFC 3264) for one audio stream, with SDES-SRTP (RFC 4568).
///
/// The outcome of a negotiation is a `negotiated_media`: one codec, its payload type, clock,
/// channels, ptime, the telephone-event payload type, the remote RTP/RTCP address, SRTP suite
/// and keys both ways, and the direction. The media layer builds its chain from it once.
/// Failures are `sdp::error`s whose `sip_status` is 488 (Not Acceptable Here) with the reason.
///
/// Key material is generated outside the domain (30 random bytes per key) and passed in.

#include "domain/sdp/session.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gobi::sdp {

enum class srtp_policy { off, optional, required };
const char* to_string(srtp_policy p) noexcept;
std::optional<srtp_policy> parse_srtp_policy(std::string_view s) noexcept;

enum class srtp_suite { aes_cm_128_hmac_sha1_80, aes_cm_128_hmac_sha1_32 };
const char* to_string(srtp_suite s) noexcept; ///< "AES_CM_128_HMAC_SHA1_80"

/// SRTP master key (16 bytes) followed by master salt (14 bytes).
using srtp_key = std::array<std::uint8_t, 30>;

struct codec {
  std::string name; ///< "PCMU", "PCMA", "opus"
  std::uint32_t clock_rate = 8000;
  int channels = 1;
  int payload_type = 0; ///< used in our offers
  std::string fmtp;     ///< our fmtp in offers and answers ("" = none)
};
codec pcmu();
codec pcma();
codec opus();

struct capabilities {
  std::vector<codec> codecs{opus(), pcmu(), pcma()}; ///< our preference order (for offers)
  bool telephone_event = true;
  int telephone_event_pt_8000 = 101;
  int telephone_event_pt_48000 = 102;
  int ptime_ms = 20;
  std::vector<srtp_suite> srtp_suites{srtp_suite::aes_cm_128_hmac_sha1_80,
                                      srtp_suite::aes_cm_128_hmac_sha1_32};
};

/// Our side of the session: where we receive RTP, and the o= line's identity.
struct local_endpoint {
  std::string address; ///< IPv4 or IPv6 literal
  std::uint16_t rtp_port = 0;
  std::string session_id = "0";
  std::string session_version = "0";
  std::string username = "gobi";
  std::string session_name = "gobi";
  bool ipv6() const { return address.find(':') != std::string::npos; }
};

struct srtp_params {
  srtp_suite suite = srtp_suite::aes_cm_128_hmac_sha1_80;
  srtp_key local_key{};  ///< protects what we send
  srtp_key remote_key{}; ///< unprotects what we receive
};

struct negotiated_media {
  std::string codec; ///< as we name it ("PCMU", "PCMA", "opus")
  int payload_type = 0;
  std::uint32_t clock_rate = 8000;
  int channels = 1;
  int ptime_ms = 20; ///< what the peer asked to receive (a=ptime), else ours
  std::optional<int> telephone_event_pt;
  std::string remote_address;
  std::uint16_t remote_rtp_port = 0;
  std::uint16_t remote_rtcp_port = 0;
  sdp::direction direction = sdp::direction::sendrecv; ///< what we do
  bool remote_hold = false; ///< the peer put us on hold (sendonly/inactive/0.0.0.0)
  std::optional<srtp_params> srtp;

  /// One line for logs and golden tests:
  /// "PCMU/8000/1 pt=0 ptime=20 te=101 sendrecv rtp=192.0.2.5:4000 rtcp=4001 srtp=off"
  std::string describe() const;
};

/// Our offer: one audio m-line with our codecs in preference order, telephone-event at 8000
/// (when an 8 kHz codec is offered) and 48000 (when opus is), ptime, direction. SRTP per
/// policy: off = RTP/AVP; optional = RTP/AVP with a=crypto lines (best effort);
/// required = RTP/SAVP with a=crypto lines. `keys[i]` is the key for capabilities.srtp_suites[i].
session_description make_offer(const capabilities& caps, const local_endpoint& local,
                               srtp_policy policy, const std::vector<srtp_key>& keys,
                               direction dir = direction::sendrecv);

struct answer {
  session_description sdp;
  negotiated_media media;
};

/// Answers an offer: the first audio m-line we can take gets the first codec of the offer's
/// order that we support (its payload type kept), telephone-event when offered at that clock
/// rate, our ptime, the mirrored direction, SRTP per policy with `key` as our key; every other
/// m-line is rejected with port 0. 488 when nothing fits.
result<answer> answer_offer(const session_description& offer, const capabilities& caps,
                            const local_endpoint& local, srtp_policy policy, const srtp_key& key);

/// Reads the answer to our offer (made by make_offer with the same policy and keys).
result<negotiated_media> process_answer(const session_description& our_offer,
                                        const session_description& answer, srtp_policy policy,
                                        const std::vector<srtp_key>& keys,
                                        const capabilities& caps = {});

/// Base64 of a key as written in `inline:` (40 characters), and back (nullopt unless exactly
/// 30 bytes of valid base64).
std::string encode_key(const srtp_key& k);
std::optional<srtp_key> decode_key(std::string_view b64);

} // namespace gobi::sdp
