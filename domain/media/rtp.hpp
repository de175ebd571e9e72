#pragma once

/// RTP (RFC 3550 section 5.1) packets: parse in place and serialise, plus the serial-number
/// arithmetic every receiver needs (sequence numbers wrap at 2^16, timestamps at 2^32).
///
/// Parsing never copies: `rtp_packet` holds the header fields by value and views of the CSRC
/// list, the header extension and the payload inside the datagram, so it is valid only while
/// the datagram is. Malformed input is refused with a reason (`rtp_error`), never an exception.

#include "domain/media/media_time.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>

namespace gobi::media {

/// Why a datagram is not an RTP packet we accept (or cannot be written).
enum class rtp_error : std::uint8_t {
  ok = 0,
  too_short,          ///< fewer than the 12 bytes of the fixed header
  bad_version,        ///< version field is not 2
  csrc_past_end,      ///< the CSRC count points past the end of the datagram
  extension_past_end, ///< the header extension's length points past the end
  bad_padding,        ///< padding count is zero or larger than the payload
  buffer_too_small,   ///< serialising: the output buffer cannot hold the packet
  bad_field,          ///< serialising: more than 15 CSRCs or an extension not in 32-bit words
};

const char* to_string(rtp_error e) noexcept;
const std::error_category& rtp_category() noexcept;
std::error_code make_error_code(rtp_error e) noexcept;

inline constexpr std::size_t rtp_fixed_header_bytes = 12;
inline constexpr std::size_t rtp_max_csrcs = 15;

/// One RTP packet: header fields by value, variable parts as views (see file comment).
struct rtp_packet {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  /// The CSRC list as on the wire: 4 bytes per source, network byte order.
  std::span<const std::uint8_t> csrc_bytes;
  bool has_extension = false;
  std::uint16_t extension_profile = 0;
  /// The extension's data (a multiple of 4 bytes), without its 4-byte header.
  std::span<const std::uint8_t> extension;
  std::span<const std::uint8_t> payload;
  /// Padding octets at the end, the count octet included; 0 means no padding (P bit clear).
  std::uint8_t padding = 0;
  /// When the packet arrived. Set by the receiving side; not on the wire.
  media_time arrival{};

  std::size_t csrc_count() const noexcept { return csrc_bytes.size() / 4; }
  /// The i-th contributing source (i < csrc_count()).
  std::uint32_t csrc(std::size_t i) const noexcept;
};

/// Parses `datagram` into `out` (views into `datagram`). `out` is unspecified on error.
[[nodiscard]] rtp_error parse_rtp(std::span<const std::uint8_t> datagram, rtp_packet& out) noexcept;

/// Bytes `write_rtp` needs for `p`.
std::size_t rtp_wire_size(const rtp_packet& p) noexcept;

/// Serialises `p` into `out`. Returns the bytes written, or 0 and sets `error` (if given).
std::size_t write_rtp(const rtp_packet& p, std::span<std::uint8_t> out,
                      rtp_error* error = nullptr) noexcept;

/// True when sequence number `a` comes after `b` (modulo 2^16, RFC 1982 style).
constexpr bool seq_after(std::uint16_t a, std::uint16_t b) noexcept {
  return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}

/// True when timestamp `a` comes after `b` (modulo 2^32).
constexpr bool ts_after(std::uint32_t a, std::uint32_t b) noexcept {
  return a != b && static_cast<std::uint32_t>(a - b) < 0x80000000u;
}

/// Turns wrapping 16- or 32-bit counters into monotonic 64-bit ones, relative to the
/// newest value seen (so reordered values unwrap to the right side of a wrap).
template <class T> class unwrapper {
public:
  /// The extended value of `v`; the first value seen maps to itself.
  std::int64_t unwrap(T v) noexcept {
    if (!init_) {
      init_ = true;
      newest_ = static_cast<std::int64_t>(v);
      return newest_;
    }
    using signed_t = std::make_signed_t<T>;
    const auto delta = static_cast<signed_t>(static_cast<T>(v - static_cast<T>(newest_)));
    const std::int64_t ext = newest_ + delta;
    if (ext > newest_) newest_ = ext;
    return ext;
  }
  void reset() noexcept { init_ = false; }
  bool initialised() const noexcept { return init_; }

private:
  std::int64_t newest_ = 0;
  bool init_ = false;
};

using seq_unwrapper = unwrapper<std::uint16_t>;
using ts_unwrapper = unwrapper<std::uint32_t>;

} // namespace gobi::media

namespace std {
template <> struct is_error_code_enum<gobi::media::rtp_error> : true_type {};
} // namespace std
