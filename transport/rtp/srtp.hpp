#pragma once

/// SRTP and SRTCP (RFC 3711) on libsrtp2, keyed by SDES (RFC 4568 `a=crypto`).
///
/// A call has two sessions: an outbound one keyed with our key (the one we put in our
/// `a=crypto`) and an inbound one keyed with the peer's. Packets are protected and unprotected
/// in place in the caller's buffer; failures are values (`srtp_errc`), never exceptions or
/// crashes, whatever bytes arrive.
///
///   ours   = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80)  -> a=crypto:1 SUITE
///                                                                       format_key_params(ours)
///   theirs = parse_sdes_key(suite_name, key_params)                  <- peer's a=crypto
///   out    = srtp_session::create(ours, srtp_direction::outbound)
///   in     = srtp_session::create(theirs, srtp_direction::inbound)

#include "domain/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

struct srtp_ctx_t_; // libsrtp2's session context (srtp_t is a pointer to it)

namespace gobi::rtp {

/// SDES crypto suites (RFC 4568 section 6.2). Both use a 128-bit AES-CM key and a 112-bit
/// salt; they differ in the SRTP authentication tag (80 or 32 bits). SRTCP always uses an
/// 80-bit tag (RFC 4568 section 6.2.2).
enum class srtp_suite : std::uint8_t {
  aes_cm_128_hmac_sha1_80,
  aes_cm_128_hmac_sha1_32,
};

/// The SDP name, e.g. "AES_CM_128_HMAC_SHA1_80".
std::string_view to_string(srtp_suite s) noexcept;
/// Parses an SDP suite name (case-sensitive, as RFC 4568 registers them).
std::optional<srtp_suite> parse_srtp_suite(std::string_view name) noexcept;
/// SRTP authentication tag length in bytes: 10 or 4.
std::size_t srtp_tag_length(srtp_suite s) noexcept;

/// Master key (16 bytes) followed by master salt (14 bytes), as the SDES inline key carries it.
inline constexpr std::size_t srtp_master_length = 30;

/// A suite and its master key and salt.
struct srtp_key {
  srtp_suite suite = srtp_suite::aes_cm_128_hmac_sha1_80;
  std::array<std::byte, srtp_master_length> master{};

  friend bool operator==(const srtp_key&, const srtp_key&) = default;
};

/// A fresh random key from the kernel's CSPRNG (getrandom). errc::internal if it fails.
result<srtp_key> generate_srtp_key(srtp_suite suite);

/// The key-params of an `a=crypto` line: "inline:" followed by the base64 of master key and salt
/// (40 characters, RFC 4568 section 6.1).
std::string format_key_params(const srtp_key& key);

/// Reads an `a=crypto` suite name and key-params ("inline:<base64>[|lifetime][|MKI:length]").
/// A lifetime is accepted and ignored (we never rekey; libsrtp2 stops at its 2^48 limit). An MKI
/// or several keys are refused (errc::invalid_argument), as is a key that does not decode to
/// exactly 30 bytes: the SDP layer then tries the next `a=crypto` line or answers 488.
result<srtp_key> parse_sdes_key(std::string_view suite_name, std::string_view key_params);

/// What protecting or unprotecting a packet can run into.
enum class srtp_errc : std::uint8_t {
  ok = 0,
  auth_failed, ///< the tag did not verify: forged, corrupted, or the wrong key
  replayed,    ///< the index was seen already or is too old for the replay window
  malformed,   ///< too short, not version 2, or a header longer than the packet
  no_room,     ///< protect: the buffer has no room for the trailer (see srtp_trailer_room)
  failed,      ///< anything else libsrtp2 reports
};

const std::error_category& srtp_category() noexcept;
std::error_code make_error_code(srtp_errc e) noexcept;
const char* to_string(srtp_errc e) noexcept;

/// The outcome of one protect or unprotect: the new packet length when ok.
struct [[nodiscard]] srtp_result {
  srtp_errc code = srtp_errc::ok;
  std::size_t length = 0;

  bool ok() const noexcept { return code == srtp_errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

/// Bytes a buffer must have beyond the packet for protect_rtp/protect_rtcp: libsrtp2 may write
/// up to its maximum trailer (tag and MKI), plus the 4-byte SRTCP index.
inline constexpr std::size_t srtp_trailer_room = 148;

enum class srtp_direction : std::uint8_t { inbound, outbound };

/// One direction of SRTP and SRTCP for one call, any SSRC.
///
/// Owned by the call's media chain and used on its port's thread only: a libsrtp2 context is not
/// thread-safe. Move-only. Creating one is not cheap (key derivation), so create it once at SDP
/// negotiation, never per packet.
class srtp_session {
public:
  /// errc::invalid_argument if libsrtp2 refuses the key, errc::internal if it cannot start.
  static result<srtp_session> create(const srtp_key& key, srtp_direction direction);

  srtp_session(srtp_session&& other) noexcept;
  srtp_session& operator=(srtp_session&& other) noexcept;
  srtp_session(const srtp_session&) = delete;
  srtp_session& operator=(const srtp_session&) = delete;
  ~srtp_session();

  srtp_direction direction() const noexcept { return direction_; }
  srtp_suite suite() const noexcept { return suite_; }

  /// Encrypts and authenticates the RTP packet in buffer[0, length). `buffer` must be at least
  /// length + srtp_trailer_room bytes. Outbound sessions only.
  srtp_result protect_rtp(std::span<std::byte> buffer, std::size_t length);
  /// Verifies and decrypts an SRTP packet in place; the result is the plaintext length.
  /// Inbound sessions only. Updates the replay window only for authentic packets.
  srtp_result unprotect_rtp(std::span<std::byte> packet);
  /// SRTCP: as above, for compound RTCP packets.
  srtp_result protect_rtcp(std::span<std::byte> buffer, std::size_t length);
  srtp_result unprotect_rtcp(std::span<std::byte> packet);

private:
  srtp_session(srtp_ctx_t_* ctx, srtp_direction d, srtp_suite s) noexcept
      : ctx_(ctx)
      , direction_(d)
      , suite_(s) {}

  srtp_ctx_t_* ctx_ = nullptr; ///< libsrtp2's srtp_t; its header stays in srtp.cpp
  srtp_direction direction_ = srtp_direction::inbound;
  srtp_suite suite_ = srtp_suite::aes_cm_128_hmac_sha1_80;
};

} // namespace gobi::rtp

namespace std {
template <> struct is_error_code_enum<gobi::rtp::srtp_errc> : true_type {};
} // namespace std
