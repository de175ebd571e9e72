// Decoder stages on their own: what they make of packets and holes.

#include "domain/media/stages.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {
class frames final : public pcm_sink {
public:
  void on_frame(const frame_view& f) override {
    levels.push_back(test::rms(f.samples));
    origins.push_back(f.origin);
    sizes.push_back(f.samples.size());
  }
  std::string name() const override { return "sink"; }
  std::vector<double> levels;
  std::vector<frame_origin> origins;
  std::vector<std::size_t> sizes;
};
} // namespace

TEST_CASE("media stages: G.711 conceals by repeating the last audio, fading to silence") {
  frames out;
  g711_decoder_stage dec{g711::law::mu, 80ms, &out};
  CHECK(dec.name() == "g711 -> sink");
  // Five packets of a tone, then five lost ones, then a silence gap.
  std::vector<std::uint8_t> payload(160);
  for (int k = 0; k < 5; ++k) {
    const auto pcm = test::tone(440, 10000, 160, 8000, static_cast<std::size_t>(k) * 160);
    g711::encode(g711::law::mu, pcm, payload);
    rtp_packet p;
    p.payload = payload;
    dec.on_rtp(p);
    dec.emit(media_time{k * 20ms}, static_cast<std::uint32_t>(k));
  }
  for (int k = 5; k < 10; ++k) {
    dec.on_gap(160, gap_kind::lost, nullptr);
    dec.emit(media_time{k * 20ms}, static_cast<std::uint32_t>(k));
  }
  dec.on_gap(160, gap_kind::silence, nullptr);
  dec.emit(media_time{200ms}, 10);
  REQUIRE(out.levels.size() == 11);
  for (auto s : out.sizes)
    CHECK(s == 160); // 20 ms at 8 kHz
  const double level = out.levels[4];
  CHECK(level > 6000);
  // Linear fade over 80 ms: the 20 ms steps average 7/8, 5/8, 3/8 and 1/8 of the level.
  CHECK(out.levels[5] == doctest::Approx(level * 0.875).epsilon(0.05));
  CHECK(out.levels[6] == doctest::Approx(level * 0.625).epsilon(0.05));
  CHECK(out.levels[7] == doctest::Approx(level * 0.375).epsilon(0.07));
  CHECK(out.levels[8] < level * 0.2);
  CHECK(out.levels[9] == 0);
  CHECK(out.levels[10] == 0);
  CHECK(out.origins[4] == frame_origin::audio);
  CHECK(out.origins[5] == frame_origin::concealed);
  CHECK(out.origins[10] == frame_origin::silence);
}

TEST_CASE("media stages: Opus conceals with PLC up to the limit, then plays silence") {
  frames out;
  opus_decoder_stage dec{opus_decoder{16000}, true, 100ms, &out};
  CHECK(dec.name() == "opus -> sink");
  opus_encoder enc{opus_settings{}};
  std::array<std::uint8_t, 512> buf{};
  for (int k = 0; k < 10; ++k) {
    const auto pcm = test::tone(440, 8000, 320, 16000, static_cast<std::size_t>(k) * 320);
    const int n = enc.encode(pcm, buf);
    REQUIRE(n > 0);
    rtp_packet p;
    p.payload = std::span<const std::uint8_t>{buf.data(), static_cast<std::size_t>(n)};
    CHECK(dec.duration_fn()(p.payload) == 960);
    dec.on_rtp(p);
    dec.emit(media_time{k * 20ms}, static_cast<std::uint32_t>(k));
  }
  for (int k = 10; k < 20; ++k) {
    dec.on_gap(960, gap_kind::lost, nullptr);
    dec.emit(media_time{k * 20ms}, static_cast<std::uint32_t>(k));
  }
  REQUIRE(out.levels.size() == 20);
  CHECK(out.sizes[0] == 320);                  // straight to 16 kHz
  CHECK(out.levels[10] > 0.3 * out.levels[9]); // PLC: a frame that continues the signal
  for (int k = 15; k < 20; ++k)
    CHECK(out.levels[static_cast<std::size_t>(k)] == 0); // past 100 ms: silence
  CHECK(out.origins[10] == frame_origin::concealed);
  // A corrupt packet is concealed rather than passed on.
  const std::array<std::uint8_t, 1> junk{0xff};
  rtp_packet p;
  p.payload = junk;
  dec.on_rtp(p);
  dec.emit(media_time{400ms}, 20);
  CHECK(out.sizes.back() == 320);
}

namespace {
/// Keeps the payload of every packet an encoder stage sends.
class payloads final : public rtp_handler {
public:
  void on_rtp(const rtp_packet& p) override { all.emplace_back(p.payload.begin(), p.payload.end()); }
  std::string name() const override { return "payloads"; }
  std::vector<std::vector<std::uint8_t>> all;
};
} // namespace

TEST_CASE("media stages: Opus sends steady silence without encoding it, and speaks on cleanly") {
  payloads sent;
  opus_encoder_stage stage{opus_encoder{opus_settings{}}, 111, &sent};
  // 200 ms of tone, 600 ms of zeros, 400 ms of tone: 60 frames.
  std::vector<std::int16_t> pcm = test::tone(440, 8000, 3200, 16000);
  pcm.insert(pcm.end(), 9600, std::int16_t{0});
  const auto after = test::tone(440, 8000, 6400, 16000, 12800);
  pcm.insert(pcm.end(), after.begin(), after.end());
  for (std::uint32_t k = 0; k * 320 < pcm.size(); ++k)
    stage.on_frame(frame_view{std::span<const std::int16_t>{pcm}.subspan(k * 320, 320), 16000,
                              media_time{k * 20ms}, k, frame_origin::audio});
  REQUIRE(sent.all.size() == 60);
  CHECK(stage.errors() == 0);
  // 30 silent frames: the first five are encoded, the other 25 reuse the fifth's packet.
  CHECK(stage.reused() == 30 - opus_encoder_stage::quiet_frames_before_reuse);
  for (std::size_t k = 15; k < 40; ++k)
    CHECK(sent.all[k] == sent.all[14]);

  // Decoded, the silence is silent and the tone after it is the tone, at its level.
  opus_decoder dec{16000};
  std::vector<std::int16_t> out(320), decoded;
  for (const auto& p : sent.all) {
    REQUIRE(dec.decode(p, out) == 320);
    decoded.insert(decoded.end(), out.begin(), out.end());
  }
  const auto span = std::span<const std::int16_t>{decoded};
  CHECK(test::rms(span.subspan(20 * 320, 15 * 320)) < 20); // frames 20-34: silence
  const auto tail = span.subspan(45 * 320, 15 * 320);       // 100 ms after speech resumed
  CHECK(test::tone_fraction(tail, 440, 16000) > 0.9);
  CHECK(test::rms(tail) == doctest::Approx(8000 / std::sqrt(2.0)).epsilon(0.25));
}
