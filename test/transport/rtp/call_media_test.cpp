#include "transport/rtp/call_media.hpp"

#include "domain/media/chain.hpp"
#include "domain/media/rtcp.hpp"
#include "transport/rtp/srtp.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>

using namespace gobi;
using namespace gobi::rtp;
using namespace gobi::rtp::test;
using namespace std::chrono_literals;

namespace {

/// What a call_media reported, collected from its transport thread.
class event_log {
public:
  void add(const call_media_event& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
  }
  template <class T> std::vector<T> all() const {
    std::lock_guard lock(mutex_);
    std::vector<T> r;
    for (const auto& e : events_)
      if (const auto* x = std::get_if<T>(&e)) r.push_back(*x);
    return r;
  }
  template <class T> std::size_t count() const { return all<T>().size(); }

private:
  mutable std::mutex mutex_;
  std::vector<call_media_event> events_;
};

/// A call_media whose events go to a log that outlives it (the callback may run until its
/// port's close has run on the transport thread).
struct endpoint_under_test {
  std::shared_ptr<event_log> log = std::make_shared<event_log>();
  std::shared_ptr<call_media> media;
};

endpoint_under_test open_media(engine& e) {
  endpoint_under_test t;
  auto m = call_media::open(e, [log = t.log](const call_media_event& ev) { log->add(ev); });
  REQUIRE(m.ok());
  t.media = std::move(m).value();
  return t;
}

sdp::negotiated_media negotiated(const std::string& codec, std::uint16_t remote_rtp,
                                 std::uint16_t remote_rtcp = 0) {
  sdp::negotiated_media m;
  m.codec = codec;
  if (codec == "opus") {
    m.payload_type = 111;
    m.clock_rate = 48000;
    m.channels = 2;
    m.telephone_event_pt = 102;
  } else {
    m.payload_type = codec == "PCMA" ? 8 : 0;
    m.telephone_event_pt = 101;
  }
  m.remote_address = "127.0.0.1";
  m.remote_rtp_port = remote_rtp;
  m.remote_rtcp_port = remote_rtcp ? remote_rtcp : static_cast<std::uint16_t>(remote_rtp + 1);
  return m;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("gobi_call_media_" + std::to_string(::getpid()) + "_" + name + ".wav"))
      .string();
}

std::shared_ptr<const std::vector<std::int16_t>> tone(double hz, std::chrono::milliseconds len,
                                                      double amplitude = 8000) {
  const auto n = static_cast<std::size_t>(len.count()) * 16;
  auto v = std::make_shared<std::vector<std::int16_t>>(n);
  for (std::size_t i = 0; i < n; ++i)
    (*v)[i] = static_cast<std::int16_t>(amplitude *
                                        std::sin(2 * M_PI * hz * static_cast<double>(i) / 16000));
  return v;
}

call_media_summary close_and_wait(call_media& m) {
  std::promise<call_media_summary> p;
  auto f = p.get_future();
  m.close([&p](call_media_summary s) { p.set_value(s); });
  REQUIRE(f.wait_for(deadline) == std::future_status::ready);
  return f.get();
}

struct wav_file {
  std::uint16_t channels = 0;
  std::uint32_t rate = 0;
  std::vector<std::int16_t> left, right;
};

/// Reads a 16-bit PCM WAV as gobi writes it (44-byte header), checking the header's sizes
/// against the file's.
std::optional<wav_file> read_wav(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<unsigned char> b((std::istreambuf_iterator<char>(f)), {});
  if (b.size() < 44) return std::nullopt;
  auto u32 = [&](std::size_t o) {
    return std::uint32_t{b[o]} | std::uint32_t{b[o + 1]} << 8 | std::uint32_t{b[o + 2]} << 16 |
           std::uint32_t{b[o + 3]} << 24;
  };
  auto u16 = [&](std::size_t o) { return static_cast<std::uint16_t>(b[o] | b[o + 1] << 8); };
  if (std::memcmp(b.data(), "RIFF", 4) != 0 || std::memcmp(b.data() + 8, "WAVE", 4) != 0 ||
      std::memcmp(b.data() + 36, "data", 4) != 0)
    return std::nullopt;
  if (u32(4) != b.size() - 8 || u32(40) != b.size() - 44) return std::nullopt; // header fixed
  wav_file w;
  w.channels = u16(22);
  w.rate = u32(24);
  if (w.channels != 2 || u16(34) != 16) return std::nullopt;
  for (std::size_t o = 44; o + 4 <= b.size(); o += 4) {
    w.left.push_back(static_cast<std::int16_t>(u16(o)));
    w.right.push_back(static_cast<std::int16_t>(u16(o + 2)));
  }
  return w;
}

/// 20 ms blocks (16 kHz) in which a tone of `hz` carries most of the energy (Goertzel).
int tone_blocks(const std::vector<std::int16_t>& x, double hz) {
  constexpr std::size_t n = 320;
  int found = 0;
  for (std::size_t at = 0; at + n <= x.size(); at += n) {
    const double w = 2 * M_PI * hz / 16000, c = 2 * std::cos(w);
    double s1 = 0, s2 = 0, energy = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = x[at + i];
      energy += v * v;
      const double s0 = v + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const double power = s1 * s1 + s2 * s2 - c * s1 * s2; // |X(hz)|^2
    if (energy > n * 300.0 * 300.0 && 2 * power / (n * energy) > 0.6) ++found;
  }
  return found;
}

/// The RTP payload type of a datagram.
int payload_type(const bytes& d) {
  return d.size() >= 12 ? std::to_integer<int>(d[1]) & 0x7f : -1;
}

std::optional<media::rtcp_compound> parse(const bytes& d, media::rtcp_compound& c) {
  const std::span<const std::uint8_t> s(reinterpret_cast<const std::uint8_t*>(d.data()), d.size());
  if (media::parse_rtcp(s, c) != media::rtcp_error::ok) return std::nullopt;
  return c;
}

} // namespace

TEST_CASE("call_media: two calls talk (PCMU, opus); tones land in the recordings") {
  for (const std::string codec : {"PCMU", "opus"}) {
    CAPTURE(codec);
    auto e = make_engine(codec == "opus" ? 44100 : 44000);
    auto a = open_media(*e), b = open_media(*e);
    CHECK(a.media->local_address() == "127.0.0.1");
    CHECK(a.media->local_rtp_port() % 2 == 0);

    call_media_config ca, cb;
    ca.media = negotiated(codec, b.media->local_rtp_port());
    ca.recording_path = temp_path("a_" + codec);
    ca.cname = "a@gobi";
    cb.media = negotiated(codec, a.media->local_rtp_port());
    cb.recording_path = temp_path("b_" + codec);
    cb.cname = "b@gobi";
    REQUIRE(a.media->start(ca).ok());
    REQUIRE(b.media->start(cb).ok());
    CHECK(a.media->start(ca).err().code == errc::conflict);

    // Two buffers back to back play as one utterance.
    a.media->play(tone(600, 200ms));
    a.media->play(tone(600, 200ms));
    b.media->play(tone(1000, 400ms));
    REQUIRE(eventually([&] {
      return a.log->count<media::playback_finished>() == 1 &&
             b.log->count<media::playback_finished>() == 1;
    }));
    const auto done = a.log->all<media::playback_finished>()[0];
    CHECK_FALSE(done.interrupted);
    CHECK(done.position == 400ms);
    // Each side's VAD heard the other's tone, start to end.
    REQUIRE(eventually([&] {
      return a.log->count<media::speech_ended>() == 1 && b.log->count<media::speech_ended>() == 1;
    }));

    const auto sa = close_and_wait(*a.media);
    const auto sb = close_and_wait(*b.media);
    // Idempotent: a second close answers at once, with the same summary.
    bool again = false;
    a.media->close([&](call_media_summary s) { again = s.packets_sent == sa.packets_sent; });
    CHECK(again);
    CHECK(a.media->start(ca).err().code == errc::conflict);

    CHECK(sa.packets_sent > 20);
    CHECK(sb.packets_received > 20);
    // A tick the clock skips on a loaded machine is a loss by design (never a burst).
    CHECK(sa.packets_lost * 5 < sa.packets_received);
    CHECK(sa.port.rtp_confirmed);
    CHECK(sa.port.rtcp_out >= 1); // the BYE at least
    CHECK(sa.srtp_failures == 0);
    CHECK(sa.recording_ok);
    CHECK(sa.recording_frames > 16000 * 4 / 10);

    const auto wa = read_wav(ca.recording_path), wb = read_wav(cb.recording_path);
    REQUIRE(wa);
    REQUIRE(wb);
    CHECK(wa->rate == 16000);
    CHECK(wa->left.size() == sa.recording_frames);
    const double seconds = static_cast<double>(wa->left.size()) / 16000;
    CHECK(seconds > 0.4);
    CHECK(seconds < 5);
    // a's recording: b's 1 kHz tone on the left (caller), a's own 600 Hz on the right (agent).
    // (Thresholds leave room for a loaded machine: concealed losses, late playout.)
    CHECK(tone_blocks(wa->left, 1000) >= 8);
    CHECK(tone_blocks(wa->left, 600) == 0);
    CHECK(tone_blocks(wa->right, 600) >= 15);
    CHECK(tone_blocks(wa->right, 1000) == 0);
    // ...and a's tone arrived at b.
    CHECK(tone_blocks(wb->left, 600) >= 8);
    CHECK(tone_blocks(wb->right, 1000) >= 15);
    std::filesystem::remove(ca.recording_path);
    std::filesystem::remove(cb.recording_path);
  }
}

TEST_CASE("call_media: SRTP both ways; forged packets are rejected and do not latch") {
  auto e = make_engine(44200);
  auto a = open_media(*e), b = open_media(*e);
  const auto ka = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  const auto kb = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
  auto raw = [](const srtp_key& k) {
    sdp::srtp_key r{};
    for (std::size_t i = 0; i < r.size(); ++i)
      r[i] = std::to_integer<std::uint8_t>(k.master[i]);
    return r;
  };
  call_media_config ca, cb;
  ca.media = negotiated("PCMU", b.media->local_rtp_port());
  ca.media.srtp = sdp::srtp_params{sdp::srtp_suite::aes_cm_128_hmac_sha1_80, raw(ka), raw(kb)};
  ca.rtcp_interval = 100ms;
  cb.media = negotiated("PCMU", a.media->local_rtp_port());
  cb.media.srtp = sdp::srtp_params{sdp::srtp_suite::aes_cm_128_hmac_sha1_80, raw(kb), raw(ka)};
  cb.rtcp_interval = 100ms;
  REQUIRE(a.media->start(ca).ok());
  REQUIRE(b.media->start(cb).ok());

  udp_peer forger;
  for (std::uint16_t s = 0; s < 3; ++s)
    forger.send_to(a.media->local_rtp_port(), rtp_bytes(s, 0x666));
  b.media->play(tone(1000, 200ms));
  REQUIRE(eventually([&] { return a.log->count<media::speech_started>() == 1; }));
  // b's SRTCP reports reach a and verify.
  REQUIRE(eventually([&] {
    return a.media->stats().rtcp_in >= 2 && a.media->stats().rtp_in > 15 &&
           b.media->stats().rtp_in > 15;
  }));
  CHECK(a.media->rtp_target() == endpoint{"127.0.0.1", b.media->local_rtp_port()});

  const auto sa = close_and_wait(*a.media);
  const auto sb = close_and_wait(*b.media);
  CHECK(sa.srtp_failures == 3);
  CHECK(sa.port.rejected == 3);
  CHECK(sb.srtp_failures == 0);
  CHECK(sb.port.rejected == 0);
  CHECK(sa.packets_received > 10);
  CHECK(sb.packets_received > 10);
}

TEST_CASE("call_media: DTMF in (RFC 4733 -> dtmf_received) and out") {
  auto e = make_engine(44300, 1);
  auto a = open_media(*e);
  udp_peer peer;
  call_media_config c;
  c.media = negotiated("PCMU", peer.port());
  REQUIRE(a.media->start(c).ok());

  // The peer's packets come from a real outbound chain (a phone sending a digit).
  media::outbound_options po;
  po.codec = media::codec_params::pcmu(101);
  po.ssrc = 0x1234;
  auto phone = media::build_outbound_chain(po);
  REQUIRE(phone.ok());
  REQUIRE((*phone)->send_dtmf('5'));
  for (int i = 0; i < 12; ++i) {
    const auto p = (*phone)->tick(media::media_time{i * 20ms});
    peer.send_to(a.media->local_rtp_port(),
                 bytes(reinterpret_cast<const std::byte*>(p.data()),
                       reinterpret_cast<const std::byte*>(p.data()) + p.size()));
  }
  REQUIRE(eventually([&] { return a.log->count<media::dtmf_received>() == 1; }));
  CHECK(a.log->all<media::dtmf_received>()[0].digit == '5');

  a.media->send_dtmf('7');
  // Telephone-event packets for 7 come out, ending with the E bit (repeated three times; a
  // tick skipped under load may drop one, never all of them and the start).
  int digit_packets = 0;
  bool got_end = false;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!got_end && std::chrono::steady_clock::now() < until) {
    const auto d = peer.receive(500ms);
    if (!d) break;
    if (payload_type(d->data) == 101 && d->data.size() >= 16) {
      CHECK(std::to_integer<int>(d->data[12]) == 7);
      ++digit_packets;
      got_end = (std::to_integer<int>(d->data[13]) & 0x80) != 0;
    }
  }
  CHECK(digit_packets >= 3);
  CHECK(got_end);
  close_and_wait(*a.media);
}

TEST_CASE("call_media: media timeout; hold stops sending and the timeout, resume re-arms") {
  auto e = make_engine(44400, 1);
  auto a = open_media(*e);
  udp_peer peer;
  call_media_config c;
  c.media = negotiated("PCMU", peer.port());
  c.media_timeout = 150ms;
  REQUIRE(a.media->start(c).ok());
  REQUIRE(eventually([&] { return a.log->count<media_timed_out>() == 1; }));
  CHECK(a.log->all<media_timed_out>()[0].silent_for >= 150ms);
  REQUIRE(peer.receive()); // we send while the peer is silent

  auto hold = c.media;
  hold.direction = sdp::direction::recvonly;
  REQUIRE(a.media->update(hold).ok());
  // Drain what was on its way; then nothing more comes.
  while (peer.receive(100ms)) {
  }
  const auto sent = a.media->stats().rtp_out;
  CHECK_FALSE(peer.receive(100ms));
  CHECK(a.media->stats().rtp_out == sent);
  CHECK(a.log->count<media_timed_out>() == 1);

  auto other = c.media;
  other.codec = "opus";
  CHECK(a.media->update(other).err().code == errc::invalid_argument);

  const auto resumed = std::chrono::steady_clock::now();
  REQUIRE(a.media->update(c.media).ok());
  REQUIRE(peer.receive());
  REQUIRE(eventually([&] { return a.log->count<media_timed_out>() == 2; }));
  // Counted from the resume, not from the last packet before the hold.
  CHECK(std::chrono::steady_clock::now() - resumed >= 140ms);
  close_and_wait(*a.media);
}

TEST_CASE("call_media: RTCP SR with SDES CNAME while sending, RR on hold, BYE at close") {
  auto e = make_engine(44500, 1);
  auto a = open_media(*e);
  udp_peer rtp_peer, rtcp_peer;
  call_media_config c;
  c.media = negotiated("PCMU", rtp_peer.port(), rtcp_peer.port());
  c.rtcp_interval = 100ms;
  c.cname = "call-1@gobi";
  REQUIRE(a.media->start(c).ok());
  for (std::uint16_t s = 1; s <= 5; ++s)
    rtp_peer.send_to(a.media->local_rtp_port(), rtp_bytes(s, 0x77));
  const auto ours = rtp_peer.receive();
  REQUIRE(ours);
  const std::uint32_t ssrc = std::to_integer<std::uint32_t>(ours->data[8]) << 24 |
                             std::to_integer<std::uint32_t>(ours->data[9]) << 16 |
                             std::to_integer<std::uint32_t>(ours->data[10]) << 8 |
                             std::to_integer<std::uint32_t>(ours->data[11]);

  // The compound views into its datagram: keep the bytes alive with it.
  struct report {
    bytes data;
    media::rtcp_compound c;
  };
  auto next_report = [&](report& r) {
    auto d = rtcp_peer.receive();
    REQUIRE(d);
    CHECK(d->from_port == a.media->local_rtcp_port());
    r.data = std::move(d->data);
    r.c = {};
    REQUIRE(parse(r.data, r.c));
  };
  report first;
  next_report(first);
  const auto& sr = first.c;
  REQUIRE(sr.sr);
  CHECK(sr.sr->ssrc == ssrc);
  CHECK(sr.sr->info.packet_count > 0);
  REQUIRE(sr.cname);
  CHECK(sr.cname->cname == "call-1@gobi");
  REQUIRE(sr.sr->blocks.count == 1);
  CHECK(sr.sr->blocks.items[0].ssrc == 0x77);
  CHECK(sr.sr->blocks.items[0].extended_highest_sequence == 5);

  auto hold = c.media;
  hold.remote_hold = true;
  REQUIRE(a.media->update(hold).ok());
  // Reports queued before the hold took effect are SRs; read on until an RR comes.
  report rr;
  const auto until = std::chrono::steady_clock::now() + deadline;
  do {
    next_report(rr);
  } while (!rr.c.rr && std::chrono::steady_clock::now() < until);
  REQUIRE(rr.c.rr);
  CHECK(rr.c.rr->ssrc == ssrc);

  a.media->close({});
  bool bye = false;
  while (!bye && std::chrono::steady_clock::now() < until + deadline) {
    report b;
    next_report(b);
    bye = b.c.bye.has_value();
  }
  CHECK(bye);
}

TEST_CASE("call_media: start refuses an unknown codec and an unwritable recording") {
  auto e = make_engine(44600, 1);
  auto a = open_media(*e);
  call_media_config c;
  c.media = negotiated("PCMU", 4000);
  c.media.codec = "G729";
  CHECK(a.media->start(c).err().code == errc::invalid_argument);
  c.media = negotiated("PCMU", 4000);
  c.recording_path = "/nonexistent-dir/x.wav";
  CHECK(a.media->start(c).err().code == errc::internal);
  // Failed starts leave it startable.
  c.recording_path.clear();
  CHECK(a.media->start(c).ok());
  const auto s = close_and_wait(*a.media);
  CHECK(s.recording_frames == 0);
  CHECK(s.recording_ok);

  // Closing a call that never started still answers.
  auto b = open_media(*e);
  const auto sb = close_and_wait(*b.media);
  CHECK(sb.packets_sent == 0);
  CHECK(e->open_ports() == 0);
}
