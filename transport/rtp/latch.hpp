#pragma once

/// Symmetric RTP (RFC 4961; "comedia" in SBC parlance): send to where the peer's packets come
/// from, not only to the address its SDP announced, because NATs rewrite it. Learning the
/// source ("latching") needs care: an attacker can send packets too, so only packets the sink
/// accepted (valid RTP, and with SRTP authentic) count, and a confirmed source is abandoned
/// only after it has gone quiet.
///
///   expecting(sdp addr or none) --latch_packets accepted in a row from S--> confirmed(S)
///   confirmed(S) --packet from S--> confirmed(S)
///   confirmed(S) --packet from T--> dropped, unless S silent >= relatch_idle: then T is
///                                   admitted and latch_packets accepted in a row from T
///                                   confirm T (a NAT rebinding, a moved peer)
///   any --expect(new sdp addr)--> expecting(new addr)        (re-INVITE, answer)

#include "transport/rtp/media_port.hpp"

#include <cstdint>

namespace gobi::rtp {

/// Latching tunables, per port.
struct latch_options {
  /// Accepted packets in a row from one new source that confirm it. 1 latches on the first
  /// valid packet (rtpengine's default); more resists a stray packet.
  unsigned latch_packets = 2;
  /// How long a confirmed source must be silent before another may take over.
  duration relatch_idle = std::chrono::seconds(2);
};

/// The latching state of one socket. `Endpoint` is any regular value type (an Asio endpoint in
/// `udp_port`, an int in tests). Single-threaded: the port's thread.
template <class Endpoint> class source_latch {
public:
  explicit source_latch(latch_options opts = {}) noexcept
      : opts_(opts) {}

  /// The address signalling gave us (SDP c=/m=): send there until a source is confirmed.
  /// Forgets any confirmed source.
  void expect(const Endpoint& remote) noexcept {
    expected_ = remote;
    has_expected_ = true;
    confirmed_ = false;
    streak_ = 0;
  }

  /// Whether a packet from `src` should reach the sink at all.
  bool admit(const Endpoint& src, time_point now) const noexcept {
    return !confirmed_ || src == source_ || now - last_from_source_ >= opts_.relatch_idle;
  }

  /// Records the sink's verdict on an admitted packet from `src`; may confirm `src`.
  void record(const Endpoint& src, time_point now, verdict v) noexcept {
    if (v != verdict::accepted) return;
    if (confirmed_ && src == source_) {
      last_from_source_ = now;
      return;
    }
    if (streak_ > 0 && src == candidate_) {
      ++streak_;
    } else {
      candidate_ = src;
      streak_ = 1;
    }
    if (streak_ >= opts_.latch_packets) {
      if (confirmed_) ++relatches_;
      source_ = src;
      confirmed_ = true;
      last_from_source_ = now;
      streak_ = 0;
    }
  }

  /// Where to send: the confirmed source, else the expected address; null when neither.
  const Endpoint* target() const noexcept {
    return confirmed_ ? &source_ : has_expected_ ? &expected_ : nullptr;
  }
  bool confirmed() const noexcept { return confirmed_; }
  /// How many times a confirmed source was replaced by another.
  std::uint64_t relatches() const noexcept { return relatches_; }

private:
  latch_options opts_;
  Endpoint expected_{};
  Endpoint source_{};
  Endpoint candidate_{};
  time_point last_from_source_{};
  unsigned streak_ = 0;
  bool has_expected_ = false;
  bool confirmed_ = false;
  std::uint64_t relatches_ = 0;
};

} // namespace gobi::rtp
