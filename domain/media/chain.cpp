#include "domain/media/chain.hpp"

#include "domain/media/bytes.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace gobi::media {

std::string encoding_name(const codec_params& c) {
  std::string s;
  switch (c.kind) {
  case codec_kind::pcmu:
    s = "PCMU";
    break;
  case codec_kind::pcma:
    s = "PCMA";
    break;
  case codec_kind::opus:
    s = "opus";
    break;
  }
  // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict for `s += "/" + ...`.
  s.append(1, '/').append(std::to_string(c.clock_rate_hz));
  if (c.channels > 1) s.append(1, '/').append(std::to_string(c.channels));
  return s;
}

namespace {
status check_codec(const codec_params& c) {
  const bool g711 = c.kind == codec_kind::pcmu || c.kind == codec_kind::pcma;
  if (g711 && c.clock_rate_hz != 8000)
    return make_error(errc::invalid_argument,
                      "G.711 runs at 8000 Hz, not " + std::to_string(c.clock_rate_hz));
  if (c.kind == codec_kind::opus && c.clock_rate_hz != 48000)
    return make_error(errc::invalid_argument,
                      "opus uses a 48000 Hz RTP clock, not " + std::to_string(c.clock_rate_hz));
  if (c.payload_type > 127 || (c.telephone_event_pt && *c.telephone_event_pt > 127))
    return make_error(errc::invalid_argument, "payload type above 127");
  return unit;
}

g711::law law_of(codec_kind k) {
  return k == codec_kind::pcmu ? g711::law::mu : g711::law::a;
}
} // namespace

// --- inbound -------------------------------------------------------------------------------

result<std::unique_ptr<inbound_chain>> build_inbound_chain(const inbound_options& o) {
  if (auto ok = check_codec(o.codec); !ok) return std::move(ok).err();
  std::unique_ptr<inbound_chain> c{new inbound_chain};
  c->codec_ = o.codec;
  c->on_event_ = o.on_event;
  c->stats_ = receiver_stats{receiver_stats::options{o.codec.clock_rate_hz}};
  if (o.codec.telephone_event_pt)
    c->dtmf_.emplace(dtmf_detector::options{o.codec.clock_rate_hz, o.dtmf_end_timeout});

  // Last stage first: each constructor gets the stage it feeds.
  pcm_sink* next = &c->capture_.emplace(&c->out_, o.downstream);
  if (o.vad_enabled) next = &c->vad_.emplace(o.vad, &c->on_event_, next);
  if (o.codec.kind == codec_kind::opus) {
    // libopus decodes straight to 16 kHz: no resampler.
    opus_decoder dec{internal_rate_hz};
    if (!dec.ok()) return make_error(errc::internal, "libopus refused a 16 kHz mono decoder");
    c->decoder_ = std::make_unique<opus_decoder_stage>(std::move(dec), o.opus_fec,
                                                       o.jitter.conceal_limit, next);
  } else {
    auto& rs = c->resample_.emplace(8000, internal_rate_hz, o.resample_quality, next);
    if (!rs.ok())
      return make_error(errc::invalid_argument,
                        "speexdsp refused resampler quality " + std::to_string(o.resample_quality));
    c->decoder_ = std::make_unique<g711_decoder_stage>(law_of(o.codec.kind), o.conceal_fade, &rs);
  }
  jitter_options jo = o.jitter;
  jo.clock_rate_hz = o.codec.clock_rate_hz;
  c->jitter_.emplace(jo, c->decoder_->duration_fn(), c->decoder_.get());
  return c;
}

std::string inbound_chain::name() const {
  return join_names("rtp(" + encoding_name(codec_) + ")", jitter_->name());
}

rtp_error inbound_chain::push(std::span<const std::byte> datagram, media_time arrival) {
  return push(bytes::as_octets(datagram), arrival);
}

rtp_error inbound_chain::push(std::span<const std::uint8_t> datagram, media_time arrival) {
  rtp_packet p;
  if (const auto e = parse_rtp(datagram, p); e != rtp_error::ok) {
    ++rejected_;
    return e;
  }
  p.arrival = arrival;
  const bool audio = p.payload_type == codec_.payload_type;
  const bool event = codec_.telephone_event_pt && p.payload_type == *codec_.telephone_event_pt;
  if (!audio && !event) {
    ++ignored_; // comfort noise, an unnegotiated codec...
    return rtp_error::ok;
  }
  // The audio's source is the call's source: a new one (the peer restarted, a transfer)
  // starts the audio state afresh. Events from another SSRC (some gateways send RFC 4733 on a
  // stream of their own) are decoded but neither reset the audio nor enter its statistics:
  // their sequence numbers are another space.
  if (!have_ssrc_ || (audio && p.ssrc != ssrc_)) {
    if (have_ssrc_) {
      ++source_changes_;
      stats_.reset();
      jitter_->reset();
      decoder_->reset();
      if (dtmf_) dtmf_->reset();
    }
    have_ssrc_ = true;
    ssrc_ = p.ssrc;
  }
  if (p.ssrc == ssrc_) stats_.update(p.sequence, p.timestamp, arrival, audio);
  if (audio)
    jitter_->on_rtp(p);
  else if (dtmf_)
    emit(dtmf_->on_packet(p));
  return rtp_error::ok;
}

void inbound_chain::emit(const dtmf_detector::digits& d) {
  if (!on_event_) return;
  for (const auto& digit : d)
    on_event_(digit);
}

const frame& inbound_chain::tick(media_time now) {
  jitter_->tick(now);
  decoder_->emit(now, sequence_++);
  if (dtmf_) emit(dtmf_->tick(now));
  return out_;
}

void inbound_chain::on_sender_report(std::uint64_t ntp_timestamp, media_time arrival) noexcept {
  stats_.on_sender_report(ntp_timestamp, arrival);
}

report_block inbound_chain::make_report_block(media_time now) noexcept {
  return stats_.make_report_block(ssrc_, now);
}

// --- outbound ------------------------------------------------------------------------------

result<std::unique_ptr<outbound_chain>> build_outbound_chain(const outbound_options& o) {
  if (auto ok = check_codec(o.codec); !ok) return std::move(ok).err();
  std::unique_ptr<outbound_chain> c{new outbound_chain};
  c->codec_ = o.codec;
  c->on_event_ = o.on_event;
  c->units_per_frame_ = static_cast<std::uint32_t>(frame_samples_at(o.codec.clock_rate_hz));
  const auto queue_samples = std::max<std::size_t>(
      frame_samples, static_cast<std::size_t>(o.playout_queue.count()) * internal_rate_hz / 1000);
  c->queue_.assign(queue_samples, 0);
  if (o.codec.telephone_event_pt)
    c->dtmf_.emplace(dtmf_sender::options{o.codec.clock_rate_hz, o.dtmf_volume,
                                          defaults::dtmf_end_repeats, defaults::dtmf_gap_ticks});

  // Last stage first.
  auto& sender = c->sender_.emplace("rtp(" + encoding_name(o.codec) + ")", o.ssrc,
                                    o.initial_sequence, o.initial_timestamp);
  pcm_sink* next = nullptr;
  if (o.codec.kind == codec_kind::opus) {
    opus_settings s = o.opus;
    s.sample_rate_hz = internal_rate_hz;
    opus_encoder enc{s};
    if (!enc.ok())
      return make_error(errc::invalid_argument, "libopus refused the encoder settings");
    c->encoder_ =
        std::make_unique<opus_encoder_stage>(std::move(enc), o.codec.payload_type, &sender);
    next = c->encoder_.get();
  } else {
    c->encoder_ =
        std::make_unique<g711_encoder_stage>(law_of(o.codec.kind), o.codec.payload_type, &sender);
    auto& rs = c->resample_.emplace(internal_rate_hz, 8000, o.resample_quality, c->encoder_.get());
    if (!rs.ok())
      return make_error(errc::invalid_argument,
                        "speexdsp refused resampler quality " + std::to_string(o.resample_quality));
    next = &rs;
  }
  if (o.tap) next = &c->tee_.emplace(o.tap, next);
  c->head_stage_ = next;
  return c;
}

std::string outbound_chain::name() const {
  return join_names("pcm(" + std::to_string(internal_rate_hz) + ")", head_stage_->name());
}

std::size_t outbound_chain::play(std::span<const std::int16_t> pcm) noexcept {
  const std::size_t cap = queue_.size();
  const std::size_t n = std::min(pcm.size(), cap - queued_);
  std::size_t tail = (head_ + queued_) % cap;
  for (std::size_t i = 0; i < n;) {
    const std::size_t run = std::min(n - i, cap - tail);
    std::copy_n(pcm.begin() + static_cast<std::ptrdiff_t>(i), run,
                queue_.begin() + static_cast<std::ptrdiff_t>(tail));
    i += run;
    tail = (tail + run) % cap;
  }
  queued_ += n;
  return n;
}

std::size_t outbound_chain::pop(std::span<std::int16_t> out) noexcept {
  const std::size_t cap = queue_.size();
  const std::size_t n = std::min(out.size(), queued_);
  for (std::size_t i = 0; i < n;) {
    const std::size_t run = std::min(n - i, cap - head_);
    std::copy_n(queue_.begin() + static_cast<std::ptrdiff_t>(head_), run,
                out.begin() + static_cast<std::ptrdiff_t>(i));
    i += run;
    head_ = (head_ + run) % cap;
  }
  queued_ -= n;
  return n;
}

namespace {
std::chrono::milliseconds samples_to_ms(std::size_t samples) {
  return std::chrono::milliseconds{static_cast<std::int64_t>(samples) * 1000 / internal_rate_hz};
}
} // namespace

void outbound_chain::clear() {
  const bool playing = queued_ > 0 || played_ > 0;
  const std::size_t position = played_;
  queued_ = 0;
  head_ = 0;
  played_ = 0;
  if (dtmf_) dtmf_->clear();
  if (playing && on_event_) on_event_(playback_finished{samples_to_ms(position), true});
}

bool outbound_chain::send_dtmf(char digit, std::chrono::milliseconds duration) {
  return dtmf_ && dtmf_->queue(digit, duration);
}

std::span<const std::uint8_t> outbound_chain::tick(media_time now) {
  have_tick_ = true;
  last_tick_ = now;
  const std::uint32_t offset = tick_index_ * units_per_frame_;
  if (dtmf_) {
    if (const auto ev = dtmf_->next(offset)) {
      rtp_packet p;
      p.payload_type = *codec_.telephone_event_pt;
      p.marker = ev->marker;
      p.timestamp = ev->timestamp;
      p.payload = ev->payload;
      sender_->on_rtp(p);
      ++tick_index_;
      return sender_->last_packet();
    }
  }
  const std::size_t got = pop(current_.samples);
  std::fill(current_.samples.begin() + static_cast<std::ptrdiff_t>(got), current_.samples.end(),
            std::int16_t{0});
  current_.time = now;
  current_.sequence = tick_index_;
  current_.origin = got > 0 ? frame_origin::audio : frame_origin::silence;
  head_stage_->on_frame(current_.view());
  ++tick_index_;
  played(got);
  return sender_->last_packet();
}

void outbound_chain::skip(media_time now) {
  have_tick_ = true;
  last_tick_ = now;
  ++skipped_ticks_;
  const std::uint32_t offset = tick_index_ * units_per_frame_;
  ++tick_index_;
  if (dtmf_ && dtmf_->next(offset)) return; // a digit's packet was due: the audio waits
  const std::size_t got = std::min(queued_, frame_samples);
  head_ = (head_ + got) % queue_.size();
  queued_ -= got;
  played(got);
}

void outbound_chain::played(std::size_t got) {
  if (got == 0) return;
  played_ += got;
  if (queued_ == 0) {
    const std::size_t position = played_;
    played_ = 0;
    if (on_event_) on_event_(playback_finished{samples_to_ms(position), false});
  }
}

sender_info outbound_chain::make_sender_info(std::uint64_t ntp_timestamp,
                                             media_time now) const noexcept {
  sender_info s;
  s.ntp_timestamp = ntp_timestamp;
  // The RTP time of `now`: the next tick's timestamp, less what is left until it is due.
  const std::int64_t since = have_tick_ ? to_rtp_units(now - last_tick_, codec_.clock_rate_hz) : 0;
  const std::int64_t ticked = std::int64_t{tick_index_} - (have_tick_ ? 1 : 0);
  s.rtp_timestamp =
      sender_->initial_timestamp() + static_cast<std::uint32_t>(ticked * units_per_frame_ + since);
  s.packet_count = sender_->packets_sent();
  s.octet_count = sender_->octets_sent();
  return s;
}

} // namespace gobi::media
