#pragma once

/// Forward declarations for transport/tts.

namespace gobi::tts {

class espeak_engine;

} // namespace gobi::tts
