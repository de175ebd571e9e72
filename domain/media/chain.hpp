#pragma once

/// A call's two media chains, each built once when SDP negotiation has chosen the codec (so
/// nothing on the packet path asks which codec it is):
///
///   inbound:  rtp(PCMU/8000) -> jitter -> g711 -> resample(16000) -> vad [-> downstream]
///             rtp(opus/48000/2) -> jitter -> opus -> vad [-> downstream]
///   outbound: pcm(16000) [-> tee(tap)] -> resample(8000) -> g711 -> rtp(PCMU/8000)
///             pcm(16000) [-> tee(tap)] -> opus -> rtp(opus/48000/2)
///
/// Inbound, `push` each datagram as it arrives (audio goes to the jitter buffer,
/// telephone-events to the DTMF detector) and `tick` every 20 ms on the media clock for one
/// 16 kHz frame. Outbound, `play` 16 kHz PCM into the playout queue and `tick` every 20 ms
/// for exactly one RTP packet (audio, silence when the queue is empty, or DTMF).
///
/// Events (speech started/ended, DTMF digit, playback finished) go to `on_event`, on the
/// media thread. A chain is owned by the call's media session on one transport thread; it
/// allocates only when built (the returned object plus the playout queue and codec state).

#include "domain/media/defaults.hpp"
#include "domain/media/dtmf.hpp"
#include "domain/media/events.hpp"
#include "domain/media/frame.hpp"
#include "domain/media/jitter_buffer.hpp"
#include "domain/media/opus.hpp"
#include "domain/media/rtcp.hpp"
#include "domain/media/stages.hpp"
#include "domain/media/vad.hpp"
#include "domain/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gobi::media {

enum class codec_kind : std::uint8_t { pcmu, pcma, opus };

/// What SDP negotiation settled on for one direction.
struct codec_params {
  codec_kind kind = codec_kind::pcmu;
  std::uint8_t payload_type = 0;
  std::uint32_t clock_rate_hz = 8000;
  std::uint8_t channels = 1; ///< as in the SDP (opus/48000/2); gobi itself is mono
  /// telephone-event at the same clock rate, when negotiated.
  std::optional<std::uint8_t> telephone_event_pt;

  static codec_params pcmu(std::optional<std::uint8_t> te = 101) {
    return {codec_kind::pcmu, 0, 8000, 1, te};
  }
  static codec_params pcma(std::optional<std::uint8_t> te = 101) {
    return {codec_kind::pcma, 8, 8000, 1, te};
  }
  static codec_params opus(std::uint8_t pt = 111, std::optional<std::uint8_t> te = 101) {
    return {codec_kind::opus, pt, 48000, 2, te};
  }
};

/// "PCMU/8000", "PCMA/8000", "opus/48000/2": the SDP encoding name.
std::string encoding_name(const codec_params& c);

struct inbound_options {
  codec_params codec;
  jitter_options jitter; ///< its clock rate is taken from `codec`
  vad_options vad;
  bool vad_enabled = true;
  int resample_quality = defaults::resample_quality;
  bool opus_fec = defaults::opus_inband_fec;
  /// G.711: the repeated audio fades out over this.
  std::chrono::milliseconds conceal_fade{defaults::g711_conceal_fade_ms};
  std::chrono::milliseconds dtmf_end_timeout{defaults::dtmf_end_timeout_ms};
  pcm_sink* downstream = nullptr; ///< not owned: the STT stream, a recorder (or a tee of both)
  event_callback on_event;
};

/// Receives one remote source: datagrams in, 16 kHz frames and events out. Build with
/// `build_inbound_chain`.
class inbound_chain {
public:
  inbound_chain(const inbound_chain&) = delete;
  inbound_chain& operator=(const inbound_chain&) = delete;

  /// e.g. "rtp(PCMU/8000) -> jitter -> g711 -> resample(16000) -> vad -> stt"
  std::string name() const;

  /// One RTP datagram (SRTP already removed) that arrived at `arrival`. Malformed ones are
  /// refused with the reason; other payload types than the codec's and telephone-event are
  /// ignored (counted). A new SSRC restarts the receive state (the remote re-INVITEd).
  rtp_error push(std::span<const std::uint8_t> datagram, media_time arrival);
  rtp_error push(std::span<const std::byte> datagram, media_time arrival);

  /// The next 20 ms at 16 kHz (silence or concealment when nothing is there), also handed
  /// to the downstream sink. Valid until the next tick.
  const frame& tick(media_time now);

  /// RTCP: an SR from the remote arrived (for LSR/DLSR in our report blocks).
  void on_sender_report(std::uint64_t ntp_timestamp, media_time arrival) noexcept;
  /// A report block on the remote source, for our next SR or RR.
  report_block make_report_block(media_time now) noexcept;

  std::uint32_t remote_ssrc() const noexcept { return ssrc_; }
  const receiver_stats& stats() const noexcept { return stats_; }
  const jitter_buffer& jitter() const noexcept { return *jitter_; }
  /// The VAD, when enabled.
  const energy_vad* vad() const noexcept { return vad_ ? &vad_->vad() : nullptr; }
  std::uint64_t rejected() const noexcept { return rejected_; }
  std::uint64_t ignored() const noexcept { return ignored_; }
  std::uint64_t source_changes() const noexcept { return source_changes_; }
  /// Audio packets received and lost over the whole call, every source and restart added up
  /// (stats() covers the current source's current range, as RTCP wants).
  std::uint64_t packets_received() const noexcept { return stats_.total_received(); }
  std::uint64_t packets_lost() const noexcept {
    return static_cast<std::uint64_t>(stats_.total_lost());
  }

private:
  friend result<std::unique_ptr<inbound_chain>> build_inbound_chain(const inbound_options& o);
  inbound_chain() = default;
  void emit(const dtmf_detector::digits& d);

  codec_params codec_;
  event_callback on_event_;
  frame out_;
  std::uint32_t sequence_ = 0;
  bool have_ssrc_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t ignored_ = 0;
  std::uint64_t source_changes_ = 0;
  receiver_stats stats_{receiver_stats::options{}};
  std::optional<dtmf_detector> dtmf_;
  // Stages, last to first (each points at the next).
  std::optional<capture_stage> capture_;
  std::optional<vad_stage> vad_;
  std::optional<resample_stage> resample_;
  std::unique_ptr<decoder_stage> decoder_;
  std::optional<jitter_buffer> jitter_;
};

/// Builds the inbound chain for `o.codec`. Fails (errc::invalid_argument) for a codec or
/// rate it cannot handle, or when libopus/speexdsp refuse their settings.
result<std::unique_ptr<inbound_chain>> build_inbound_chain(const inbound_options& o);

struct outbound_options {
  codec_params codec;
  std::uint32_t ssrc = 0;              ///< choose at random per call (RFC 3550 8.1)
  std::uint16_t initial_sequence = 0;  ///< random
  std::uint32_t initial_timestamp = 0; ///< random
  int resample_quality = defaults::resample_quality;
  opus_settings opus;
  /// 16 kHz audio `play` can queue ahead.
  std::chrono::milliseconds playout_queue{defaults::playout_queue_ms};
  std::uint8_t dtmf_volume = defaults::dtmf_volume_dbm0;
  pcm_sink* tap = nullptr; ///< not owned: sees every 16 kHz frame sent (the recorder)
  event_callback on_event;
};

/// Sends one stream: 16 kHz PCM in, one RTP packet per tick out. Build with
/// `build_outbound_chain`.
class outbound_chain {
public:
  outbound_chain(const outbound_chain&) = delete;
  outbound_chain& operator=(const outbound_chain&) = delete;

  /// e.g. "pcm(16000) -> resample(8000) -> g711 -> rtp(PCMU/8000)"
  std::string name() const;

  /// Queues 16 kHz mono PCM for playout; returns how many samples fit (feed the rest later).
  std::size_t play(std::span<const std::int16_t> pcm) noexcept;
  /// Barge-in: drops the queue; reports playback_finished{interrupted} if anything was
  /// playing. Digits in progress finish properly; queued digits are dropped.
  void clear();
  /// Queues an RFC 4733 digit. False when telephone-event was not negotiated, the digit is
  /// invalid or too many wait.
  bool send_dtmf(char digit, std::chrono::milliseconds duration = std::chrono::milliseconds{
                                 defaults::dtmf_duration_ms});

  /// Exactly one RTP packet for this 20 ms tick (valid until the next tick).
  std::span<const std::uint8_t> tick(media_time now);
  /// A tick the media clock missed (it woke a period or more late): the timeline moves on as
  /// if a frame had been sent (20 ms of queued audio dropped, playback_finished when that
  /// empties the queue, RTP timestamp advanced, DTMF timing kept), but nothing runs through
  /// the stages and no packet is made, so a late clock does less work, not more. The receiver
  /// sees a timestamp jump without a sequence gap, as after silence suppression.
  void skip(media_time now);
  std::uint64_t skipped_ticks() const noexcept { return skipped_ticks_; }

  std::size_t queued_samples() const noexcept { return queued_; }
  std::size_t queue_capacity() const noexcept { return queue_.size(); }
  /// Sender info for an SR sent at `now` (NTP time from the transport's wall clock).
  sender_info make_sender_info(std::uint64_t ntp_timestamp, media_time now) const noexcept;
  std::uint32_t ssrc() const noexcept { return sender_->ssrc(); }
  std::uint32_t packets_sent() const noexcept { return sender_->packets_sent(); }

private:
  friend result<std::unique_ptr<outbound_chain>> build_outbound_chain(const outbound_options& o);
  outbound_chain() = default;
  std::size_t pop(std::span<std::int16_t> out) noexcept;
  /// `got` samples of the queue went out (or were skipped): playback_finished when it is empty.
  void played(std::size_t got);

  codec_params codec_;
  event_callback on_event_;
  std::uint32_t units_per_frame_ = 160;
  std::uint32_t tick_index_ = 0;
  std::uint64_t skipped_ticks_ = 0;
  bool have_tick_ = false;
  media_time last_tick_{};
  // Playout queue: a ring of 16 kHz samples.
  std::vector<std::int16_t> queue_;
  std::size_t head_ = 0;
  std::size_t queued_ = 0;
  std::size_t played_ = 0; ///< samples played since the queue was last empty
  frame current_;
  std::optional<dtmf_sender> dtmf_;
  // Stages, last to first.
  std::optional<rtp_sender> sender_;
  std::unique_ptr<pcm_sink> encoder_;
  std::optional<resample_stage> resample_;
  std::optional<tee_stage> tee_;
  pcm_sink* head_stage_ = nullptr;
};

/// Builds the outbound chain for `o.codec` (errors as for the inbound one).
result<std::unique_ptr<outbound_chain>> build_outbound_chain(const outbound_options& o);

} // namespace gobi::media
