#pragma once

/// Forward declarations for transport/rtp.

#include <cstdint>

namespace gobi::rtp {

enum class verdict : std::uint8_t;
enum class send_result : std::uint8_t;
enum class datagram_kind : std::uint8_t;
class media_sink;
class media_port;

enum class srtp_suite : std::uint8_t;
enum class srtp_errc : std::uint8_t;
enum class srtp_direction : std::uint8_t;
struct srtp_key;
struct srtp_result;
class srtp_session;

struct port_range;
class port_lease;
class port_allocator;

struct latch_options;
template <class Endpoint> class source_latch;

struct media_tick;
class tick_schedule;
class clocked_stream;
class stream_list;
struct clock_stats;
class media_clock;

struct engine_options;
struct port_options;
struct port_stats;
struct endpoint;
class udp_port;
class engine;

struct pipe_script;
class memory_port;
class memory_pipe;

class file_writer;
class async_file_sink;
struct media_timed_out;
struct call_media_config;
struct call_media_summary;
class call_media;

} // namespace gobi::rtp
