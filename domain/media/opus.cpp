#include "domain/media/opus.hpp"

#include <opus/opus.h>

#include <limits>

namespace gobi::media {

struct opus_encoder::state {};
struct opus_decoder::state {};

namespace {
// Templates, so the private `state` types need not be named here.
template <class S> OpusEncoder* enc(S* s) noexcept {
  return reinterpret_cast<OpusEncoder*>(s);
}
template <class S> OpusDecoder* dec(S* s) noexcept {
  return reinterpret_cast<OpusDecoder*>(s);
}
} // namespace

// --- encoder -------------------------------------------------------------------------------

void opus_encoder::deleter::operator()(state* s) const noexcept {
  opus_encoder_destroy(reinterpret_cast<OpusEncoder*>(s));
}

opus_encoder::opus_encoder(const opus_settings& s) {
  int err = OPUS_OK;
  OpusEncoder* e = opus_encoder_create(static_cast<opus_int32>(s.sample_rate_hz), 1,
                                       OPUS_APPLICATION_VOIP, &err);
  if (!e || err != OPUS_OK) return;
  state_.reset(reinterpret_cast<state*>(e));
  opus_encoder_ctl(e, OPUS_SET_BITRATE(s.bitrate_bps));
  opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(s.complexity));
  opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(s.inband_fec ? 1 : 0));
  opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(s.expected_loss_percent));
  opus_encoder_ctl(e, OPUS_SET_DTX(s.dtx ? 1 : 0));
}

opus_encoder::~opus_encoder() = default;
opus_encoder::opus_encoder(opus_encoder&&) noexcept = default;
opus_encoder& opus_encoder::operator=(opus_encoder&&) noexcept = default;

int opus_encoder::encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> out) noexcept {
  if (!state_) return OPUS_INVALID_STATE;
  constexpr auto max = std::numeric_limits<opus_int32>::max();
  return opus_encode(enc(state_.get()), pcm.data(), static_cast<int>(pcm.size()), out.data(),
                     static_cast<opus_int32>(std::min<std::size_t>(out.size(), max)));
}

std::size_t opus_encoder::state_bytes() const noexcept {
  return static_cast<std::size_t>(opus_encoder_get_size(1));
}

// --- decoder -------------------------------------------------------------------------------

namespace {
int samples(std::span<std::int16_t> out) noexcept {
  return static_cast<int>(std::min<std::size_t>(out.size(), 5760));
}
} // namespace

void opus_decoder::deleter::operator()(state* s) const noexcept {
  opus_decoder_destroy(reinterpret_cast<OpusDecoder*>(s));
}

opus_decoder::opus_decoder(std::uint32_t sample_rate_hz) {
  int err = OPUS_OK;
  OpusDecoder* d = opus_decoder_create(static_cast<opus_int32>(sample_rate_hz), 1, &err);
  if (d && err == OPUS_OK) state_.reset(reinterpret_cast<state*>(d));
}

opus_decoder::~opus_decoder() = default;
opus_decoder::opus_decoder(opus_decoder&&) noexcept = default;
opus_decoder& opus_decoder::operator=(opus_decoder&&) noexcept = default;

int opus_decoder::decode(std::span<const std::uint8_t> packet,
                         std::span<std::int16_t> out) noexcept {
  if (!state_) return OPUS_INVALID_STATE;
  if (packet.empty()) return OPUS_INVALID_PACKET; // an empty packet would mean "conceal" to libopus
  return opus_decode(dec(state_.get()), packet.data(), static_cast<opus_int32>(packet.size()),
                     out.data(), samples(out), 0);
}

int opus_decoder::conceal(std::span<std::int16_t> out) noexcept {
  if (!state_) return OPUS_INVALID_STATE;
  return opus_decode(dec(state_.get()), nullptr, 0, out.data(), samples(out), 0);
}

int opus_decoder::recover(std::span<const std::uint8_t> next,
                          std::span<std::int16_t> out) noexcept {
  if (!state_) return OPUS_INVALID_STATE;
  if (next.empty()) return conceal(out);
  // Without LBRR data in `next`, libopus conceals the frame instead.
  return opus_decode(dec(state_.get()), next.data(), static_cast<opus_int32>(next.size()),
                     out.data(), samples(out), 1);
}

std::size_t opus_decoder::state_bytes() const noexcept {
  return static_cast<std::size_t>(opus_decoder_get_size(1));
}

std::uint32_t opus_decoder::packet_duration_48k(std::span<const std::uint8_t> packet) noexcept {
  if (packet.empty()) return 0;
  const int n =
      opus_packet_get_nb_samples(packet.data(), static_cast<opus_int32>(packet.size()), 48000);
  return n > 0 ? static_cast<std::uint32_t>(n) : 0;
}

} // namespace gobi::media
