// The energy VAD on synthetic timelines: background (silence or noise) with "speech" (a
// tone, optionally on top of the noise) in scripted intervals, 20 ms frames at 16 kHz.

#include "domain/media/vad.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {

struct interval {
  std::chrono::milliseconds from, to;
  double dbfs; ///< tone level (RMS)
};

struct event {
  vad_transition what;
  media_time at;      ///< what the VAD says
  media_time emitted; ///< the frame that reported it
};

/// Runs `total` of audio: noise at `noise_dbfs` (or digital silence below -100) plus tones.
std::vector<event> run_vad(energy_vad& vad, std::chrono::milliseconds total, double noise_dbfs,
                           const std::vector<interval>& speech) {
  std::vector<event> events;
  test::noise n;
  const double noise_amp =
      noise_dbfs < -100 ? 0 : 32768 * std::pow(10, noise_dbfs / 20) * std::sqrt(3.0);
  std::vector<std::int16_t> f(320);
  std::size_t sample = 0;
  for (auto t = 0ms; t < total; t += 20ms) {
    double tone_amp = 0;
    for (const auto& s : speech)
      if (t >= s.from && t < s.to) tone_amp = 32768 * std::pow(10, s.dbfs / 20) * std::sqrt(2.0);
    for (auto& v : f) {
      const double x =
          tone_amp * std::sin(2 * 3.14159265358979 * 440 * static_cast<double>(sample++) / 16000);
      v = static_cast<std::int16_t>(
          std::lround(std::clamp(x + n.next(noise_amp), -32768.0, 32767.0)));
    }
    const auto r = vad.process(frame_view{f, 16000, media_time{t}, 0, frame_origin::audio});
    if (r.transition != vad_transition::none) events.push_back({r.transition, r.at, media_time{t}});
  }
  return events;
}

} // namespace

TEST_CASE("media vad: speech 0.5-2.5 s starts on its first frame and ends after the hangover") {
  struct row {
    const char* what;
    double noise_dbfs;
    double speech_dbfs;
  };
  for (const auto& r : std::vector<row>{{"digital silence", -200, -20},
                                        {"quiet line", -60, -25},
                                        {"noisy line", -45, -20},
                                        {"quiet speaker on a quiet line", -65, -40}}) {
    CAPTURE(r.what);
    energy_vad vad;
    const auto ev = run_vad(vad, 4000ms, r.noise_dbfs, {{500ms, 2500ms, r.speech_dbfs}});
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].what == vad_transition::speech_started);
    CHECK(ev[0].at == media_time{500ms});
    CHECK(ev[0].emitted >= media_time{500ms});
    CHECK(ev[0].emitted <= media_time{540ms}); // within 1-2 frames
    CHECK(ev[1].what == vad_transition::speech_ended);
    CHECK(ev[1].at == media_time{2500ms});
    // Reported once the 300 ms hangover has passed (on its 15th quiet frame).
    CHECK(ev[1].emitted == media_time{2780ms});
  }
}

TEST_CASE("media vad: no speech, no events, whatever the steady background") {
  for (const double noise : {-200.0, -70.0, -55.0, -42.0}) {
    CAPTURE(noise);
    energy_vad vad;
    CHECK(run_vad(vad, 5000ms, noise, {}).empty());
    if (noise > -70) CHECK(std::abs(vad.noise_floor_dbfs() - noise) < 3.0);
  }
}

TEST_CASE("media vad: short blips do not start; short pauses do not end") {
  energy_vad vad;
  const auto ev = run_vad(vad, 4000ms, -60,
                          {{300ms, 320ms, -20},     // one loud frame: not speech
                           {1000ms, 1600ms, -20},   // speech ...
                           {1800ms, 2400ms, -20}}); // ... with a 200 ms pause (< hangover)
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].at == media_time{1000ms});
  CHECK(ev[1].at == media_time{2400ms});
}

TEST_CASE("media vad: hysteresis between the start and stop thresholds") {
  // Floor about -55 dBFS: start needs -43, quiet is below -49. A level of -46 neither
  // starts speech nor ends it. (The floor is held still while speaking, to test just this.)
  vad_options o;
  o.floor_rise_speaking = 600000ms;
  energy_vad vad{o};
  const auto ev = run_vad(vad, 5000ms, -55,
                          {{500ms, 1000ms, -46},    // in between: does not start
                           {1500ms, 2000ms, -30},   // starts
                           {2000ms, 3000ms, -46}}); // in between: keeps speaking
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].at == media_time{1500ms});
  CHECK(ev[1].at == media_time{3000ms});
}

TEST_CASE("media vad: the floor follows a step in the noise; speech is found on top of it") {
  energy_vad vad;
  // The line gets 25 dB noisier at 3 s; that may read as speech at first, but not for
  // long, and speech 15 dB above the new noise is found again.
  std::vector<event> ev;
  {
    test::noise n;
    std::vector<std::int16_t> f(320);
    std::size_t sample = 0;
    for (auto t = 0ms; t < 20000ms; t += 20ms) {
      const double noise_db = t < 3000ms ? -60 : -35;
      const bool speaking = t >= 15000ms && t < 16000ms;
      const double amp = 32768 * std::pow(10, noise_db / 20) * std::sqrt(3.0);
      const double tone = speaking ? 32768 * std::pow(10, -20 / 20.0) * std::sqrt(2.0) : 0;
      for (auto& v : f)
        v = static_cast<std::int16_t>(std::lround(
            tone * std::sin(2 * 3.14159265358979 * 440 * static_cast<double>(sample++) / 16000) +
            n.next(amp)));
      const auto r = vad.process(frame_view{f, 16000, media_time{t}, 0, frame_origin::audio});
      if (r.transition != vad_transition::none) ev.push_back({r.transition, r.at, media_time{t}});
    }
  }
  REQUIRE(ev.size() >= 2);
  // Whatever the step caused is over well before the speech at 15 s...
  std::size_t i = 0;
  while (i < ev.size() && ev[i].at < media_time{15000ms}) {
    CHECK(ev[i].emitted < media_time{12000ms});
    ++i;
  }
  CHECK(i % 2 == 0);
  // ... which is then found, start and end.
  REQUIRE(ev.size() == i + 2);
  CHECK(ev[i].what == vad_transition::speech_started);
  CHECK(ev[i].at == media_time{15000ms});
  CHECK(ev[i + 1].at == media_time{16000ms});
  CHECK(std::abs(vad.noise_floor_dbfs() - -35) < 3.0);
}

TEST_CASE("media vad: energy of known signals") {
  std::vector<std::int16_t> zeros(320, 0);
  CHECK(energy_dbfs(zeros) == -100.0);
  CHECK(energy_dbfs({}) == -100.0);
  const auto full = test::tone(1000, 32767, 1600, 16000);
  CHECK(std::abs(energy_dbfs(full) - -3.01) < 0.05); // a full-scale sine is -3 dBFS
  const auto quiet = test::tone(1000, 327.67, 1600, 16000);
  CHECK(std::abs(energy_dbfs(quiet) - -43.01) < 0.05);
}
