#pragma once

/// RTCP (RFC 3550 section 6): sender and receiver reports with report blocks, SDES CNAME and
/// BYE, built into and parsed from compound packets; and `receiver_stats`, the per-source
/// bookkeeping a receiver keeps to fill a report block (sequence validation and loss from
/// appendix A.1/A.3, interarrival jitter from A.8).
///
/// Parsing is zero-copy where it can be (CNAME and BYE reason are views into the datagram).
/// The wall clock never enters: NTP timestamps come in as arguments from the transport.

#include "domain/media/media_time.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace gobi::media {

enum class rtcp_type : std::uint8_t { sr = 200, rr = 201, sdes = 202, bye = 203, app = 204 };

/// Why an RTCP datagram was refused (or could not be written).
enum class rtcp_error : std::uint8_t {
  ok = 0,
  too_short,        ///< shorter than a 4-byte header, or than its packet type needs
  bad_version,      ///< a packet's version is not 2
  bad_length,       ///< a length field runs past the datagram
  bad_padding,      ///< padding on a packet other than the last, or a bad count
  bad_sdes,         ///< an SDES item runs past its chunk
  buffer_too_small, ///< writing: the output buffer is full
  too_many,         ///< writing: more than 31 report blocks or sources, or a text over 255 bytes
};

const char* to_string(rtcp_error e) noexcept;
const std::error_category& rtcp_category() noexcept;
std::error_code make_error_code(rtcp_error e) noexcept;

/// One reception report block (RFC 3550 6.4.1).
struct report_block {
  std::uint32_t ssrc = 0;           ///< the source this block reports on
  std::uint8_t fraction_lost = 0;   ///< lost since the previous report, in 1/256
  std::int32_t cumulative_lost = 0; ///< 24-bit signed on the wire (duplicates make it < 0)
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;              ///< interarrival jitter, RTP clock units
  std::uint32_t last_sr = 0;             ///< middle 32 bits of the last SR's NTP time
  std::uint32_t delay_since_last_sr = 0; ///< 1/65536 s
  friend bool operator==(const report_block&, const report_block&) = default;
};

inline constexpr std::size_t rtcp_max_blocks = 31;

/// Up to 31 report blocks (the 5-bit count) without allocating.
struct report_blocks {
  std::array<report_block, rtcp_max_blocks> items{};
  std::size_t count = 0;

  bool push_back(const report_block& b) noexcept {
    if (count == items.size()) return false;
    items[count++] = b;
    return true;
  }
  std::span<const report_block> view() const noexcept { return {items.data(), count}; }
};

struct sender_info {
  std::uint64_t ntp_timestamp = 0; ///< 32.32 fixed point seconds since 1900
  std::uint32_t rtp_timestamp = 0; ///< the same instant on the RTP clock
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0; ///< payload octets
  friend bool operator==(const sender_info&, const sender_info&) = default;
};

struct sender_report {
  std::uint32_t ssrc = 0;
  sender_info info;
  report_blocks blocks;
};

struct receiver_report {
  std::uint32_t ssrc = 0;
  report_blocks blocks;
};

struct sdes_cname {
  std::uint32_t ssrc = 0;
  std::string_view cname;
};

struct rtcp_bye {
  std::array<std::uint32_t, rtcp_max_blocks> ssrcs{};
  std::size_t count = 0;
  std::string_view reason;
};

/// What a compound packet carried. The first SR, RR, CNAME and BYE are kept; APP and
/// unknown types are counted and skipped.
struct rtcp_compound {
  std::optional<sender_report> sr;
  std::optional<receiver_report> rr;
  std::optional<sdes_cname> cname;
  std::optional<rtcp_bye> bye;
  std::size_t packets = 0;
  std::size_t skipped = 0;
};

/// Parses a compound RTCP datagram into `out` (views into `datagram`).
[[nodiscard]] rtcp_error parse_rtcp(std::span<const std::uint8_t> datagram, rtcp_compound& out);

/// Appends RTCP packets to a caller-owned buffer to make a compound packet (an SR or RR
/// first, then SDES, then BYE, as RFC 3550 6.1 wants). Never allocates; once a packet does
/// not fit, `error()` says so and further adds are refused.
class rtcp_writer {
public:
  explicit rtcp_writer(std::span<std::uint8_t> out) noexcept
      : out_(out) {}

  bool add(const sender_report& sr) noexcept;
  bool add(const receiver_report& rr) noexcept;
  bool add_sdes_cname(std::uint32_t ssrc, std::string_view cname) noexcept;
  bool add_bye(std::span<const std::uint32_t> ssrcs, std::string_view reason = {}) noexcept;

  std::size_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> data() const noexcept { return out_.first(size_); }
  rtcp_error error() const noexcept { return error_; }

private:
  std::uint8_t* reserve(std::size_t n) noexcept;
  void write_blocks(std::uint8_t* p, const report_blocks& b) noexcept;

  std::span<std::uint8_t> out_;
  std::size_t size_ = 0;
  rtcp_error error_ = rtcp_error::ok;
};

/// The middle 32 bits of an NTP timestamp, as LSR and round-trip maths use them.
constexpr std::uint32_t ntp_middle(std::uint64_t ntp) noexcept {
  return static_cast<std::uint32_t>(ntp >> 16);
}

/// Round-trip time from a report block about our stream that arrived at `arrival_ntp`
/// (RFC 3550 6.4.1: A - LSR - DLSR). Empty when the block carries no LSR.
std::optional<std::chrono::microseconds> round_trip_time(const report_block& b,
                                                         std::uint64_t arrival_ntp) noexcept;

/// Reception statistics for one source: feed every packet's (sequence, RTP timestamp,
/// arrival); ask for a report block when an RR or SR goes out.
///
/// Sequence numbers are validated as in RFC 3550 A.1: a new source is on probation until
/// `min_sequential` packets arrive in sequence; a jump of more than `max_dropout` (or back by
/// more than `max_misorder`) is ignored unless the next packet confirms it, in which case the
/// source is taken to have restarted. Jitter is A.8's estimator, in RTP clock units.
///
/// Owned by a call's inbound chain; single-threaded.
class receiver_stats {
public:
  struct options {
    std::uint32_t clock_rate_hz = 8000;
    int min_sequential = 2;
    std::uint32_t max_dropout = 3000;
    std::uint32_t max_misorder = 100;
  };

  explicit receiver_stats(options o) noexcept
      : opts_(o) {}

  /// Accounts one packet. False when it is not counted (probation, an unconfirmed jump).
  /// `for_jitter` false leaves the jitter estimate alone (RFC 4733 events repeat their
  /// timestamp and would read as jitter).
  bool update(std::uint16_t seq, std::uint32_t rtp_ts, media_time arrival,
              bool for_jitter = true) noexcept;

  /// Remembers the last SR from this source, for the LSR/DLSR fields.
  void on_sender_report(std::uint64_t ntp_timestamp, media_time arrival) noexcept;

  /// A report block as of `now`; starts the next interval for `fraction_lost`.
  report_block make_report_block(std::uint32_t source_ssrc, media_time now) noexcept;

  std::uint32_t extended_highest_sequence() const noexcept { return cycles_ + max_seq_; }
  std::int64_t expected() const noexcept;
  std::uint64_t received() const noexcept { return received_; }
  std::int64_t cumulative_lost() const noexcept {
    return expected() - static_cast<std::int64_t>(received_);
  }
  /// Interarrival jitter in RTP clock units.
  std::uint32_t jitter() const noexcept { return jitter_q4_ >> 4; }
  bool valid() const noexcept { return started_ && probation_ == 0; }
  /// A new source: everything starts again except the lifetime totals below.
  void reset() noexcept;

  /// Packets received and lost over the stream's whole life: unlike received() and
  /// cumulative_lost(), which RFC 3550 restarts when the source jumps (A.1) or changes
  /// (reset), these add up every range (for the call record's counters). Packets on
  /// probation are not counted.
  std::uint64_t total_received() const noexcept { return prior_received_ + received_; }
  std::int64_t total_lost() const noexcept {
    return prior_lost_ + std::max<std::int64_t>(0, cumulative_lost());
  }

private:
  void restart(std::uint16_t seq) noexcept;

  options opts_;
  bool started_ = false;
  int probation_ = 0;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0; ///< wraps of the sequence number, times 65536
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 0;
  std::uint64_t received_ = 0;
  std::int64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;
  std::uint64_t prior_received_ = 0; ///< ranges before the last restart
  std::int64_t prior_lost_ = 0;
  bool have_transit_ = false;
  std::int32_t transit_ = 0;
  std::uint32_t jitter_q4_ = 0; ///< jitter times 16 (A.8's integer form)
  std::uint32_t last_sr_ = 0;
  media_time last_sr_arrival_{};
  bool have_sr_ = false;
};

} // namespace gobi::media

namespace std {
template <> struct is_error_code_enum<gobi::media::rtcp_error> : true_type {};
} // namespace std
