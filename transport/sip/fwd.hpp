#pragma once

/// Forward declarations for transport/sip.

#include <cstdint>

namespace gobi::sip {

enum class protocol : std::uint8_t;
struct peer;
struct transport_options;
struct transport_stats;
class transport_handler;
class transport;

} // namespace gobi::sip
