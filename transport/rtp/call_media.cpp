#include "transport/rtp/call_media.hpp"

#include "domain/media/chain.hpp"
#include "domain/media/recorder.hpp"
#include "domain/media/rtcp.hpp"
#include "transport/rtp/file_writer.hpp"
#include "transport/rtp/srtp.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <deque>
#include <random>
#include <span>
#include <utility>
#include <variant>

namespace gobi::rtp {

namespace {

using namespace std::chrono_literals;

/// Largest RTP packet the outbound chain makes (Opus at any sane bitrate is far below).
constexpr std::size_t max_rtp_bytes = 1500;
constexpr std::size_t max_rtcp_bytes = 512;
/// Skipped clock ticks made up for at once (beyond that the timelines just jump).
constexpr std::uint32_t max_catch_up_ticks = 50;
constexpr auto tick_period = std::chrono::milliseconds{media::frame_ms};
/// The outbound chain's playout queue (see start()).
constexpr auto session_playout_queue = std::chrono::milliseconds{100};

media::media_time to_media_time(time_point t) noexcept {
  return std::chrono::duration_cast<media::media_time>(t.time_since_epoch());
}

/// Now as a 32.32 NTP timestamp (RTCP SR); the only wall-clock read of the media path.
std::uint64_t ntp_now() noexcept {
  constexpr std::uint64_t unix_to_ntp_s = 2208988800ull;
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  const auto s = static_cast<std::uint64_t>(us / 1'000'000) + unix_to_ntp_s;
  const auto frac = (static_cast<std::uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return s << 32 | frac;
}

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return r;
}

result<media::codec_params> codec_of(const sdp::negotiated_media& m) {
  media::codec_params c;
  const auto name = lower(m.codec);
  if (name == "pcmu")
    c = media::codec_params::pcmu(std::nullopt);
  else if (name == "pcma")
    c = media::codec_params::pcma(std::nullopt);
  else if (name == "opus")
    c = media::codec_params::opus(0, std::nullopt);
  else
    return make_error(errc::invalid_argument, "no media chain for codec '" + m.codec + "'");
  const auto valid_pt = [](int pt) { return pt >= 0 && pt <= 127; };
  if (!valid_pt(m.payload_type) || (m.telephone_event_pt && !valid_pt(*m.telephone_event_pt)))
    return make_error(errc::invalid_argument, "payload type out of range");
  c.payload_type = static_cast<std::uint8_t>(m.payload_type);
  c.clock_rate_hz = m.clock_rate;
  c.channels = static_cast<std::uint8_t>(std::clamp(m.channels, 1, 2));
  if (m.telephone_event_pt) c.telephone_event_pt = static_cast<std::uint8_t>(*m.telephone_event_pt);
  return c;
}

srtp_key key_of(sdp::srtp_suite suite, const sdp::srtp_key& k) {
  srtp_key r;
  r.suite = suite == sdp::srtp_suite::aes_cm_128_hmac_sha1_32 ? srtp_suite::aes_cm_128_hmac_sha1_32
                                                              : srtp_suite::aes_cm_128_hmac_sha1_80;
  std::transform(k.begin(), k.end(), r.master.begin(), [](std::uint8_t b) { return std::byte{b}; });
  return r;
}

/// Whether the SDP names somewhere to send (not the old-style hold address, not port 0).
bool has_remote(const sdp::negotiated_media& m) {
  return !m.remote_address.empty() && m.remote_address != "0.0.0.0" && m.remote_address != "::" &&
         m.remote_rtp_port != 0;
}

/// We send unless the peer holds us or our direction forbids it.
bool sends(const sdp::negotiated_media& m) {
  return !m.remote_hold &&
         (m.direction == sdp::direction::sendrecv || m.direction == sdp::direction::sendonly);
}

/// We expect the peer's media (so a silence is a timeout) only both ways and off hold.
bool expects_media(const sdp::negotiated_media& m) {
  return !m.remote_hold && m.direction == sdp::direction::sendrecv;
}

bool same_remote(const sdp::negotiated_media& a, const sdp::negotiated_media& b) {
  return a.remote_address == b.remote_address && a.remote_rtp_port == b.remote_rtp_port &&
         a.remote_rtcp_port == b.remote_rtcp_port;
}

} // namespace

// --- the transport-thread side ---------------------------------------------------------------

/// What start() builds on the caller's thread and hands to the session on the port's thread.
struct media_parts {
  std::unique_ptr<async_file_sink> file;
  std::unique_ptr<media::call_recorder> recorder;
  std::unique_ptr<media::inbound_chain> in;
  std::unique_ptr<media::outbound_chain> out;
  std::optional<srtp_session> srtp_in, srtp_out;
  std::uint32_t clock_rate_hz = 8000;
  duration rtcp_interval{};
  std::string cname;
};

/// The call's media_sink and clocked_stream. Owned by the port (and the handle); every member
/// function below except the constructor runs on the port's transport thread.
struct call_media::session final : media_sink, clocked_stream {
  session(call_media_callback cb, media_port& port)
      : on_event_(std::move(cb))
      , port_(&port) {}

  ~session() override {
    if (parts_.recorder) parts_.recorder->close();
  }

  // --- commands (posted by call_media)

  void install(media_parts p, bool sending) {
    if (finished_) { // closed before the start ran: finish the file, drop the rest
      if (p.recorder) p.recorder->close();
      return;
    }
    parts_ = std::move(p);
    sending_ = sending;
    rng_.seed(parts_.out->ssrc());
    feed();
  }

  void set_sending(bool on) { sending_ = on; }

  void play(std::shared_ptr<const std::vector<std::int16_t>> pcm) {
    if (finished_) return;
    pending_.push_back(std::move(pcm));
    feed();
  }

  void clear() {
    pending_.clear();
    pending_pos_ = 0;
    if (parts_.out) parts_.out->clear();
  }

  void send_dtmf(char digit) {
    if (parts_.out && !finished_) (void)parts_.out->send_dtmf(digit);
  }

  /// Stops events, sends the BYE, writes the rest of the recording (its file is closed by
  /// close_recording()). The port is closed right after, in the same handler. Once (close()
  /// posts it once).
  call_media_summary finish() {
    finished_ = true;
    pending_.clear();
    call_media_summary s;
    if (parts_.in) {
      send_report(to_media_time(steady_clock::now()), true);
      s.packets_received = parts_.in->packets_received(); // every source of the call
      s.packets_lost = parts_.in->packets_lost();
      s.jitter_ms =
          static_cast<double>(parts_.in->stats().jitter()) * 1000.0 / parts_.clock_rate_hz;
    }
    s.packets_sent = packets_sent_;
    if (parts_.recorder) {
      s.recording_ok = parts_.recorder->close();
      s.recording_frames = parts_.recorder->frames_written();
    }
    s.srtp_failures = srtp_failures_;
    return s;
  }

  /// Closes the recording's file on the writer thread; `done(ok)` runs there once it is (at
  /// once when there is no recording).
  void close_recording(std::function<void(bool)> done) {
    if (parts_.file)
      parts_.file->close(std::move(done));
    else
      done(true);
  }

  // --- media_sink

  verdict on_rtp(std::span<std::byte> packet, time_point arrival) override {
    if (!parts_.in || finished_) return verdict::rejected;
    if (parts_.srtp_in) {
      const auto r = parts_.srtp_in->unprotect_rtp(packet);
      if (!r) {
        ++srtp_failures_;
        return verdict::rejected;
      }
      packet = packet.first(r.length);
    }
    const auto e = parts_.in->push(std::span<const std::byte>(packet), to_media_time(arrival));
    return e == media::rtp_error::ok ? verdict::accepted : verdict::rejected;
  }

  verdict on_rtcp(std::span<std::byte> packet, time_point arrival) override {
    if (!parts_.in || finished_) return verdict::rejected;
    if (parts_.srtp_in) {
      const auto r = parts_.srtp_in->unprotect_rtcp(packet);
      if (!r) {
        ++srtp_failures_;
        return verdict::rejected;
      }
      packet = packet.first(r.length);
    }
    media::rtcp_compound c;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(packet.data()),
                                              packet.size());
    if (media::parse_rtcp(bytes, c) != media::rtcp_error::ok) return verdict::rejected;
    if (c.sr) parts_.in->on_sender_report(c.sr->info.ntp_timestamp, to_media_time(arrival));
    return verdict::accepted;
  }

  void on_media_timeout(duration silent_for) override { emit(media_timed_out{silent_for}); }

  /// From the chains' event callback.
  template <class Event> void on_chain_event(const Event& e) { emit(call_media_event{e}); }

  // --- clocked_stream

  void on_tick(const media_tick& t) override {
    if (!parts_.in || finished_) return;
    // The chains run on the clock's deadlines, a regular 20 ms grid (the recorder lines both
    // sides up by these times; a late wake-up must not open gaps in the file).
    const auto tick_time = to_media_time(t.deadline);
    // Ticks the clock skipped (it woke a period or more late): the outbound timeline moves on
    // in step with real time without running the stages (the peer sees a timestamp jump, not
    // a burst), and the inbound chain just takes the current tick (its jitter buffer drops
    // what is too late). Running the chains for every owed tick made a late thread later.
    const auto owed = std::min(t.skipped, max_catch_up_ticks);
    for (std::uint32_t i = owed; i > 0; --i) {
      feed();
      parts_.out->skip(tick_time - i * tick_period);
    }
    feed();
    (void)parts_.in->tick(tick_time);
    const auto packet = parts_.out->tick(tick_time);
    if (sending_) send_rtp(packet);
    if (parts_.rtcp_interval > duration::zero()) {
      if (next_report_ == time_point{}) {
        next_report_ = t.now + report_interval();
      } else if (t.now >= next_report_) {
        send_report(to_media_time(t.now), false);
        next_report_ = t.now + report_interval();
      }
    }
  }

private:
  void emit(const call_media_event& e) {
    if (!finished_ && on_event_) on_event_(e);
  }

  /// Moves what fits from the pending buffers into the chain's playout queue.
  void feed() {
    if (!parts_.out) return;
    while (!pending_.empty()) {
      const auto& buf = *pending_.front();
      const auto rest = std::span<const std::int16_t>(buf).subspan(pending_pos_);
      const auto n = parts_.out->play(rest);
      pending_pos_ += n;
      if (pending_pos_ < buf.size()) return; // the queue is full
      pending_.pop_front();
      pending_pos_ = 0;
    }
  }

  void send_rtp(std::span<const std::uint8_t> packet) {
    if (packet.size() < media::rtp_fixed_header_bytes || packet.size() > max_rtp_bytes) return;
    auto out = std::as_bytes(packet);
    if (parts_.srtp_out) { // in place, with room for the tag: a copy of our own
      std::memcpy(wire_.data(), packet.data(), packet.size());
      std::size_t len = packet.size();
      const auto r = parts_.srtp_out->protect_rtp(wire_, len);
      if (!r) return;
      out = std::span(wire_).first(r.length);
    }
    if (port_->send_rtp(out) == send_result::sent) {
      ++packets_sent_;
      octets_sent_ += packet.size() - media::rtp_fixed_header_bytes; // our sender: no CSRCs
    }
  }

  /// RFC 3550 6.3.1: the interval times a random factor in [0.5, 1.5].
  duration report_interval() {
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    return std::chrono::duration_cast<duration>(parts_.rtcp_interval * factor(rng_));
  }

  /// One compound packet: SR if we sent since the last report, else RR; SDES CNAME; BYE.
  void send_report(media::media_time now, bool bye) {
    std::array<std::uint8_t, max_rtcp_bytes + srtp_trailer_room> buf{};
    media::rtcp_writer w{std::span<std::uint8_t>(buf).first(max_rtcp_bytes)};
    const auto ssrc = parts_.out->ssrc();
    media::report_blocks blocks;
    if (parts_.in->stats().valid()) blocks.push_back(parts_.in->make_report_block(now));
    if (packets_sent_ != packets_at_report_) {
      media::sender_report sr;
      sr.ssrc = ssrc;
      sr.info = parts_.out->make_sender_info(ntp_now(), now);
      // Counted here, not in the chain: on hold the chain ticks but nothing is sent.
      sr.info.packet_count = static_cast<std::uint32_t>(packets_sent_);
      sr.info.octet_count = static_cast<std::uint32_t>(octets_sent_);
      sr.blocks = blocks;
      w.add(sr);
    } else {
      w.add(media::receiver_report{ssrc, blocks});
    }
    packets_at_report_ = packets_sent_;
    w.add_sdes_cname(ssrc, parts_.cname);
    if (bye) {
      const std::array<std::uint32_t, 1> ssrcs{ssrc};
      w.add_bye(ssrcs);
    }
    if (w.error() != media::rtcp_error::ok) return;
    auto bytes = std::as_writable_bytes(std::span(buf));
    std::size_t len = w.size();
    if (parts_.srtp_out) {
      const auto r = parts_.srtp_out->protect_rtcp(bytes, len);
      if (!r) return;
      len = r.length;
    }
    (void)port_->send_rtcp(bytes.first(len));
  }

  call_media_callback on_event_;
  media_port* port_;
  media_parts parts_;
  bool sending_ = false;
  bool finished_ = false;
  std::deque<std::shared_ptr<const std::vector<std::int16_t>>> pending_;
  std::size_t pending_pos_ = 0; ///< samples of pending_.front() already queued
  std::uint64_t packets_sent_ = 0, octets_sent_ = 0, packets_at_report_ = 0;
  std::uint64_t srtp_failures_ = 0;
  time_point next_report_{};
  std::minstd_rand rng_;
  std::array<std::byte, max_rtp_bytes + srtp_trailer_room> wire_{};
};

// --- the handle ------------------------------------------------------------------------------

call_media::call_media(udp_port port, std::shared_ptr<session> s, file_writer& files) noexcept
    : port_(std::move(port))
    , session_(std::move(s))
    , files_(&files) {}

call_media::~call_media() = default;

result<std::shared_ptr<call_media>> call_media::open(engine& e, call_media_callback on_event) {
  auto port = e.open_port();
  if (!port) return std::move(port).err();
  auto s = std::make_shared<session>(std::move(on_event), port->media());
  return std::shared_ptr<call_media>(
      new call_media(std::move(port).value(), std::move(s), e.files()));
}

const std::string& call_media::local_address() const noexcept {
  return port_.local_address();
}
std::uint16_t call_media::local_rtp_port() const noexcept {
  return port_.local_rtp_port();
}
std::uint16_t call_media::local_rtcp_port() const noexcept {
  return port_.local_rtcp_port();
}
port_stats call_media::stats() const noexcept {
  return port_.stats();
}
std::optional<endpoint> call_media::rtp_target() const {
  return port_.rtp_target();
}

status call_media::start(const call_media_config& cfg) {
  {
    std::lock_guard lock(mutex_);
    if (started_ || closing_)
      return make_error(errc::conflict, closing_ ? "call media closed" : "call media started");
    started_ = true; // reserved; released below on failure
  }
  auto fail = [this](error e) -> status {
    std::lock_guard lock(mutex_);
    started_ = false;
    return e;
  };

  auto codec = codec_of(cfg.media);
  if (!codec) return fail(std::move(codec).err());

  media_parts p;
  p.clock_rate_hz = codec->clock_rate_hz;
  p.rtcp_interval = cfg.rtcp_interval;
  p.cname = cfg.cname;
  if (cfg.media.srtp) {
    const auto& k = *cfg.media.srtp;
    auto out = srtp_session::create(key_of(k.suite, k.local_key), srtp_direction::outbound);
    if (!out) return fail(std::move(out).err());
    auto in = srtp_session::create(key_of(k.suite, k.remote_key), srtp_direction::inbound);
    if (!in) return fail(std::move(in).err());
    p.srtp_out.emplace(std::move(out).value());
    p.srtp_in.emplace(std::move(in).value());
  }

  if (!cfg.recording_path.empty()) {
    auto f = files_->open(cfg.recording_path);
    if (!f) return fail(std::move(f).err());
    p.file = std::move(f).value();
    p.recorder = std::make_unique<media::call_recorder>(*p.file);
    if (!p.recorder->ok())
      return fail(
          make_error(errc::internal, "cannot write recording '" + cfg.recording_path + "'"));
  }

  // The chains report on the transport thread, into the session (which owns them).
  session* s = session_.get();
  auto on_event = [s](const media::media_event& e) {
    std::visit([s](const auto& x) { s->on_chain_event(x); }, e);
  };
  media::inbound_options in;
  in.codec = *codec;
  in.vad_enabled = true;
  in.downstream = p.recorder ? &p.recorder->caller() : nullptr;
  in.on_event = on_event;
  auto inbound = media::build_inbound_chain(in);
  if (!inbound) return fail(std::move(inbound).err());

  std::random_device random;
  media::outbound_options out;
  out.codec = *codec;
  out.ssrc = random();
  out.initial_sequence = static_cast<std::uint16_t>(random());
  out.initial_timestamp = random();
  out.tap = p.recorder ? &p.recorder->agent() : nullptr;
  // The session keeps what play() gave it and feeds the chain every tick, so the chain's own
  // queue needs only a few ticks (3.2 KB rather than the default second's 32 KB per call).
  out.playout_queue = session_playout_queue;
  out.on_event = on_event;
  auto outbound = media::build_outbound_chain(out);
  if (!outbound) return fail(std::move(outbound).err());
  p.in = std::move(inbound).value();
  p.out = std::move(outbound).value();

  if (has_remote(cfg.media))
    if (auto r = port_.set_remote(cfg.media.remote_address, cfg.media.remote_rtp_port,
                                  cfg.media.remote_rtcp_port);
        !r)
      return fail(std::move(r).err());

  {
    std::lock_guard lock(mutex_);
    media_timeout_ = cfg.media_timeout;
    media_ = cfg.media;
  }
  port_.set_media_timeout(expects_media(cfg.media) ? duration{cfg.media_timeout} : duration{});
  // Posts run in order on the port's thread: the parts are in place before the first packet.
  auto shared = std::make_shared<media_parts>(std::move(p));
  port_.post([s = session_, shared, on = sends(cfg.media)] { s->install(std::move(*shared), on); });
  port_.start(session_, session_);
  return unit;
}

status call_media::update(const sdp::negotiated_media& m) {
  bool remote_changed = false;
  std::chrono::milliseconds timeout{};
  {
    std::lock_guard lock(mutex_);
    if (!started_ || closing_ || !media_)
      return make_error(errc::conflict, closing_ ? "call media closed" : "call media not started");
    if (lower(m.codec) != lower(media_->codec) || m.payload_type != media_->payload_type)
      return make_error(errc::invalid_argument,
                        "re-INVITE changed the codec from " + media_->codec + " to " + m.codec);
    remote_changed = has_remote(m) && !same_remote(m, *media_);
    timeout = media_timeout_;
  }
  if (remote_changed)
    if (auto r = port_.set_remote(m.remote_address, m.remote_rtp_port, m.remote_rtcp_port); !r)
      return r;
  {
    std::lock_guard lock(mutex_);
    if (has_remote(m)) {
      media_->remote_address = m.remote_address;
      media_->remote_rtp_port = m.remote_rtp_port;
      media_->remote_rtcp_port = m.remote_rtcp_port;
    }
    media_->direction = m.direction;
    media_->remote_hold = m.remote_hold;
  }
  port_.set_media_timeout(expects_media(m) ? duration{timeout} : duration{});
  port_.post([s = session_, on = sends(m)] { s->set_sending(on); });
  return unit;
}

void call_media::play(std::shared_ptr<const std::vector<std::int16_t>> pcm16k) {
  if (!pcm16k || pcm16k->empty()) return;
  port_.post([s = session_, pcm = std::move(pcm16k)]() mutable { s->play(std::move(pcm)); });
}

void call_media::clear() {
  port_.post([s = session_] { s->clear(); });
}

void call_media::send_dtmf(char digit) {
  port_.post([s = session_, digit] { s->send_dtmf(digit); });
}

void call_media::close(std::function<void(call_media_summary)> done) {
  {
    std::unique_lock lock(mutex_);
    if (summary_) {
      const auto s = *summary_;
      lock.unlock();
      if (done) done(s);
      return;
    }
    if (done) waiting_.push_back(std::move(done));
    if (closing_) return;
    closing_ = true;
  }
  port_.post([self = shared_from_this()] {
    auto s = self->session_->finish();
    self->port_.close(); // on this thread: at once
    s.port = self->port_.stats();
    // The summary is out once the recording's file is closed (so it is whole when the CALL
    // hears of it): on the writer thread.
    self->session_->close_recording([self, s](bool file_ok) mutable {
      s.recording_ok = s.recording_ok && file_ok;
      std::vector<std::function<void(call_media_summary)>> waiting;
      {
        std::lock_guard lock(self->mutex_);
        self->summary_ = s;
        waiting.swap(self->waiting_);
      }
      for (auto& w : waiting)
        w(s);
    });
  });
}

} // namespace gobi::rtp
