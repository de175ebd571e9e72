#pragma once

/// Offline text-to-speech on espeak-ng: text in, 16 kHz mono PCM out (what call_media::play
/// takes). Robotic but local, instant and free: the fallback when no cloud TTS is configured,
/// and the voice of tests and demos. Its header stays in espeak.cpp.

#include "domain/result.hpp"

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace gobi::tts {

/// The espeak-ng synthesizer. espeak-ng keeps global state (one voice, one callback), so every
/// engine shares one process-wide mutex: synthesize() calls run one at a time, from any thread.
/// A call blocks for the synthesis (about 1/50 of the audio's duration): run it on a thread
/// that may block (a TTS worker or a detached actor), never on a transport thread or in an
/// event-based actor.
class espeak_engine {
public:
  /// Initialises espeak-ng once per process (synchronous output, no audio device).
  /// errc::unavailable when it cannot start (its data files are missing).
  static result<std::shared_ptr<espeak_engine>> create();

  /// 16 kHz mono PCM for `text` (UTF-8) spoken by `voice` (an espeak-ng voice name such as
  /// "en-us", "en", "de", "fr"). espeak-ng speaks at 22050 Hz; the result is resampled.
  /// errc::invalid_argument for empty text or an unknown voice (no silent fallback: the caller
  /// chose the voice from config and should hear about a typo); errc::internal when the
  /// synthesis fails.
  result<std::vector<std::int16_t>> synthesize(std::string_view text,
                                               std::string_view voice = "en-us");

  /// espeak-ng's own output rate (22050 Hz).
  int native_rate_hz() const noexcept { return native_rate_hz_; }

  explicit espeak_engine(int native_rate_hz) noexcept
      : native_rate_hz_(native_rate_hz) {}

private:
  int native_rate_hz_;
};

} // namespace gobi::tts
