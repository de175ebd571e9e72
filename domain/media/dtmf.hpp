#pragma once

/// DTMF as RFC 4733 telephone events: the 4-byte payload, a sender that turns digits into
/// the packet sequence a receiver expects, and a detector that turns received packets back
/// into digits, each exactly once.
///
/// Payload: event (8 bits) | E (end) | R | volume (6 bits, -dBm0) | duration (16 bits, RTP
/// clock units since the event's timestamp). All packets of one event share its timestamp
/// (its start); the first has the marker bit; the duration grows with each update; the last
/// carries E and is sent three times so losing one does not lose the end.

#include "domain/media/defaults.hpp"
#include "domain/media/media_time.hpp"
#include "domain/media/rtp.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace gobi::media {

/// RFC 4733 event code (0-15) of '0'-'9', '*', '#', 'A'-'D' (or 'a'-'d'); -1 otherwise.
int dtmf_event_code(char digit) noexcept;
/// The digit for event code 0-15; '\0' otherwise.
char dtmf_digit_of(int code) noexcept;

struct telephone_event {
  std::uint8_t event = 0;
  bool end = false;
  std::uint8_t volume = 10; ///< 0-63, as -dBm0
  std::uint16_t duration = 0;
  friend bool operator==(const telephone_event&, const telephone_event&) = default;
};

inline constexpr std::size_t telephone_event_bytes = 4;

/// The first event of a payload (a payload may carry more; RFC 4733 2.5.1.5), or nothing
/// when it is shorter than 4 bytes.
std::optional<telephone_event>
parse_telephone_event(std::span<const std::uint8_t> payload) noexcept;
/// Writes 4 bytes; returns 4, or 0 when `out` is too small.
std::size_t write_telephone_event(const telephone_event& e, std::span<std::uint8_t> out) noexcept;

/// A digit the remote sent.
struct dtmf_received {
  char digit = '\0';
  std::uint32_t rtp_timestamp = 0;      ///< the event's start on the sender's RTP clock
  std::chrono::milliseconds duration{}; ///< as the sender reported it
  std::uint8_t volume = 0;
  media_time at{}; ///< arrival of the packet that completed it
};

/// Turns queued digits into telephone-event packets, one per 20 ms tick (RFC 4733 2.5.1).
///
///   idle --digit queued--> sending (marker on the first; duration grows each tick)
///     ^                        | duration reached
///     |                        v
///     +-- gap ticks <-- end (E bit) sent `end_repeats` times
///
/// While busy the outbound chain sends these instead of audio. Owned by the outbound chain.
class dtmf_sender {
public:
  struct options {
    std::uint32_t clock_rate_hz = 8000;
    std::uint8_t volume = defaults::dtmf_volume_dbm0;
    int end_repeats = defaults::dtmf_end_repeats;
    int gap_ticks = defaults::dtmf_gap_ticks; ///< audio ticks between two digits
  };
  static constexpr std::size_t max_queued = 32;

  explicit dtmf_sender(const options& o) noexcept;

  /// Queues a digit for `duration` (rounded up to whole 20 ms ticks, at least one).
  /// False for an invalid digit or a full queue.
  bool queue(char digit, std::chrono::milliseconds duration) noexcept;
  /// True while an event is being sent or digits wait. Call `next` every tick regardless:
  /// it also counts the gap between digits.
  bool busy() const noexcept { return state_ != state::idle || count_ > 0; }
  void clear() noexcept;

  struct packet {
    std::uint32_t timestamp = 0; ///< the event start, in the stream's RTP units
    bool marker = false;
    std::array<std::uint8_t, telephone_event_bytes> payload{};
  };

  /// The tick at stream time `ts` (RTP units): the event packet to send, or nothing when the
  /// tick should carry audio.
  std::optional<packet> next(std::uint32_t ts) noexcept;

private:
  enum class state : std::uint8_t { idle, sending, ending };
  struct queued {
    std::uint8_t event = 0;
    std::uint32_t units = 0;
  };
  options opts_;
  std::uint32_t units_per_tick_;
  std::array<queued, max_queued> queue_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  state state_ = state::idle;
  queued current_{};
  std::uint32_t start_ts_ = 0;
  std::uint32_t elapsed_ = 0;
  int ends_left_ = 0;
  int gap_left_ = 0;
};

/// Turns received telephone-event packets into digits: each event (one RTP timestamp) is
/// reported once, when its end arrives, however often the end is repeated; an event whose
/// end never comes is reported when the next one starts or after `end_timeout`.
/// Packets of an already reported or older event are ignored. Owned by the inbound chain.
class dtmf_detector {
public:
  struct options {
    std::uint32_t clock_rate_hz = 8000;
    std::chrono::milliseconds end_timeout{defaults::dtmf_end_timeout_ms};
  };

  /// At most two digits complete on one packet (an unfinished one and a new one).
  struct digits {
    std::array<dtmf_received, 2> items{};
    std::size_t count = 0;
    const dtmf_received* begin() const noexcept { return items.data(); }
    const dtmf_received* end() const noexcept { return items.data() + count; }
  };

  explicit dtmf_detector(const options& o) noexcept
      : opts_(o) {}

  digits on_packet(const rtp_packet& p) noexcept;
  /// Reports an event whose end was lost, once `end_timeout` passed since its last packet.
  digits tick(media_time now) noexcept;
  void reset() noexcept;

private:
  dtmf_received finish(media_time at) noexcept;

  options opts_;
  bool active_ = false;
  std::uint32_t ts_ = 0;
  telephone_event current_{};
  media_time last_arrival_{};
  bool have_reported_ = false;
  std::uint32_t reported_ts_ = 0;
};

} // namespace gobi::media
