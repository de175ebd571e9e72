#include "actors/call/telephony.hpp"

#include "transport/tts/espeak.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace {

/// Greetings repeat (one per agent): a small cache makes the thousandth call free.
constexpr std::size_t cache_entries = 128;

} // namespace

tts_actor::behavior_type tts(tts_actor::stateful_pointer<tts_state> self) {
  return {
      [self](atom::speak, const std::string& text,
             const std::string& voice) -> caf::result<pcm_ptr> {
        auto& st = self->state;
        auto key = voice + '\n' + text;
        if (auto it = st.cache.find(key); it != st.cache.end()) return it->second;
        if (!st.engine) {
          auto e = tts::espeak_engine::create();
          if (!e) return to_caf(e.err());
          st.engine = std::move(*e);
        }
        auto* engine = static_cast<tts::espeak_engine*>(st.engine.get());
        auto pcm = engine->synthesize(text, voice.empty() ? std::string_view{"en-us"} : voice);
        if (!pcm) return to_caf(pcm.err());
        auto shared = std::make_shared<const std::vector<std::int16_t>>(std::move(*pcm));
        st.cache.emplace(key, shared);
        st.order.push_back(key);
        if (st.order.size() > cache_entries) {
          st.cache.erase(st.order.front());
          st.order.pop_front();
        }
        return shared;
      },
  };
}

} // namespace gobi::actors
