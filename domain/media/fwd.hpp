#pragma once

/// Forward declarations for domain/media (see README.md).

#include <cstdint>

namespace gobi::media {

struct frame;
struct frame_view;
class pcm_sink;
class rtp_handler;
struct rtp_packet;
enum class rtp_error : std::uint8_t;
enum class rtcp_error : std::uint8_t;
struct report_block;
struct sender_info;
struct sender_report;
struct receiver_report;
struct rtcp_compound;
class rtcp_writer;
class receiver_stats;
class resampler;
struct opus_settings;
class opus_encoder;
class opus_decoder;
struct jitter_options;
struct jitter_stats;
class jitter_buffer;
struct telephone_event;
struct dtmf_received;
class dtmf_sender;
class dtmf_detector;
struct vad_options;
class energy_vad;
class byte_sink;
class memory_byte_sink;
class wav_writer;
struct recorder_options;
class call_recorder;
struct codec_params;
struct inbound_options;
struct outbound_options;
class inbound_chain;
class outbound_chain;

} // namespace gobi::media
