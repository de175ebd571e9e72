#pragma once

/// The two small interfaces between a call's media chain and whatever carries its packets: a
/// `media_sink` receives datagrams, a `media_port` sends them. A UDP socket pair
/// (`rtp::udp_port`) and the in-memory test pipe (`rtp::memory_pipe`) both implement them, so a
/// chain built for one runs unchanged on the other.
///
/// Packets are plain bytes: an RTP or RTCP datagram as it is on the wire (SRTP-protected or
/// not). Parsing headers is the media layer's business, not the transport's.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gobi::rtp {

/// Media time comes from the monotonic clock, never the wall clock.
using steady_clock = std::chrono::steady_clock;
using time_point = steady_clock::time_point;
using duration = steady_clock::duration;

/// What the sink made of a packet. Only accepted packets count for symmetric-RTP latching, so
/// with SRTP a sink should answer `accepted` only after authentication succeeded: a forged
/// packet then cannot move the call's media.
enum class verdict : std::uint8_t {
  accepted,
  rejected, ///< malformed, failed authentication, replayed, unknown payload type...
};

/// Receives one call's inbound datagrams. Implemented by the call's inbound media chain.
///
/// Called on the thread that owns the port (a transport thread for `udp_port`, the test's
/// thread for `memory_pipe`), one call at a time, never concurrently. A handler must not block:
/// it runs between other calls' packets.
class media_sink {
public:
  virtual ~media_sink() = default;

  /// One RTP datagram. `packet` points into the port's receive buffer: valid only during the
  /// call, and writable so SRTP can be removed in place (the plaintext is never longer).
  virtual verdict on_rtp(std::span<std::byte> packet, time_point arrival) = 0;
  /// One RTCP datagram (from the RTCP port, or multiplexed on the RTP port per RFC 5761).
  virtual verdict on_rtcp(std::span<std::byte> packet, time_point arrival) = 0;
  /// No RTP arrived for the port's media timeout. Reported once; armed again by the next
  /// packet. `silent_for` is how long it has been quiet.
  virtual void on_media_timeout(duration silent_for) = 0;
};

/// Why a send did not happen. Sending never allocates and never blocks.
enum class send_result : std::uint8_t {
  sent,
  no_remote,   ///< neither signalled nor learned where to send yet: dropped
  would_block, ///< the socket's send buffer is full: dropped (media is late anyway)
  failed,      ///< the OS refused (e.g. ICMP unreachable reported on the socket): dropped
  closed,      ///< the port is closed
};

const char* to_string(send_result r) noexcept;

/// Sends one call's outbound datagrams. Implemented by `udp_port`'s transport side and by
/// `memory_port`.
///
/// Call only from the port's thread: from a `media_sink` callback, a `clocked_stream::on_tick`
/// of the port's clock, or a function posted to the port. The bytes are copied out (into the
/// kernel) before the call returns.
class media_port {
public:
  virtual ~media_port() = default;

  virtual send_result send_rtp(std::span<const std::byte> packet) = 0;
  virtual send_result send_rtcp(std::span<const std::byte> packet) = 0;
};

/// RTP/RTCP demultiplexing on one port (RFC 5761 section 4): a datagram whose second byte is
/// 192..223 is RTCP (those values are RTCP packet types; RTP payload types 64..95 with the
/// marker bit would collide and are not used). Also checks version 2 and the minimum size.
enum class datagram_kind : std::uint8_t { rtp, rtcp, other };
datagram_kind classify(std::span<const std::byte> datagram) noexcept;

} // namespace gobi::rtp
