#include "transport/rtp/media_port.hpp"

namespace gobi::rtp {

const char* to_string(send_result r) noexcept {
  switch (r) {
  case send_result::sent:
    return "sent";
  case send_result::no_remote:
    return "no remote address";
  case send_result::would_block:
    return "send buffer full";
  case send_result::failed:
    return "send failed";
  case send_result::closed:
    return "port closed";
  }
  return "?";
}

datagram_kind classify(std::span<const std::byte> d) noexcept {
  constexpr std::size_t rtcp_min = 8;
  constexpr std::size_t rtp_min = 12;
  if (d.size() < rtcp_min || std::to_integer<unsigned>(d[0]) >> 6 != 2) return datagram_kind::other;
  const auto b1 = std::to_integer<unsigned>(d[1]);
  if (b1 >= 192 && b1 <= 223) return datagram_kind::rtcp;
  return d.size() >= rtp_min ? datagram_kind::rtp : datagram_kind::other;
}

} // namespace gobi::rtp
