#pragma once

/// Forward declarations for the domain layer.

#include <cstdint>

namespace gobi {

template <class Tag>
struct strong_id;
struct tenant;
struct user;
struct agent;
struct prompt_change;
struct campaign_agent;
struct calling_window;
struct campaign;
struct lead_list;
struct lead;
struct phone_number;
struct dnc_entry;
struct error;
template <class T, class E>
class basic_result;
class heartbeat_monitor;
class login_throttle;

namespace phone {
class normalizer;
}
namespace csv {
class reader;
}
namespace leads {
class chunked_parser;
}

} // namespace gobi
