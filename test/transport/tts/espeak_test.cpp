#include "transport/tts/espeak.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <future>

using namespace gobi;

namespace {

double rms(const std::vector<std::int16_t>& v) {
  double sum = 0;
  for (const auto x : v)
    sum += static_cast<double>(x) * x;
  return v.empty() ? 0 : std::sqrt(sum / static_cast<double>(v.size()));
}

} // namespace

TEST_CASE("tts espeak: a greeting is 16 kHz speech of a plausible length") {
  auto e = tts::espeak_engine::create();
  REQUIRE(e.ok());
  CHECK((*e)->native_rate_hz() == 22050);
  const auto pcm = (*e)->synthesize("Hello, thank you for calling");
  REQUIRE(pcm.ok());
  const double seconds = static_cast<double>(pcm->size()) / 16000;
  CHECK(seconds > 0.5);
  CHECK(seconds < 5);
  CHECK(rms(*pcm) > 300); // speech, not silence (about -40 dBFS would be near-silent)
  // The same from another thread through another engine handle (espeak-ng varies its output
  // slightly from run to run: compare lengths).
  auto other = tts::espeak_engine::create();
  REQUIRE(other.ok());
  auto again = std::async(std::launch::async,
                          [&] { return (*other)->synthesize("Hello, thank you for calling"); });
  const auto pcm2 = again.get();
  REQUIRE(pcm2.ok());
  CHECK(std::abs(static_cast<double>(pcm2->size()) - static_cast<double>(pcm->size())) <
        0.1 * static_cast<double>(pcm->size()));
}

TEST_CASE("tts espeak: other voices, unknown voices and empty text") {
  auto e = tts::espeak_engine::create();
  REQUIRE(e.ok());
  const auto de = (*e)->synthesize("Guten Tag", "de");
  REQUIRE(de.ok());
  CHECK(!de->empty());
  const auto bad = (*e)->synthesize("Hello", "no-such-voice");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::invalid_argument);
  // A failed voice change leaves the engine usable.
  CHECK((*e)->synthesize("Hello").ok());
  CHECK((*e)->synthesize("  ").err().code == errc::invalid_argument);
}
