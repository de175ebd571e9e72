#include "domain/media/stages.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace gobi::media {

// --- pcm_fifo ------------------------------------------------------------------------------

std::span<std::int16_t> pcm_fifo::prepare(std::size_t n) noexcept {
  if (capacity - end_ < n && begin_ > 0) {
    std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(begin_),
              buf_.begin() + static_cast<std::ptrdiff_t>(end_), buf_.begin());
    end_ -= begin_;
    begin_ = 0;
  }
  return {buf_.data() + end_, std::min(n, capacity - end_)};
}

std::size_t pcm_fifo::pop(std::span<std::int16_t> out) noexcept {
  const std::size_t n = std::min(out.size(), size());
  std::copy_n(buf_.begin() + static_cast<std::ptrdiff_t>(begin_), n, out.begin());
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
  return n;
}

// --- decoder_stage -------------------------------------------------------------------------

decoder_stage::decoder_stage(std::uint32_t rtp_clock_hz, std::uint32_t output_rate_hz,
                             pcm_sink* next) noexcept
    : next_(next)
    , rtp_clock_(rtp_clock_hz)
    , out_rate_(output_rate_hz) {}

std::size_t decoder_stage::samples_for(std::uint32_t units) const noexcept {
  return static_cast<std::size_t>(std::uint64_t{units} * out_rate_ / rtp_clock_);
}

std::span<std::int16_t> decoder_stage::room(std::size_t n) noexcept {
  auto r = fifo_.prepare(n);
  overruns_ += n - r.size();
  return r;
}

void decoder_stage::reset() noexcept {
  fifo_.clear();
  got_audio_ = got_concealed_ = got_any_ = false;
  last_pushed_ = frame_origin::silence;
}

void decoder_stage::pushed(frame_origin o) noexcept {
  got_any_ = true;
  got_audio_ = got_audio_ || o == frame_origin::audio;
  got_concealed_ = got_concealed_ || o == frame_origin::concealed;
  last_pushed_ = o;
}

void decoder_stage::emit(media_time now, std::uint32_t sequence) {
  const std::size_t n = frame_samples_at(out_rate_);
  const auto out = std::span<std::int16_t>{out_}.first(n);
  const std::size_t got = fifo_.pop(out);
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(got), out.end(), std::int16_t{0});
  frame_origin origin = last_pushed_;
  if (got_any_)
    origin = got_audio_       ? frame_origin::audio
             : got_concealed_ ? frame_origin::concealed
                              : frame_origin::silence;
  got_audio_ = got_concealed_ = got_any_ = false;
  if (next_) next_->on_frame(frame_view{out, out_rate_, now, sequence, origin});
}

// --- g711_decoder_stage --------------------------------------------------------------------

namespace {
std::uint32_t g711_duration(std::span<const std::uint8_t> payload) noexcept {
  return static_cast<std::uint32_t>(payload.size()); // one byte per 8 kHz sample
}
} // namespace

g711_decoder_stage::g711_decoder_stage(g711::law law, std::chrono::milliseconds conceal_fade,
                                       pcm_sink* next)
    : decoder_stage(8000, 8000, next)
    , law_(law)
    , fade_samples_(static_cast<std::size_t>(std::max<std::int64_t>(conceal_fade.count(), 0) * 8))
    , conceal_pos_(fade_samples_) {}

jitter_buffer::duration_fn g711_decoder_stage::duration_fn() const noexcept {
  return &g711_duration;
}

std::string g711_decoder_stage::name() const {
  return join_names("g711", next_name());
}

void g711_decoder_stage::reset() noexcept {
  decoder_stage::reset();
  history_.fill(0);
  conceal_pos_ = fade_samples_;
}

void g711_decoder_stage::on_rtp(const rtp_packet& p) {
  const auto out = room(p.payload.size());
  const std::size_t n = g711::decode(law_, p.payload, out);
  fifo_.commit(n);
  // Keep the last 20 ms for concealment (fewer when the packet is shorter: shift them in).
  const std::size_t keep = std::min(n, history_samples);
  std::copy(history_.begin() + static_cast<std::ptrdiff_t>(keep), history_.end(), history_.begin());
  std::copy(out.begin() + static_cast<std::ptrdiff_t>(n - keep),
            out.begin() + static_cast<std::ptrdiff_t>(n),
            history_.end() - static_cast<std::ptrdiff_t>(keep));
  conceal_pos_ = 0;
  pushed(frame_origin::audio);
}

void g711_decoder_stage::on_gap(std::uint32_t duration, gap_kind kind, const rtp_packet*) {
  const auto out = room(samples_for(duration));
  if (kind == gap_kind::silence) {
    std::fill(out.begin(), out.end(), std::int16_t{0});
    conceal_pos_ = fade_samples_; // nothing to repeat after a silence
    pushed(frame_origin::silence);
  } else {
    for (auto& s : out) {
      if (conceal_pos_ < fade_samples_) {
        // Repeat the last 20 ms, fading linearly from full level to zero.
        const std::int32_t h = history_[conceal_pos_ % history_samples];
        const auto left = static_cast<std::int64_t>(fade_samples_ - conceal_pos_);
        s = static_cast<std::int16_t>(h * left / static_cast<std::int64_t>(fade_samples_));
        ++conceal_pos_;
      } else {
        s = 0;
      }
    }
    pushed(frame_origin::concealed);
  }
  fifo_.commit(out.size());
}

// --- opus_decoder_stage --------------------------------------------------------------------

namespace {
std::uint32_t opus_duration(std::span<const std::uint8_t> payload) noexcept {
  return opus_decoder::packet_duration_48k(payload);
}
} // namespace

opus_decoder_stage::opus_decoder_stage(opus_decoder dec, bool use_fec,
                                       std::chrono::milliseconds conceal_limit, pcm_sink* next)
    : decoder_stage(48000, internal_rate_hz, next)
    , dec_(std::move(dec))
    , use_fec_(use_fec)
    , conceal_limit_samples_(static_cast<std::size_t>(conceal_limit.count()) * internal_rate_hz /
                             1000) {}

jitter_buffer::duration_fn opus_decoder_stage::duration_fn() const noexcept {
  return &opus_duration;
}

std::string opus_decoder_stage::name() const {
  return join_names("opus", next_name());
}

void opus_decoder_stage::reset() noexcept {
  decoder_stage::reset();
  conceal_run_ = 0;
}

void opus_decoder_stage::on_rtp(const rtp_packet& p) {
  const auto out = room(pcm_fifo::capacity);
  const int n = dec_.decode(p.payload, out);
  if (n < 0) {
    conceal(frame_samples_at(out_rate_), nullptr); // corrupt packet: treat it as lost
    return;
  }
  fifo_.commit(static_cast<std::size_t>(n));
  conceal_run_ = 0;
  pushed(frame_origin::audio);
}

void opus_decoder_stage::conceal(std::size_t n, const rtp_packet* next) {
  // libopus works in multiples of 2.5 ms: decode a little more and keep only `n`.
  const std::size_t quantum = out_rate_ / 400;
  const std::size_t padded = (n + quantum - 1) / quantum * quantum;
  const auto out = room(padded);
  int got = -1;
  if (conceal_run_ < conceal_limit_samples_ && out.size() == padded) {
    if (use_fec_ && next) {
      got = dec_.recover(next->payload, out);
      if (got > 0) ++recovered_;
    } else {
      got = dec_.conceal(out);
    }
  }
  if (got < 0) std::fill(out.begin(), out.end(), std::int16_t{0});
  conceal_run_ += n;
  fifo_.commit(std::min(n, out.size()));
  pushed(frame_origin::concealed);
}

void opus_decoder_stage::on_gap(std::uint32_t duration, gap_kind kind, const rtp_packet* next) {
  const std::size_t n = samples_for(duration);
  if (kind == gap_kind::silence) {
    const auto out = room(n);
    std::fill(out.begin(), out.end(), std::int16_t{0});
    fifo_.commit(out.size());
    conceal_run_ = conceal_limit_samples_;
    pushed(frame_origin::silence);
    return;
  }
  conceal(n, next);
}

// --- resample_stage ------------------------------------------------------------------------

resample_stage::resample_stage(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, int quality,
                               pcm_sink* next)
    : rs_(in_rate_hz, out_rate_hz, quality)
    , next_(next) {}

void resample_stage::on_frame(const frame_view& f) {
  const std::size_t n = rs_.process(f.samples, out_);
  if (next_)
    next_->on_frame(frame_view{std::span<const std::int16_t>{out_.data(), n}, rs_.out_rate_hz(),
                               f.time, f.sequence, f.origin});
}

std::string resample_stage::name() const {
  return join_names("resample(" + std::to_string(rs_.out_rate_hz()) + ")",
                    next_ ? next_->name() : std::string{});
}

// --- vad_stage -----------------------------------------------------------------------------

vad_stage::vad_stage(const vad_options& o, const event_callback* events, pcm_sink* next)
    : vad_(o)
    , events_(events)
    , next_(next) {}

void vad_stage::on_frame(const frame_view& f) {
  const vad_result r = vad_.process(f);
  if (r.transition != vad_transition::none && events_ && *events_) {
    if (r.transition == vad_transition::speech_started) {
      started_at_ = r.at;
      (*events_)(speech_started{r.at});
    } else {
      (*events_)(speech_ended{
          r.at, std::chrono::duration_cast<std::chrono::milliseconds>(r.at - started_at_)});
    }
  }
  if (next_) next_->on_frame(f);
}

std::string vad_stage::name() const {
  return join_names("vad", next_ ? next_->name() : std::string{});
}

// --- tee_stage, capture_stage --------------------------------------------------------------

void tee_stage::on_frame(const frame_view& f) {
  if (tap_) tap_->on_frame(f);
  if (next_) next_->on_frame(f);
}

std::string tee_stage::name() const {
  return join_names("tee(" + (tap_ ? tap_->name() : std::string{}) + ")",
                    next_ ? next_->name() : std::string{});
}

void capture_stage::on_frame(const frame_view& f) {
  const std::size_t n = std::min(f.samples.size(), out_->samples.size());
  std::copy_n(f.samples.begin(), n, out_->samples.begin());
  std::fill(out_->samples.begin() + static_cast<std::ptrdiff_t>(n), out_->samples.end(),
            std::int16_t{0});
  out_->time = f.time;
  out_->sequence = f.sequence;
  out_->origin = f.origin;
  if (next_) next_->on_frame(f);
}

// --- encoders ------------------------------------------------------------------------------

encoder_stage::encoder_stage(std::uint8_t payload_type, std::uint32_t rtp_clock_hz,
                             rtp_handler* next) noexcept
    : payload_type_(payload_type)
    , units_per_frame_(static_cast<std::uint32_t>(frame_samples_at(rtp_clock_hz)))
    , next_(next) {}

void encoder_stage::send(const frame_view& f, std::span<const std::uint8_t> payload) {
  rtp_packet p;
  p.payload_type = payload_type_;
  p.timestamp = f.sequence * units_per_frame_;
  p.marker = first_ || (f.origin == frame_origin::audio && last_origin_ != frame_origin::audio);
  p.payload = payload;
  first_ = false;
  last_origin_ = f.origin;
  if (next_) next_->on_rtp(p);
}

g711_encoder_stage::g711_encoder_stage(g711::law law, std::uint8_t payload_type,
                                       rtp_handler* next) noexcept
    : encoder_stage(payload_type, 8000, next)
    , law_(law) {}

void g711_encoder_stage::on_frame(const frame_view& f) {
  const std::size_t n = g711::encode(law_, f.samples, payload_);
  send(f, std::span<const std::uint8_t>{payload_.data(), n});
}

std::string g711_encoder_stage::name() const {
  return join_names("g711", next_name());
}

opus_encoder_stage::opus_encoder_stage(opus_encoder enc, std::uint8_t payload_type,
                                       rtp_handler* next) noexcept
    : encoder_stage(payload_type, 48000, next)
    , enc_(std::move(enc)) {}

void opus_encoder_stage::on_frame(const frame_view& f) {
  const bool silent =
      std::all_of(f.samples.begin(), f.samples.end(), [](std::int16_t v) { return v == 0; });
  if (silent && quiet_frames_ >= quiet_frames_before_reuse && payload_size_ > 0) {
    ++reused_;
    send(f, std::span<const std::uint8_t>{payload_.data(), payload_size_});
    return;
  }
  const int n = enc_.encode(f.samples, payload_);
  if (n <= 0) {
    ++errors_;
    payload_size_ = 0;
    quiet_frames_ = 0;
    return;
  }
  payload_size_ = static_cast<std::size_t>(n);
  quiet_frames_ = silent ? std::min(quiet_frames_ + 1, quiet_frames_before_reuse) : 0;
  send(f, std::span<const std::uint8_t>{payload_.data(), payload_size_});
}

std::string opus_encoder_stage::name() const {
  return join_names("opus", next_name());
}

// --- rtp_sender ----------------------------------------------------------------------------

rtp_sender::rtp_sender(std::string label, std::uint32_t ssrc, std::uint16_t initial_sequence,
                       std::uint32_t initial_timestamp)
    : label_(std::move(label))
    , ssrc_(ssrc)
    , seq_(initial_sequence)
    , ts_base_(initial_timestamp) {}

void rtp_sender::on_rtp(const rtp_packet& in) {
  rtp_packet p;
  p.marker = in.marker;
  p.payload_type = in.payload_type;
  p.sequence = seq_;
  p.timestamp = ts_base_ + in.timestamp;
  p.ssrc = ssrc_;
  p.payload = in.payload;
  size_ = write_rtp(p, buf_);
  if (size_ == 0) return;
  ++seq_;
  ++packets_;
  octets_ += static_cast<std::uint32_t>(in.payload.size());
}

} // namespace gobi::media
