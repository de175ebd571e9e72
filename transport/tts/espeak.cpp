#include "transport/tts/espeak.hpp"

#include "domain/media/defaults.hpp"
#include "domain/media/resampler.hpp"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace gobi::tts {

namespace {

constexpr std::uint32_t output_rate_hz = 16000;

/// espeak-ng's global state, guarded by one mutex.
struct espeak_state {
  std::mutex mutex;
  int rate_hz = 0; ///< 0 until initialised
  std::string voice;
};

espeak_state& state() {
  static espeak_state s;
  return s;
}

/// espeak-ng hands synthesized audio over in chunks; a null or empty chunk ends it.
int collect(short* wav, int samples, espeak_EVENT* events) {
  if (!wav || samples <= 0 || !events) return 0;
  auto* out = static_cast<std::vector<std::int16_t>*>(events->user_data);
  if (out) out->insert(out->end(), wav, wav + samples);
  return 0; // continue
}

/// The whole utterance at once: the resampler's delay is flushed with silence and cut off the
/// front, so the result lines up with the input and has its length (times the rate ratio).
std::vector<std::int16_t> resample(std::vector<std::int16_t> in, std::uint32_t from_hz) {
  media::resampler rs(from_hz, output_rate_hz, defaults::resample_quality);
  if (!rs.ok()) return {};
  const auto latency = static_cast<std::size_t>(rs.output_latency());
  const std::size_t want = in.size() * output_rate_hz / from_hz;
  in.resize(in.size() + (latency + 1) * from_hz / output_rate_hz + 2, 0);
  std::vector<std::int16_t> out(in.size() * output_rate_hz / from_hz + 16);
  const std::size_t got = rs.process(in, out);
  out.resize(got);
  const std::size_t skip = std::min(latency, out.size());
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(skip));
  if (out.size() > want) out.resize(want);
  return out;
}

} // namespace

result<std::shared_ptr<espeak_engine>> espeak_engine::create() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (s.rate_hz == 0) {
    const int rate =
        espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0)
      return make_error(errc::unavailable, "espeak-ng cannot start (is espeak-ng-data installed?)");
    espeak_SetSynthCallback(collect);
    s.rate_hz = rate;
  }
  return std::make_shared<espeak_engine>(s.rate_hz);
}

result<std::vector<std::int16_t>> espeak_engine::synthesize(std::string_view text,
                                                            std::string_view voice) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return make_error(errc::invalid_argument, "nothing to say: empty text");
  const std::string nul_text(text); // espeak-ng wants a terminated string
  std::vector<std::int16_t> native;
  {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (s.voice != voice) {
      const std::string name(voice);
      if (espeak_SetVoiceByName(name.c_str()) != EE_OK) {
        s.voice.clear(); // whatever espeak-ng kept, do not trust it as named
        return make_error(errc::invalid_argument, "espeak-ng has no voice '" + name + "'");
      }
      s.voice = name;
    }
    espeak_SetSynthCallback(collect);
    const auto err = espeak_Synth(nul_text.c_str(), nul_text.size() + 1, 0, POS_CHARACTER, 0,
                                  espeakCHARS_UTF8, nullptr, &native);
    if (err != EE_OK || espeak_Synchronize() != EE_OK)
      return make_error(errc::internal, "espeak-ng failed to synthesize");
  }
  if (native.empty()) return native;
  return resample(std::move(native), static_cast<std::uint32_t>(native_rate_hz_));
}

} // namespace gobi::tts
