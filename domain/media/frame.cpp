#include "domain/media/frame.hpp"

namespace gobi::media {

const char* to_string(frame_origin o) noexcept {
  switch (o) {
  case frame_origin::audio:
    return "audio";
  case frame_origin::concealed:
    return "concealed";
  case frame_origin::silence:
    return "silence";
  }
  return "unknown";
}

std::string join_names(std::string_view label, std::string_view rest) {
  std::string s{label};
  if (!rest.empty()) {
    if (!s.empty()) s += " -> ";
    s += rest;
  }
  return s;
}

} // namespace gobi::media
