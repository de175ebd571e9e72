#pragma once

/// The coarse events a call's media chains report to the CALL actor. Frames never leave the
/// media path; these do (a few per utterance), through the chain's `event_callback`, on the
/// media thread: the callback should only post a message.

#include "domain/media/dtmf.hpp"
#include "domain/media/media_time.hpp"

#include <chrono>
#include <functional>
#include <variant>

namespace gobi::media {

/// The caller started speaking (VAD), at the first loud frame.
struct speech_started {
  media_time at{};
};

/// The caller stopped speaking: `at` is the first quiet frame; reported after the hangover.
struct speech_ended {
  media_time at{};
  std::chrono::milliseconds duration{}; ///< since the matching speech_started
};

/// The playout queue ran dry (`interrupted` false) or was cleared (barge-in, true).
struct playback_finished {
  std::chrono::milliseconds position{}; ///< audio played since the queue was last empty
  bool interrupted = false;
};

using media_event = std::variant<speech_started, speech_ended, dtmf_received, playback_finished>;
using event_callback = std::function<void(const media_event&)>;

} // namespace gobi::media
