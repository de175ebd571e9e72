#pragma once

/// Forward declarations for the SDP module (gobi::sdp).

namespace gobi::sdp {

struct error;
struct origin;
struct connection;
struct attribute;
struct media_description;
struct session_description;
struct parse_limits;
struct codec;
struct capabilities;
struct local_endpoint;
struct srtp_params;
struct negotiated_media;
struct answer;

} // namespace gobi::sdp
