#pragma once

/// One call's media, glued together for the CALL actor: a `udp_port` from the engine, the
/// inbound and outbound chains (domain/media/chain.hpp) built from the negotiated SDP, SRTP
/// both ways, the stereo recorder and RTCP.
///
///   datagram ─> udp_port ─> session::on_rtp ─> [SRTP unprotect] ─> inbound_chain::push
///   media clock tick ─> session::on_tick ─> inbound_chain::tick  ─> VAD ─> recorder (left)
///                                       └─> outbound_chain::tick ─> recorder (right)
///                                           ─> [SRTP protect] ─> send_rtp;  RTCP every interval
///   chain events, media timeout ─> call_media_callback (on the transport thread)
///
/// The CALL actor owns the handle; everything else happens on the port's transport thread.

#include "domain/media/events.hpp"
#include "domain/result.hpp"
#include "domain/sdp/negotiate.hpp"
#include "transport/rtp/engine.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gobi::rtp {

/// No RTP arrived for the media timeout.
struct media_timed_out {
  duration silent_for{};
};

using call_media_event =
    std::variant<media::speech_started, media::speech_ended, media::dtmf_received,
                 media::playback_finished, media_timed_out>;
/// Called on the port's transport thread: only post a message (never block, never call back
/// into call_media synchronously expecting a result).
using call_media_callback = std::function<void(const call_media_event&)>;

struct call_media_config {
  /// Codec, payload types, remote address, SRTP keys (both ways), direction.
  sdp::negotiated_media media;
  /// Stereo 16 kHz WAV (caller left, agent right); "" = none.
  std::string recording_path;
  std::chrono::milliseconds media_timeout{30000};
  /// RTCP SR (when we sent since the last report) or RR, with SDES CNAME, about every interval
  /// (randomised by 0.5-1.5 as RFC 3550 6.3.1 asks); compound, SRTCP when SRTP. 0 = no
  /// periodic reports (the BYE still goes out at close).
  std::chrono::milliseconds rtcp_interval{5000};
  std::string cname; ///< RTCP CNAME
};

struct call_media_summary {
  port_stats port{};
  /// Audio packets from the peer over the whole call (every source and restart added up).
  std::uint64_t packets_received = 0, packets_lost = 0;
  double jitter_ms = 0;
  std::uint64_t packets_sent = 0;     ///< RTP packets handed to the socket
  std::uint64_t recording_frames = 0; ///< stereo frames written to the WAV
  bool recording_ok = true;           ///< every write succeeded and the header was fixed
  std::uint64_t srtp_failures = 0;    ///< inbound SRTP/SRTCP packets that failed to verify
};

/// One call's media: an rtp::udp_port from the engine, the inbound and outbound chains built
/// from the negotiated media, SRTP both ways, the recorder, RTCP.
///
/// Owned by the CALL actor through the shared_ptr; every method may be called from any thread
/// (they lock a little and post to the port's transport thread, never block on it). The media
/// work itself (chains, SRTP, recorder, RTCP, the callback) runs on that transport thread only.
///
/// Lifecycle: open() -> put local_address()/local_rtp_port() in the SDP -> start(cfg) once the
/// SDP is negotiated -> play/clear/send_dtmf/update ... -> close(done). Dropping the last handle
/// without close() also closes the port; the recorder is then finished on the transport thread
/// (header fixed) but nobody gets a summary.
class call_media : public std::enable_shared_from_this<call_media> {
public:
  /// Opens a port (before the SDP is written: its address and port go into it).
  /// errc::unavailable when no port is free or the engine is not running.
  static result<std::shared_ptr<call_media>> open(engine& e, call_media_callback on_event);

  call_media(const call_media&) = delete;
  call_media& operator=(const call_media&) = delete;
  ~call_media();

  const std::string& local_address() const noexcept;
  std::uint16_t local_rtp_port() const noexcept;
  std::uint16_t local_rtcp_port() const noexcept;

  /// Builds the chains (codec from cfg.media, VAD on, recorder taps), the SRTP sessions, the
  /// recording file, sets the remote, starts receiving and registers the outbound stream on
  /// the port's clock. Once. errc::invalid_argument for a codec the chain cannot build, a bad
  /// key or remote address; errc::internal when the recording file cannot be created;
  /// errc::conflict when already started or closed.
  status start(const call_media_config& cfg);
  /// re-INVITE: new remote address/port and direction. On hold (remote_hold, or our direction
  /// not sendrecv) nothing is sent but the clock keeps ticking (playout and RTP timestamps go
  /// on; RTCP too) and the media timeout is off; back to sendrecv resumes and re-arms it
  /// (counting from now). The latch is reset only when the remote address changes. Codec and
  /// SRTP keys are unchanged: errc::invalid_argument for another codec.
  status update(const sdp::negotiated_media& media);
  /// Queues 16 kHz mono PCM after what is already queued (any length: the session keeps what
  /// the chain's playout queue cannot take yet and feeds it tick by tick); playback_finished
  /// fires when all of it has played. Empty buffers are ignored. Before start(), it waits.
  void play(std::shared_ptr<const std::vector<std::int16_t>> pcm16k);
  /// Barge-in: drops everything queued (playback_finished{interrupted=true} if anything was
  /// playing).
  void clear();
  /// RFC 4733 digit out (ignored when telephone-event was not negotiated or the digit is
  /// invalid).
  void send_dtmf(char digit);
  /// Stops, sends an RTCP BYE, closes the recorder (WAV header fixed), releases the port;
  /// `done` runs once the recording file is closed (on the engine's writer thread, or on the
  /// transport thread without a recording; at once if already closed) with the summary. Idempotent: every caller's `done` runs, with the same summary.
  void close(std::function<void(call_media_summary)> done);

  /// The port's counters now (any thread).
  port_stats stats() const noexcept;
  /// Where RTP goes now (the latched source, else the SDP address), if anywhere.
  std::optional<endpoint> rtp_target() const;

  struct session; ///< the transport-thread side (call_media.cpp)

private:
  call_media(udp_port port, std::shared_ptr<session> s, file_writer& files) noexcept;

  udp_port port_;
  std::shared_ptr<session> session_;
  file_writer* files_; ///< the engine's: where the recording is written

  mutable std::mutex mutex_;
  bool started_ = false;
  bool closing_ = false;
  std::chrono::milliseconds media_timeout_{};
  std::optional<sdp::negotiated_media> media_; ///< as of start/update
  std::optional<call_media_summary> summary_;  ///< once closed
  std::vector<std::function<void(call_media_summary)>> waiting_;
};

} // namespace gobi::rtp
