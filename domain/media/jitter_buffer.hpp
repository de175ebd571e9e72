#pragma once

/// The adaptive jitter buffer: packets go in as they arrive (any order, duplicates, late);
/// at every 20 ms tick the next 20 ms of the sender's timeline come out, in order, as packets
/// and holes, to the decoder behind it.
///
/// Time: the buffer never reads a clock. Arrival times come with the packets (`arrival`)
/// and the tick gets `now`, both from the same media clock.
///
/// Delay: a packet's transit is its arrival minus its RTP timestamp (as time). The smallest
/// transit over a window is the base; a packet's lateness is its transit above the base.
/// The target delay is the recent peak lateness (decaying with `peak_decay`) plus a margin,
/// clamped to [min_delay, max_delay]. The playout delay is how far playout runs behind the
/// base: it grows by holding the timeline for a tick ("stretch": a hole to conceal, at once
/// when a packet is missing, at most every `stretch_interval` otherwise) while below the
/// target, and shrinks by dropping a packet (at most every `shrink_interval`) or shortening a
/// silence before a talk spurt (marker bit) when well above it.
///
///            first packet waited target delay
///   idle ---------------------------------------> playing
///    ^                                              |
///    +------- nothing buffered for conceal_limit ---+
///
/// A sender whose timestamps jump (transit changes by more than `discontinuity`, or a
/// marker packet far behind playout) is re-based: its new timeline continues where the old
/// one ended, so nothing buffered is lost and the delay is kept.
///
/// Playing, each tick hands the decoder, until 20 ms of timeline are covered:
///   - the packet at the playout point (a 30 ms packet covers one and a half ticks);
///   - a hole up to the next packet: `gap_kind::lost` when sequence numbers are missing
///     (conceal), `gap_kind::silence` when the sender skipped time (talk-spurt gap);
///   - with nothing buffered: `lost` for up to `conceal_limit`, then silence (idle).
/// Idle, each tick is silence.
///
/// Memory: a fixed ring of `capacity` slots with `max_payload_bytes` each; no allocation after
/// construction. Owned by a call's inbound chain, run on its media thread.

#include "domain/media/defaults.hpp"
#include "domain/media/frame.hpp"
#include "domain/media/rtp.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gobi::media {

struct jitter_options {
  std::uint32_t clock_rate_hz = 8000;
  std::chrono::milliseconds min_delay{defaults::jitter_min_delay_ms};
  std::chrono::milliseconds max_delay{defaults::jitter_max_delay_ms};
  std::chrono::milliseconds margin{defaults::jitter_margin_ms}; ///< added to the lateness peak
  std::chrono::milliseconds peak_decay{defaults::jitter_peak_decay_ms};
  std::chrono::milliseconds base_window{defaults::jitter_base_window_ms};
  /// Conceal this long with nothing buffered, then play silence.
  std::chrono::milliseconds conceal_limit{defaults::jitter_conceal_limit_ms};
  /// A transit jump this big means the sender's clock jumped: re-base.
  std::chrono::milliseconds discontinuity{defaults::jitter_discontinuity_ms};
  /// Drop at most one packet per this (to cut the delay).
  std::chrono::milliseconds shrink_interval{defaults::jitter_shrink_interval_ms};
  /// Hold playout at most once per this when nothing is missing (to add delay).
  std::chrono::milliseconds stretch_interval{defaults::jitter_stretch_interval_ms};
};

struct jitter_stats {
  std::uint64_t inserted = 0;   ///< packets accepted into the buffer
  std::uint64_t played = 0;     ///< packets handed to the decoder
  std::uint64_t duplicates = 0; ///< same sequence number again
  std::uint64_t late = 0;       ///< arrived after their playout point
  std::uint64_t dropped = 0;    ///< dropped on purpose to cut the delay
  std::uint64_t overflow = 0;   ///< no room (more than `capacity` packets apart)
  std::uint64_t invalid = 0;    ///< empty, over `max_payload_bytes`, or no duration
  std::uint64_t concealed = 0;  ///< RTP units handed on as `gap_kind::lost`
  std::uint64_t stretched = 0;  ///< RTP units of holes that held the timeline (delay grew)
  std::uint64_t shortened = 0;  ///< RTP units of silence skipped before a talk spurt
  std::uint64_t resyncs = 0;    ///< new timelines (discontinuities, resets)
};

class jitter_buffer final : public rtp_handler {
public:
  /// RTP clock units of audio in a payload (G.711: its size; Opus: from its TOC byte);
  /// chosen once per codec at chain build. 0 means "not a valid packet".
  using duration_fn = std::uint32_t (*)(std::span<const std::uint8_t> payload) noexcept;

  static constexpr std::size_t capacity = 32;
  static constexpr std::size_t max_payload_bytes = 640;

  /// `next` (not owned) gets the timeline at each tick: usually a decoder stage.
  jitter_buffer(const jitter_options& o, duration_fn duration, rtp_handler* next);

  /// Inserts a packet that arrived at `p.arrival`.
  void on_rtp(const rtp_packet& p) override;
  /// Hands the next 20 ms of timeline to the next stage.
  void tick(media_time now);
  /// Forgets everything (a new source): the next packet starts a new timeline.
  void reset() noexcept;

  std::string name() const override;

  std::chrono::microseconds target_delay() const noexcept;
  /// How far playout runs behind the fastest packets, at `now` (0 when idle).
  std::chrono::microseconds playout_delay(media_time now) const noexcept;
  std::size_t size() const noexcept { return count_; }
  bool playing() const noexcept { return state_ == state::playing; }
  const jitter_stats& stats() const noexcept { return stats_; }

private:
  struct slot {
    bool used = false;
    bool marker = false;
    std::uint8_t payload_type = 0;
    std::uint16_t size = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    std::uint32_t duration = 0;
    std::int64_t ext_seq = 0;
    std::int64_t ext_ts = 0;
    media_time arrival{};
    std::array<std::uint8_t, max_payload_bytes> data{};
  };
  enum class state : std::uint8_t { idle, playing };

  rtp_packet view(const slot& s) const noexcept;
  slot* earliest() noexcept;
  void release(slot& s) noexcept;
  void resync() noexcept;
  std::int64_t transit_us(std::int64_t ext_ts, media_time arrival) const noexcept;
  std::int64_t delay_us(media_time now) const noexcept;
  std::int64_t units(std::int64_t us) const noexcept;
  void update_base(std::int64_t transit, media_time arrival) noexcept;

  jitter_options opts_;
  duration_fn duration_;
  rtp_handler* next_;
  std::int64_t frame_units_;

  std::array<slot, capacity> slots_{};
  std::size_t count_ = 0;
  seq_unwrapper seq_;
  ts_unwrapper ts_;

  state state_ = state::idle;
  bool have_timeline_ = false; ///< play_ts_ means something (we played since the last resync)
  std::int64_t play_ts_ = 0;   ///< the sender's timestamp of the next sample to hand on
  std::int64_t next_seq_ = 0;  ///< the sequence number expected next
  std::int64_t covered_ = 0;   ///< units handed on beyond the last tick's 20 ms
  std::int64_t conceal_run_ = 0;
  int far_late_run_ = 0;

  std::int64_t ts_shift_ = 0; ///< added to unwrapped timestamps after a clock jump
  bool have_newest_ = false;  ///< the packet furthest along the sender's timeline:
  std::int64_t newest_ext_ts_ = 0;
  std::int64_t newest_end_ = 0;
  std::int64_t newest_transit_ = 0;
  bool last_was_silence_ = true; ///< what the last hole handed on was (for stretching)

  bool have_base_ = false;
  std::int64_t base_us_ = 0;    ///< min transit over the window
  std::int64_t cur_min_us_ = 0; ///< min transit in the current half window
  std::int64_t prev_min_us_ = 0;
  media_time bucket_start_{};
  double peak_us_ = 0; ///< decaying peak lateness
  bool have_tick_ = false;
  media_time last_tick_{};
  media_time last_shrink_{};
  media_time last_stretch_{};

  jitter_stats stats_;
};

} // namespace gobi::media
