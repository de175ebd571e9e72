// Opus and resampler wrappers: a tone goes through and comes out as the same tone.

#include "domain/media/opus.hpp"
#include "domain/media/resampler.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

using namespace gobi::media;
using gobi::media::test::rms;
using gobi::media::test::tone;
using gobi::media::test::tone_fraction;

namespace {
constexpr std::size_t frame16 = 320;

/// Encodes `pcm` (16 kHz) in 20 ms packets.
std::vector<std::vector<std::uint8_t>> encode_all(opus_encoder& enc,
                                                  const std::vector<std::int16_t>& pcm) {
  std::vector<std::vector<std::uint8_t>> packets;
  std::array<std::uint8_t, 512> buf{};
  for (std::size_t i = 0; i + frame16 <= pcm.size(); i += frame16) {
    const int n = enc.encode(std::span<const std::int16_t>{pcm}.subspan(i, frame16), buf);
    REQUIRE(n > 0);
    packets.emplace_back(buf.begin(), buf.begin() + n);
  }
  return packets;
}
} // namespace

TEST_CASE("media opus: a 1 kHz tone survives encode and decode at 16 kHz") {
  for (const int bitrate : {16000, 24000, 32000}) {
    CAPTURE(bitrate);
    opus_settings s;
    s.bitrate_bps = bitrate;
    opus_encoder enc{s};
    opus_decoder dec{16000};
    REQUIRE(enc.ok());
    REQUIRE(dec.ok());
    const auto in = tone(1000, 8000, 16000, 16000); // 1 s
    const auto packets = encode_all(enc, in);
    REQUIRE(packets.size() == 50);
    std::vector<std::int16_t> out;
    std::array<std::int16_t, 1920> buf{};
    for (const auto& p : packets) {
      CHECK(opus_decoder::packet_duration_48k(p) == 960);
      const int n = dec.decode(p, buf);
      REQUIRE(n == static_cast<int>(frame16));
      out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    // Skip the codec's start-up; the rest is the same tone at about the same level.
    const auto steady = std::span<const std::int16_t>{out}.subspan(3200);
    CHECK(tone_fraction(steady, 1000, 16000) > 0.9);
    CHECK(tone_fraction(steady, 1500, 16000) < 0.01);
    const double level_db = 20 * std::log10(rms(steady) / rms(in));
    CHECK(std::abs(level_db) < 2.0);
  }
}

TEST_CASE("media opus: concealment and FEC fill a lost frame") {
  opus_settings s;
  s.inband_fec = true;
  s.expected_loss_percent = 20;
  s.bitrate_bps = 24000;
  opus_encoder enc{s};
  const auto in = tone(440, 8000, 16000, 16000);
  const auto packets = encode_all(enc, in);

  SUBCASE("PLC continues the signal, then fades") {
    opus_decoder dec{16000};
    std::array<std::int16_t, 1920> buf{};
    for (std::size_t i = 0; i < 25; ++i)
      REQUIRE(dec.decode(packets[i], buf) == 320);
    const double before = rms(std::span<const std::int16_t>{buf.data(), 320});
    std::vector<double> levels;
    double first_fraction = 0;
    for (int k = 0; k < 10; ++k) {
      REQUIRE(dec.conceal(std::span<std::int16_t>{buf.data(), 320}) == 320);
      levels.push_back(rms(std::span<const std::int16_t>{buf.data(), 320}));
      if (k == 0)
        first_fraction = tone_fraction(std::span<const std::int16_t>{buf.data(), 320}, 440, 16000);
    }
    CHECK(levels.front() > 0.3 * before); // a frame of the tone, not silence
    CHECK(first_fraction > 0.5);
    CHECK(levels.back() < levels.front()); // and it fades
  }
  SUBCASE("FEC in the next packet recovers the lost one") {
    opus_decoder dec{16000};
    std::array<std::int16_t, 1920> buf{};
    for (std::size_t i = 0; i < 25; ++i)
      REQUIRE(dec.decode(packets[i], buf) == 320);
    // Packet 25 is lost; 26 arrived: recover 25 from it, then decode 26.
    REQUIRE(dec.recover(packets[26], std::span<std::int16_t>{buf.data(), 320}) == 320);
    const std::span<const std::int16_t> recovered{buf.data(), 320};
    CHECK(tone_fraction(recovered, 440, 16000) > 0.5);
    CHECK(rms(recovered) > 0.3 * rms(std::span<const std::int16_t>{in}.subspan(25 * 320, 320)));
    CHECK(dec.decode(packets[26], buf) == 320);
  }
  CHECK(opus_decoder::packet_duration_48k({}) == 0);
}

TEST_CASE("media resampler: a 1 kHz tone keeps its frequency, level and length") {
  struct row {
    std::uint32_t from, to;
    int quality;
  };
  for (const auto& r : std::vector<row>{{8000, 16000, 3},
                                        {16000, 8000, 3},
                                        {16000, 48000, 3},
                                        {48000, 16000, 3},
                                        {8000, 48000, 5},
                                        {8000, 16000, 0},
                                        {8000, 16000, 10}}) {
    CAPTURE(r.from);
    CAPTURE(r.to);
    CAPTURE(r.quality);
    resampler rs{r.from, r.to, r.quality};
    REQUIRE(rs.ok());
    const std::size_t in_frame = r.from / 50, out_frame = r.to / 50;
    const auto in = tone(1000, 10000, r.from, r.from); // 1 s
    std::vector<std::int16_t> out;
    std::vector<std::int16_t> buf(out_frame * 2);
    for (std::size_t i = 0; i < in.size(); i += in_frame) {
      const std::size_t n = rs.process(std::span<const std::int16_t>{in}.subspan(i, in_frame), buf);
      CHECK(n == out_frame); // 20 ms in, 20 ms out, every time
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    REQUIRE(out.size() == r.to);
    const auto steady = std::span<const std::int16_t>{out}.subspan(r.to / 10);
    CHECK(tone_fraction(steady, 1000, r.to) > 0.97);
    CHECK(std::abs(20 * std::log10(rms(steady) / rms(in))) < 1.0);
    CHECK(rs.output_latency() >= 0);
  }
  CHECK_FALSE(resampler(8000, 16000, 11).ok());
}

TEST_CASE("media resampler: silence skips the filter and gives exactly what the filter gives") {
  struct row {
    std::uint32_t from, to;
    int quality;
  };
  for (const auto& r : std::vector<row>{{8000, 16000, 3},
                                        {16000, 8000, 3},
                                        {16000, 48000, 3},
                                        {48000, 16000, 3},
                                        {8000, 16000, 10},
                                        {16000, 8000, 10}}) {
    CAPTURE(r.from);
    CAPTURE(r.to);
    CAPTURE(r.quality);
    resampler fast{r.from, r.to, r.quality}, full{r.from, r.to, r.quality};
    full.set_skip_silence(false);
    const std::size_t in_frame = r.from / 50;
    // Talk, silence, talk, silence...: 0.3 s of tone, 0.5 s of zeros, five times over.
    std::vector<std::int16_t> in;
    for (int i = 0; i < 5; ++i) {
      const auto t = tone(440 + 200 * i, 8000, r.from * 3 / 10, r.from);
      in.insert(in.end(), t.begin(), t.end());
      in.insert(in.end(), r.from / 2, std::int16_t{0});
    }
    std::vector<std::int16_t> a(r.to), b(r.to);
    for (std::size_t i = 0; i + in_frame <= in.size(); i += in_frame) {
      const auto block = std::span<const std::int16_t>{in}.subspan(i, in_frame);
      const auto na = fast.process(block, a), nb = full.process(block, b);
      REQUIRE(na == nb);
      REQUIRE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin()));
    }
    // Most of each 25-frame silence is skipped (the first frames fill the history with zeros).
    CHECK(fast.skipped_blocks() >= 5 * 15);
    CHECK(full.skipped_blocks() == 0);
  }
  // A block that does not convert to whole samples always runs the filter.
  resampler odd{16000, 8000, 3};
  std::vector<std::int16_t> zeros(7), out(100);
  for (int i = 0; i < 1000; ++i)
    (void)odd.process(zeros, out); // 3.5 samples out per block: never whole
  CHECK(odd.skipped_blocks() == 0);
  CHECK_FALSE(resampler(0, 16000, 3).ok());
}
