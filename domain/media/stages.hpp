#pragma once

/// The stages chains are made of. Each wraps the next one (a pointer it does not own) and
/// names itself after it; chain.hpp wires them once per call. All run on the call's media
/// thread and do not allocate after construction.
///
/// Inbound, behind the jitter buffer:  decoder_stage -> [resample_stage] -> [vad_stage] -> ...
/// Outbound, behind the playout queue: [tee_stage] -> [resample_stage] -> encoder_stage
///                                     -> rtp_sender

#include "domain/media/events.hpp"
#include "domain/media/frame.hpp"
#include "domain/media/g711.hpp"
#include "domain/media/jitter_buffer.hpp"
#include "domain/media/opus.hpp"
#include "domain/media/resampler.hpp"
#include "domain/media/vad.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gobi::media {

/// Decoded samples waiting for playout: a packet longer than a tick (30 ms G.711) leaves the
/// rest here for the next tick. Linear, compacted when the end is reached.
class pcm_fifo {
public:
  /// 120 ms at 16 kHz (the longest Opus packet) plus a tick at 48 kHz.
  static constexpr std::size_t capacity = 1920 + max_frame_samples;

  /// Room for up to `n` samples at the end (less when full); `commit` what was written.
  std::span<std::int16_t> prepare(std::size_t n) noexcept;
  void commit(std::size_t n) noexcept { end_ += n; }
  /// Moves up to out.size() samples from the front into `out`; returns how many.
  std::size_t pop(std::span<std::int16_t> out) noexcept;
  std::size_t size() const noexcept { return end_ - begin_; }
  void clear() noexcept { begin_ = end_ = 0; }

private:
  std::array<std::int16_t, capacity> buf_{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

/// Turns the jitter buffer's timeline (packets and holes) into PCM at the codec's rate and
/// hands on one 20 ms frame per `emit`. The codec is fixed by the subclass chosen at build.
class decoder_stage : public rtp_handler {
public:
  /// Samples of audio in a payload, in RTP clock units, for the jitter buffer.
  virtual jitter_buffer::duration_fn duration_fn() const noexcept = 0;
  /// Hands the next 20 ms (silence if the timeline gave less) to the next stage.
  void emit(media_time now, std::uint32_t sequence);
  std::uint32_t output_rate_hz() const noexcept { return out_rate_; }
  /// Forgets buffered samples and concealment history (a new source).
  virtual void reset() noexcept;
  /// Samples lost because the fifo was full (a bug or absurd packets; 0 in practice).
  std::uint64_t overruns() const noexcept { return overruns_; }

protected:
  decoder_stage(std::uint32_t rtp_clock_hz, std::uint32_t output_rate_hz, pcm_sink* next) noexcept;
  /// Output samples in `units` of the RTP clock.
  std::size_t samples_for(std::uint32_t units) const noexcept;
  /// Room for `n` samples, counting any shortfall as an overrun.
  std::span<std::int16_t> room(std::size_t n) noexcept;
  std::string next_name() const { return next_ ? next_->name() : std::string{}; }

  pcm_fifo fifo_;
  pcm_sink* next_;
  std::uint32_t rtp_clock_;
  std::uint32_t out_rate_;
  /// What reached the fifo since the last frame (decides the next frame's origin); a frame
  /// made only of samples left over from a long packet takes that packet's origin.
  void pushed(frame_origin o) noexcept;
  bool got_audio_ = false;
  bool got_concealed_ = false;
  bool got_any_ = false;
  frame_origin last_pushed_ = frame_origin::silence;
  std::uint64_t overruns_ = 0;
  std::array<std::int16_t, max_frame_samples> out_{};
};

/// G.711 decoding at 8 kHz. A lost stretch repeats the last 20 ms of audio, fading linearly
/// to silence over `conceal_fade` (then silence until the next packet).
class g711_decoder_stage final : public decoder_stage {
public:
  g711_decoder_stage(g711::law law, std::chrono::milliseconds conceal_fade, pcm_sink* next);
  void on_rtp(const rtp_packet& p) override;
  void on_gap(std::uint32_t duration, gap_kind kind, const rtp_packet* next) override;
  jitter_buffer::duration_fn duration_fn() const noexcept override;
  std::string name() const override;
  void reset() noexcept override;

private:
  static constexpr std::size_t history_samples = 160;
  g711::law law_;
  std::size_t fade_samples_;
  std::array<std::int16_t, history_samples> history_{};
  std::size_t conceal_pos_; ///< samples concealed since the last packet (fade position)
};

/// Opus decoding straight to 16 kHz mono. A lost stretch is recovered from the next packet's
/// in-band FEC when it is buffered (and `use_fec`), else concealed by libopus's PLC, for up
/// to `conceal_limit`; then silence.
class opus_decoder_stage final : public decoder_stage {
public:
  opus_decoder_stage(opus_decoder dec, bool use_fec, std::chrono::milliseconds conceal_limit,
                     pcm_sink* next);
  void on_rtp(const rtp_packet& p) override;
  void on_gap(std::uint32_t duration, gap_kind kind, const rtp_packet* next) override;
  jitter_buffer::duration_fn duration_fn() const noexcept override;
  std::string name() const override;
  void reset() noexcept override;
  std::uint64_t recovered() const noexcept { return recovered_; }

private:
  void conceal(std::size_t n, const rtp_packet* next);
  opus_decoder dec_;
  bool use_fec_;
  std::size_t conceal_limit_samples_;
  std::size_t conceal_run_ = 0;
  std::uint64_t recovered_ = 0;
};

/// Changes the rate of each frame (8 <-> 16 <-> 48 kHz).
class resample_stage final : public pcm_sink {
public:
  /// Check `ok()`.
  resample_stage(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, int quality, pcm_sink* next);
  bool ok() const noexcept { return rs_.ok(); }
  void on_frame(const frame_view& f) override;
  std::string name() const override;

private:
  resampler rs_;
  pcm_sink* next_;
  std::array<std::int16_t, max_frame_samples> out_{};
};

/// Runs the energy VAD on each frame and reports speech_started / speech_ended.
class vad_stage final : public pcm_sink {
public:
  /// `events` (not owned) may be empty.
  vad_stage(const vad_options& o, const event_callback* events, pcm_sink* next);
  void on_frame(const frame_view& f) override;
  std::string name() const override;
  const energy_vad& vad() const noexcept { return vad_; }

private:
  energy_vad vad_;
  const event_callback* events_;
  pcm_sink* next_;
  media_time started_at_{};
};

/// Hands each frame to a side sink (a recorder) and then on.
class tee_stage final : public pcm_sink {
public:
  tee_stage(pcm_sink* tap, pcm_sink* next) noexcept
      : tap_(tap)
      , next_(next) {}
  void on_frame(const frame_view& f) override;
  std::string name() const override;

private:
  pcm_sink* tap_;
  pcm_sink* next_;
};

/// Copies each frame (16 kHz) into a caller-owned `frame`, then hands it on if there is a
/// next stage. The inbound chain's last stage.
class capture_stage final : public pcm_sink {
public:
  capture_stage(frame* out, pcm_sink* next) noexcept
      : out_(out)
      , next_(next) {}
  void on_frame(const frame_view& f) override;
  std::string name() const override { return next_ ? next_->name() : std::string{}; }

private:
  frame* out_;
  pcm_sink* next_;
};

/// Encodes each 20 ms frame into one RTP payload and hands it to the packetiser. The packet
/// it passes has a timestamp relative to the stream's start (frame sequence x 20 ms) and the
/// marker bit on the first packet and on audio after silence (a talk spurt).
class encoder_stage : public pcm_sink {
protected:
  encoder_stage(std::uint8_t payload_type, std::uint32_t rtp_clock_hz, rtp_handler* next) noexcept;
  void send(const frame_view& f, std::span<const std::uint8_t> payload);
  std::string next_name() const { return next_ ? next_->name() : std::string{}; }

private:
  std::uint8_t payload_type_;
  std::uint32_t units_per_frame_;
  rtp_handler* next_;
  bool first_ = true;
  frame_origin last_origin_ = frame_origin::silence;
};

class g711_encoder_stage final : public encoder_stage {
public:
  g711_encoder_stage(g711::law law, std::uint8_t payload_type, rtp_handler* next) noexcept;
  void on_frame(const frame_view& f) override;
  std::string name() const override;

private:
  g711::law law_;
  std::array<std::uint8_t, max_frame_samples> payload_{};
};

/// Opus encoding. Digital silence is cheap: once `quiet_frames_before_reuse` frames of zeros
/// in a row went through the encoder (its history is silence by then), a further frame of
/// zeros is sent as the packet that encoding the last one gave, without running libopus. An
/// outbound stream is silent whenever the agent is not speaking, and the encoder was most of
/// an Opus call's CPU (bench_media: 4.8 ms per call-second, 2.5 of them encoding).
class opus_encoder_stage final : public encoder_stage {
public:
  static constexpr std::uint32_t quiet_frames_before_reuse = 5;

  opus_encoder_stage(opus_encoder enc, std::uint8_t payload_type, rtp_handler* next) noexcept;
  void on_frame(const frame_view& f) override;
  std::string name() const override;
  std::uint64_t errors() const noexcept { return errors_; }
  /// Frames sent as the last silence packet, without encoding.
  std::uint64_t reused() const noexcept { return reused_; }

private:
  opus_encoder enc_;
  std::array<std::uint8_t, 512> payload_{};
  std::size_t payload_size_ = 0; ///< of the last packet encoded (payload_ keeps it)
  std::uint32_t quiet_frames_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t reused_ = 0;
};

/// The packetiser: stamps SSRC, sequence number and timestamp (the stream's base plus the
/// packet's offset), serialises into its own buffer, and counts what it sent (for SR).
class rtp_sender final : public rtp_handler {
public:
  static constexpr std::size_t max_packet_bytes = rtp_fixed_header_bytes + 640;

  rtp_sender(std::string label, std::uint32_t ssrc, std::uint16_t initial_sequence,
             std::uint32_t initial_timestamp);
  void on_rtp(const rtp_packet& p) override;
  std::string name() const override { return label_; }

  /// The packet the last `on_rtp` produced (empty if it could not be written).
  std::span<const std::uint8_t> last_packet() const noexcept { return {buf_.data(), size_}; }
  std::uint32_t ssrc() const noexcept { return ssrc_; }
  std::uint32_t packets_sent() const noexcept { return packets_; }
  std::uint32_t octets_sent() const noexcept { return octets_; }
  std::uint32_t initial_timestamp() const noexcept { return ts_base_; }

private:
  std::string label_;
  std::uint32_t ssrc_;
  std::uint16_t seq_;
  std::uint32_t ts_base_;
  std::uint32_t packets_ = 0;
  std::uint32_t octets_ = 0;
  std::array<std::uint8_t, max_packet_bytes> buf_{};
  std::size_t size_ = 0;
};

} // namespace gobi::media
