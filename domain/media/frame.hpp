#pragma once

/// The unit of audio on the media path and the two interfaces every media stage implements.
///
/// Audio moves in 20 ms frames of mono 16-bit PCM. Inside gobi that is 16 kHz (320 samples,
/// `frame`); next to a codec a stage may see its codec's rate (8 kHz for G.711), always as a
/// `frame_view` that says its rate. Stages wrap each other: a `pcm_sink` or `rtp_handler`
/// holds a pointer to the next one and hands each frame or packet on, so a chain is a line
/// of wrappers built once per call (see chain.hpp) and named after them:
///
///     rtp(PCMU/8000) -> jitter -> g711 -> resample(16000) -> vad -> stt
///
/// Both interfaces are called on one thread (the transport thread that owns the call's
/// media), never concurrently, and must not block or allocate per call.

#include "domain/media/media_time.hpp"
#include "domain/media/rtp.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gobi::media {

inline constexpr std::uint32_t internal_rate_hz = 16000;
inline constexpr std::uint32_t frame_ms = 20;
/// Samples in one frame at `rate_hz` (160 at 8 kHz, 320 at 16 kHz, 960 at 48 kHz).
constexpr std::size_t frame_samples_at(std::uint32_t rate_hz) noexcept {
  return static_cast<std::size_t>(rate_hz) * frame_ms / 1000;
}
inline constexpr std::size_t frame_samples = frame_samples_at(internal_rate_hz);
/// The most samples a frame can have (48 kHz).
inline constexpr std::size_t max_frame_samples = frame_samples_at(48000);

/// Where a frame's samples came from.
enum class frame_origin : std::uint8_t {
  audio,     ///< decoded from received packets, or queued for playout
  concealed, ///< made up for missing packets (PLC, repetition)
  silence,   ///< nothing to play: zeros
};

const char* to_string(frame_origin o) noexcept;

/// 20 ms of mono PCM at any rate, as a view: the stage that produced it owns the samples,
/// which stay valid only during the call that passes the view.
struct frame_view {
  std::span<const std::int16_t> samples;
  std::uint32_t sample_rate_hz = internal_rate_hz;
  media_time time{};          ///< media-clock time of the tick that produced the frame
  std::uint32_t sequence = 0; ///< frame counter of the stream (one per 20 ms tick)
  frame_origin origin = frame_origin::audio;
};

/// The internal audio unit: one 20 ms frame at 16 kHz, owned.
struct frame {
  std::array<std::int16_t, frame_samples> samples{};
  media_time time{};
  std::uint32_t sequence = 0;
  frame_origin origin = frame_origin::silence;

  frame_view view() const noexcept {
    return {std::span<const std::int16_t>{samples}, internal_rate_hz, time, sequence, origin};
  }
};

/// Consumes PCM frames: a resampler, the VAD, a recorder, an STT stream.
class pcm_sink {
public:
  virtual ~pcm_sink() = default;
  /// One frame; `f.samples` is valid only during the call.
  virtual void on_frame(const frame_view& f) = 0;
  /// This stage and the ones it feeds, e.g. "resample(16000) -> vad -> stt".
  virtual std::string name() const = 0;
};

/// Why the timeline has no packet for a stretch of audio (see `rtp_handler::on_gap`).
enum class gap_kind : std::uint8_t {
  lost,    ///< a packet should be there: conceal it
  silence, ///< the sender sent nothing (talk-spurt gap, DTMF, not started): play silence
};

/// Consumes RTP packets: a jitter buffer, a decoder, a packetiser.
class rtp_handler {
public:
  virtual ~rtp_handler() = default;
  /// One packet; its views are valid only during the call.
  virtual void on_rtp(const rtp_packet& p) = 0;
  /// Handlers behind the jitter buffer also hear about holes in the timeline: `duration` RTP
  /// clock units with no packet. `next` is the packet right after the hole when it is already
  /// buffered (Opus recovers the hole from its in-band FEC), else null.
  virtual void on_gap(std::uint32_t duration, gap_kind kind, const rtp_packet* next) {
    (void)duration;
    (void)kind;
    (void)next;
  }
  /// This stage and the ones it feeds, e.g. "jitter -> g711 -> resample(16000) -> vad".
  virtual std::string name() const = 0;
};

/// "label -> rest" (or just "label" when the rest is empty): how wrappers compose names.
std::string join_names(std::string_view label, std::string_view rest);

} // namespace gobi::media
