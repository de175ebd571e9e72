#include "domain/media/recorder.hpp"
#include "domain/media/wav.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {
std::uint32_t le32(const std::vector<std::uint8_t>& d, std::size_t p) {
  return std::uint32_t{d[p]} | std::uint32_t{d[p + 1]} << 8 | std::uint32_t{d[p + 2]} << 16 |
         std::uint32_t{d[p + 3]} << 24;
}

/// One channel of a 16-bit stereo WAV's samples.
std::vector<std::int16_t> channel(const std::vector<std::uint8_t>& wav, int c) {
  std::vector<std::int16_t> v;
  for (std::size_t p = wav_header_bytes + 2 * static_cast<std::size_t>(c); p + 1 < wav.size();
       p += 4)
    v.push_back(static_cast<std::int16_t>(wav[p] | wav[p + 1] << 8));
  return v;
}

std::span<const std::int16_t> window(const std::vector<std::int16_t>& v,
                                     std::chrono::milliseconds from, std::chrono::milliseconds to) {
  const auto a = static_cast<std::size_t>(from.count() * 16);
  const auto b = static_cast<std::size_t>(to.count() * 16);
  return std::span<const std::int16_t>{v}.subspan(a, b - a);
}

/// A side speaking a tone in [from, to) on 20 ms ticks, each tick `jitter(i)` off schedule.
void speak(pcm_sink& side, double hz, std::chrono::milliseconds from, std::chrono::milliseconds to,
           std::chrono::microseconds (*jitter)(int) = nullptr) {
  int i = 0;
  for (auto t = from; t < to; t += 20ms, ++i) {
    const auto pcm = test::tone(hz, 3000, 320, 16000, static_cast<std::size_t>(t.count() * 16));
    const auto when = media_time{t} + (jitter ? jitter(i) : 0us);
    side.on_frame(frame_view{pcm, 16000, when, static_cast<std::uint32_t>(i), frame_origin::audio});
  }
}
} // namespace

TEST_CASE("media wav: header laid out for 16-bit PCM and fixed up at close") {
  memory_byte_sink sink;
  wav_writer w{sink, 16000, 2};
  REQUIRE(w.ok());
  CHECK(sink.data().size() == 44);
  const std::vector<std::int16_t> samples{1, -1, 256, -32768, 32767, 0};
  REQUIRE(w.write(samples));
  REQUIRE(w.close());
  REQUIRE(w.close()); // idempotent
  const std::vector<std::uint8_t> expected{'R',  'I',  'F',  'F',  48,   0,    0,    0,    'W', 'A',
                                           'V',  'E',  'f',  'm',  't',  ' ',  16,   0,    0,   0,
                                           1,    0,             // PCM
                                           2,    0,             // channels
                                           0x80, 0x3e, 0,    0, // 16000 Hz
                                           0x00, 0xfa, 0,    0, // 64000 bytes/s
                                           4,    0,    16,   0, // block align, bits
                                           'd',  'a',  't',  'a',  12,   0,    0,    0,    1,   0,
                                           0xff, 0xff, 0x00, 0x01, 0x00, 0x80, 0xff, 0x7f, 0,   0};
  CHECK(sink.data() == expected);
  CHECK(w.data_bytes() == 12);
  CHECK_FALSE(w.write(samples)); // closed
}

TEST_CASE("media wav: a long stream keeps consistent sizes") {
  memory_byte_sink sink;
  wav_writer w{sink, 8000, 1};
  std::vector<std::int16_t> block(1000, 7);
  for (int i = 0; i < 37; ++i)
    REQUIRE(w.write(block));
  REQUIRE(w.close());
  CHECK(sink.data().size() == 44 + 74000);
  CHECK(le32(sink.data(), 4) == 36 + 74000);
  CHECK(le32(sink.data(), 40) == 74000);
  CHECK(le32(sink.data(), 24) == 8000);
}

TEST_CASE("media recorder: caller left, agent right, each where the clock says") {
  memory_byte_sink sink;
  call_recorder rec{sink};
  CHECK(rec.caller().name() == "recorder(caller)");
  CHECK(rec.agent().name() == "recorder(agent)");
  // Interleaved as the media thread would deliver them: tick by tick.
  for (auto t = 0ms; t < 1500ms; t += 20ms) {
    if (t < 1000ms) speak(rec.caller(), 1000, t, t + 20ms);
    if (t >= 500ms) speak(rec.agent(), 2000, t, t + 20ms);
  }
  REQUIRE(rec.close());
  const auto& wav = sink.data();
  CHECK(le32(wav, 40) == 1500 * 16 * 4); // 1.5 s of 16 kHz stereo
  const auto left = channel(wav, 0), right = channel(wav, 1);
  REQUIRE(left.size() == 24000);
  CHECK(test::tone_fraction(window(left, 0ms, 1000ms), 1000, 16000) > 0.99);
  CHECK(test::rms(window(left, 1000ms, 1500ms)) == 0);
  CHECK(test::rms(window(right, 0ms, 500ms)) == 0);
  CHECK(test::tone_fraction(window(right, 500ms, 1500ms), 2000, 16000) > 0.99);
  // Sample-exact: the agent's first sample lands at 500 ms.
  CHECK(right[8000 - 1] == 0);
  CHECK(test::rms(window(right, 500ms, 502ms)) > 0);
  CHECK(rec.dropped_samples() == 0);
}

TEST_CASE("media recorder: tick jitter does not tear the audio; a pause leaves silence") {
  memory_byte_sink sink;
  call_recorder rec{sink};
  // Caller ticks up to 4 ms early or late: the audio stays continuous (a clean tone). The
  // caller's stream pauses 1000-1300 ms, then resumes on schedule.
  auto wobble = [](int i) {
    return std::chrono::microseconds{i == 0 ? 0 : ((i * 7) % 9 - 4) * 1000};
  };
  int i = 0;
  for (auto t = 0ms; t < 2000ms; t += 20ms, ++i) {
    if (t < 1000ms || t >= 1300ms) {
      const auto pcm = test::tone(1000, 3000, 320, 16000, static_cast<std::size_t>(t.count() * 16));
      rec.caller().on_frame(frame_view{pcm, 16000, media_time{t} + (t < 1000ms ? wobble(i) : 0us),
                                       static_cast<std::uint32_t>(i), frame_origin::audio});
    }
    speak(rec.agent(), 2000, t, t + 20ms);
  }
  REQUIRE(rec.close());
  const auto left = channel(sink.data(), 0);
  REQUIRE(left.size() == 32000);
  CHECK(test::tone_fraction(window(left, 0ms, 1000ms), 1000, 16000) > 0.99);
  CHECK(test::rms(window(left, 1010ms, 1290ms)) == 0);
  CHECK(rec.dropped_samples() == 0);
  CHECK(test::tone_fraction(window(left, 1300ms, 2000ms), 1000, 16000) > 0.99);
}

TEST_CASE("media recorder: a silent side does not hold the other back") {
  memory_byte_sink sink;
  call_recorder rec{sink, recorder_options{200ms}};
  for (auto t = 0ms; t < 3000ms; t += 20ms) {
    speak(rec.caller(), 1000, t, t + 20ms);
    // Memory stays bounded: what is more than max_skew behind is already written.
    CHECK(static_cast<std::int64_t>(rec.frames_written()) >= (t + 20ms - 200ms).count() * 16);
  }
  REQUIRE(rec.close());
  const auto left = channel(sink.data(), 0), right = channel(sink.data(), 1);
  CHECK(left.size() == 48000);
  CHECK(test::rms(right) == 0);
  CHECK(test::tone_fraction(left, 1000, 16000) > 0.99);
}

TEST_CASE("media recorder: frames at another rate are refused, not mangled") {
  memory_byte_sink sink;
  call_recorder rec{sink};
  std::vector<std::int16_t> f8k(160, 100);
  rec.caller().on_frame(frame_view{f8k, 8000, media_time{0}, 0, frame_origin::audio});
  CHECK(rec.dropped_samples() == 160);
  REQUIRE(rec.close());
  CHECK(sink.data().size() == wav_header_bytes);
}
