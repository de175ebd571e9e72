// Whole chains in-process: peer A's outbound chain -> an in-memory pipe (scripted delay,
// loss, reordering, duplicates) -> peer B's inbound chain, on one manual media clock.

#include "domain/media/chain.hpp"
#include "domain/media/recorder.hpp"

#include "media_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

using namespace gobi::media;
using namespace std::chrono_literals;

namespace {

/// Datagrams in flight between two peers. `fate(i)` says what happens to the i-th packet
/// sent: its delay, or nothing (lost); `duplicate(i)` sends it twice.
class memory_pipe {
public:
  std::function<std::optional<std::chrono::microseconds>(std::size_t)> fate = [](std::size_t) {
    return std::optional<std::chrono::microseconds>{30ms};
  };
  std::function<bool(std::size_t)> duplicate = [](std::size_t) { return false; };

  void send(std::span<const std::uint8_t> bytes, media_time now) {
    const std::size_t i = sent_++;
    const auto d = fate(i);
    if (!d) {
      ++lost_;
      return;
    }
    flight_.push_back({now + *d, i, {bytes.begin(), bytes.end()}});
    if (duplicate(i) && ++duplicated_)
      flight_.push_back({now + *d + 5ms, i, {bytes.begin(), bytes.end()}});
  }
  /// Hands everything due by `now` to `to`, in arrival order.
  void deliver(inbound_chain& to, media_time now) {
    std::stable_sort(flight_.begin(), flight_.end(),
                     [](const auto& a, const auto& b) { return a.at < b.at; });
    auto it = flight_.begin();
    for (; it != flight_.end() && it->at <= now; ++it)
      CHECK(to.push(it->bytes, it->at) == rtp_error::ok);
    flight_.erase(flight_.begin(), it);
  }
  std::size_t lost() const { return lost_; }
  std::size_t in_flight() const { return flight_.size(); }
  std::size_t duplicated() const { return duplicated_; }

private:
  struct datagram {
    media_time at;
    std::size_t index;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<datagram> flight_;
  std::size_t sent_ = 0;
  std::size_t lost_ = 0;
  std::size_t duplicated_ = 0;
};

/// Collects events by kind.
struct events {
  std::vector<media_event> all;
  event_callback callback() {
    return [this](const media_event& e) { all.push_back(e); };
  }
  template <class T> std::vector<T> of() const {
    std::vector<T> v;
    for (const auto& e : all)
      if (const auto* x = std::get_if<T>(&e)) v.push_back(*x);
    return v;
  }
};

/// A 12-byte RTP header (V=2, no CSRCs) for hand-made packets; append the payload.
std::vector<std::uint8_t> rtp_header(std::uint8_t pt, std::uint16_t seq, std::uint32_t ts,
                                     std::uint32_t ssrc, bool marker = false) {
  std::vector<std::uint8_t> d(12, 0);
  d[0] = 0x80;
  d[1] = static_cast<std::uint8_t>(pt | (marker ? 0x80 : 0));
  d[2] = static_cast<std::uint8_t>(seq >> 8);
  d[3] = static_cast<std::uint8_t>(seq);
  for (int k = 0; k < 4; ++k) {
    d[4 + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(ts >> (24 - 8 * k));
    d[8 + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * k));
  }
  return d;
}

/// A named sink that keeps every frame it sees (the STT stand-in).
class collecting_sink final : public pcm_sink {
public:
  explicit collecting_sink(std::string n)
      : name_(std::move(n)) {}
  void on_frame(const frame_view& f) override {
    CHECK(f.sample_rate_hz == internal_rate_hz);
    CHECK(f.samples.size() == frame_samples);
    samples.insert(samples.end(), f.samples.begin(), f.samples.end());
    origins.push_back(f.origin);
  }
  std::string name() const override { return name_; }
  std::vector<std::int16_t> samples;
  std::vector<frame_origin> origins;

private:
  std::string name_;
};

template <class T> T must(gobi::result<T> r) {
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::span<const std::int16_t> window(const std::vector<std::int16_t>& v,
                                     std::chrono::milliseconds from, std::chrono::milliseconds to) {
  const auto a = static_cast<std::size_t>(from.count() * 16);
  const auto b = std::min(v.size(), static_cast<std::size_t>(to.count() * 16));
  return std::span<const std::int16_t>{v}.subspan(a, b - a);
}

int pt_of(std::span<const std::uint8_t> p) {
  return p[1] & 0x7f;
}

} // namespace

TEST_CASE("media chain: names read like the stages they are made of") {
  collecting_sink stt{"stt"};
  struct row {
    codec_params codec;
    pcm_sink* downstream;
    const char* inbound;
    const char* outbound;
  };
  const std::vector<row> rows{
      {codec_params::pcmu(), nullptr, "rtp(PCMU/8000) -> jitter -> g711 -> resample(16000) -> vad",
       "pcm(16000) -> resample(8000) -> g711 -> rtp(PCMU/8000)"},
      {codec_params::pcma(), &stt,
       "rtp(PCMA/8000) -> jitter -> g711 -> resample(16000) -> vad -> stt",
       "pcm(16000) -> resample(8000) -> g711 -> rtp(PCMA/8000)"},
      {codec_params::opus(), &stt, "rtp(opus/48000/2) -> jitter -> opus -> vad -> stt",
       "pcm(16000) -> opus -> rtp(opus/48000/2)"},
  };
  for (const auto& r : rows) {
    inbound_options in;
    in.codec = r.codec;
    in.downstream = r.downstream;
    CHECK(must(build_inbound_chain(in))->name() == r.inbound);
    outbound_options out;
    out.codec = r.codec;
    CHECK(must(build_outbound_chain(out))->name() == r.outbound);
  }
  memory_byte_sink sink;
  call_recorder rec{sink};
  outbound_options out;
  out.tap = &rec.agent();
  CHECK(must(build_outbound_chain(out))->name() ==
        "pcm(16000) -> tee(recorder(agent)) -> resample(8000) -> g711 -> rtp(PCMU/8000)");
  inbound_options in;
  in.vad_enabled = false;
  CHECK(must(build_inbound_chain(in))->name() ==
        "rtp(PCMU/8000) -> jitter -> g711 -> resample(16000)");

  // What a chain cannot do is refused at build, not discovered per packet.
  in.codec = codec_params::pcmu();
  in.codec.clock_rate_hz = 16000;
  CHECK_FALSE(build_inbound_chain(in).ok());
  out.codec = codec_params::opus();
  out.codec.clock_rate_hz = 8000;
  CHECK_FALSE(build_outbound_chain(out).ok());
  out.codec = codec_params::pcmu();
  out.resample_quality = 42;
  CHECK_FALSE(build_outbound_chain(out).ok());
}

TEST_CASE("media chain: outbound sends exactly one packet per tick") {
  struct row {
    codec_params codec;
    std::uint32_t units;
  };
  for (const auto& r : {row{codec_params::pcmu(), 160}, row{codec_params::opus(), 960}}) {
    CAPTURE(encoding_name(r.codec));
    events ev;
    outbound_options o;
    o.codec = r.codec;
    o.ssrc = 0x5eed;
    o.initial_sequence = 65530; // wraps during the test
    o.initial_timestamp = 0xfffff000u;
    o.playout_queue = 500ms;
    o.on_event = ev.callback();
    auto a = must(build_outbound_chain(o));
    std::vector<std::vector<std::uint8_t>> pkts;
    media_time now{0};
    auto tick = [&] {
      const auto p = a->tick(now);
      pkts.emplace_back(p.begin(), p.end());
      now += 20ms;
    };
    for (int i = 0; i < 5; ++i)
      tick();                                              // silence
    const auto tone = test::tone(1000, 8000, 1600, 16000); // 100 ms
    CHECK(a->play(tone) == 1600);
    for (int i = 0; i < 10; ++i)
      tick();
    // Barge-in: 1 s queued (only 500 ms fit), cleared after 60 ms.
    const auto long_tone = test::tone(1000, 8000, 16000, 16000);
    CHECK(a->play(long_tone) == 8000);
    CHECK(a->queued_samples() == 8000);
    for (int i = 0; i < 3; ++i)
      tick();
    a->clear();
    CHECK(a->queued_samples() == 0);
    for (int i = 0; i < 3; ++i)
      tick();

    REQUIRE(pkts.size() == 21);
    for (std::size_t i = 0; i < pkts.size(); ++i) {
      CAPTURE(i);
      rtp_packet p;
      REQUIRE(parse_rtp(pkts[i], p) == rtp_error::ok);
      CHECK(p.ssrc == 0x5eed);
      CHECK(p.payload_type == r.codec.payload_type);
      CHECK(p.sequence == static_cast<std::uint16_t>(65530 + i));
      CHECK(p.timestamp == static_cast<std::uint32_t>(0xfffff000u + i * r.units));
      // The marker: the first packet, and the first of each talk spurt.
      CHECK(p.marker == (i == 0 || i == 5 || i == 15));
      if (r.codec.kind == codec_kind::pcmu) {
        const bool silent =
            std::all_of(p.payload.begin(), p.payload.end(), [](auto b) { return b == 0xFF; });
        CHECK(p.payload.size() == 160);
        const bool playing = (i >= 5 && i < 10) || (i >= 15 && i < 18);
        const bool tail = i == 10 || i == 18; // the resampler's filter still rings
        if (!tail) CHECK(silent == !playing);
      }
    }
    const auto done = ev.of<playback_finished>();
    REQUIRE(done.size() == 2);
    CHECK(done[0].position == 100ms);
    CHECK_FALSE(done[0].interrupted);
    CHECK(done[1].position == 60ms);
    CHECK(done[1].interrupted);
    const auto si = a->make_sender_info(0x1234ull << 32, now - 20ms);
    CHECK(si.packet_count == 21);
    CHECK(si.rtp_timestamp == static_cast<std::uint32_t>(0xfffff000u + 20 * r.units));
    if (r.codec.kind == codec_kind::pcmu) CHECK(si.octet_count == 21 * 160);
  }
}

TEST_CASE("media chain: skipped ticks move the outbound timeline on without a packet") {
  events ev;
  outbound_options o;
  o.codec = codec_params::pcmu();
  o.ssrc = 0x5eed;
  o.initial_sequence = 100;
  o.initial_timestamp = 1000;
  o.on_event = ev.callback();
  collecting_sink tap{"tap"};
  o.tap = &tap;
  auto a = must(build_outbound_chain(o));
  const auto tone = test::tone(1000, 8000, 1600, 16000); // 100 ms: 5 frames
  REQUIRE(a->play(tone) == 1600);
  media_time now{0};
  rtp_packet first, after;
  const auto p0 = a->tick(now);
  REQUIRE(parse_rtp(p0, first) == rtp_error::ok);
  for (int i = 1; i <= 3; ++i) // the clock woke 60 ms late
    a->skip(now + i * 20ms);
  CHECK(a->skipped_ticks() == 3);
  CHECK(a->queued_samples() == 320); // 4 frames gone: one sent, three skipped
  CHECK(tap.samples.size() == 320);  // the skipped frames never reached the stages
  CHECK(ev.of<playback_finished>().empty());
  const auto p1 = a->tick(now + 80ms);
  REQUIRE(parse_rtp(p1, after) == rtp_error::ok);
  CHECK(after.sequence == 101);             // no sequence gap: nothing was sent
  CHECK(after.timestamp == 1000 + 4 * 160); // but the timestamp kept real time
  const auto done = ev.of<playback_finished>();
  REQUIRE(done.size() == 1); // the last frame went out: the greeting counts as played
  CHECK(done[0].position == 100ms);
  // Skipping the rest of a queue finishes the playback too.
  REQUIRE(a->play(tone) == 1600);
  for (int i = 0; i < 5; ++i)
    a->skip(now + 100ms + i * 20ms);
  CHECK(a->queued_samples() == 0);
  CHECK(ev.of<playback_finished>().size() == 2);
}

TEST_CASE("media chain: a 1 kHz tone sent by A arrives at B as a 1 kHz tone") {
  struct net {
    const char* what;
    std::function<std::optional<std::chrono::microseconds>(std::size_t)> fate;
    bool dup;
  };
  const std::vector<net> nets{
      {"clean", [](std::size_t) { return std::optional<std::chrono::microseconds>{30ms}; }, false},
      {"jitter, reordering, 3% loss, duplicates",
       [](std::size_t i) -> std::optional<std::chrono::microseconds> {
         if (i % 33 == 16) return std::nullopt;
         return std::chrono::microseconds{30ms} + std::chrono::milliseconds{(i * 37) % 45};
       },
       true},
  };
  for (const auto& codec : {codec_params::pcmu(), codec_params::pcma(), codec_params::opus()}) {
    for (const auto& n : nets) {
      CAPTURE(encoding_name(codec));
      CAPTURE(n.what);
      events a_ev, b_ev;
      outbound_options ao;
      ao.codec = codec;
      ao.on_event = a_ev.callback();
      auto a = must(build_outbound_chain(ao));
      collecting_sink stt{"stt"};
      inbound_options bo;
      bo.codec = codec;
      bo.downstream = &stt;
      bo.on_event = b_ev.callback();
      auto b = must(build_inbound_chain(bo));
      memory_pipe wire;
      wire.fate = n.fate;
      wire.duplicate = [&](std::size_t i) { return n.dup && i % 5 == 0; };

      // 2 s of tone, from 200 ms on; TTS feeds the queue as room frees up.
      const auto tone = test::tone(1000, 8000, 32000, 16000);
      std::size_t fed = 0;
      int ticks = 0;
      for (media_time now{0}; now < media_time{3000ms}; now += 20ms, ++ticks) {
        if (now >= media_time{200ms} && fed < tone.size())
          fed += a->play(std::span<const std::int16_t>{tone}.subspan(fed));
        wire.send(a->tick(now), now);
        wire.deliver(*b, now);
        const auto& f = b->tick(now);
        CHECK(f.time == now);
      }
      REQUIRE(stt.origins.size() == static_cast<std::size_t>(ticks));
      const auto steady = window(stt.samples, 700ms, 2100ms);
      const double want = n.dup ? 0.8 : 0.95;
      CHECK(test::tone_fraction(steady, 1000, 16000) > want);
      CHECK(test::tone_fraction(steady, 600, 16000) < 0.01);
      if (!n.dup) CHECK(std::abs(20 * std::log10(test::rms(steady) / test::rms(tone))) < 2.0);
      CHECK(test::rms(window(stt.samples, 2600ms, 3000ms)) < 50); // quiet after the end

      // A finished its playout once; B heard one utterance.
      const auto done = a_ev.of<playback_finished>();
      REQUIRE(done.size() == 1);
      CHECK(done[0].position == 2000ms);
      const auto started = b_ev.of<speech_started>();
      const auto ended = b_ev.of<speech_ended>();
      REQUIRE(started.size() == 1);
      REQUIRE(ended.size() == 1);
      CHECK(started[0].at > media_time{200ms});
      CHECK(started[0].at < media_time{400ms}); // network + jitter delay
      CHECK(ended[0].duration > 1900ms);
      CHECK(ended[0].duration < 2100ms);

      // RTCP: once the pipe is drained, B's report on A's stream agrees with what it did.
      wire.deliver(*b, media_time{10s});
      const auto rb = b->make_report_block(media_time{3000ms});
      CHECK(rb.ssrc == a->ssrc());
      // Duplicates count as received (RFC 3550 A.3), except those of the probation packet.
      const auto dups = static_cast<std::int32_t>(wire.duplicated()) - (n.dup ? 1 : 0);
      CHECK(rb.cumulative_lost == static_cast<std::int32_t>(wire.lost()) - dups);
      const auto& js = b->jitter().stats();
      const auto accounted = js.played + js.late + js.dropped + js.duplicates + b->jitter().size() +
                             wire.lost() + wire.in_flight();
      CHECK(accounted == static_cast<std::uint64_t>(ticks) + wire.duplicated());
    }
  }
}

TEST_CASE("media chain: DTMF from A's outbound chain is reported once by B") {
  for (const auto& codec : {codec_params::pcmu(), codec_params::opus()}) {
    CAPTURE(encoding_name(codec));
    outbound_options ao;
    ao.codec = codec;
    auto a = must(build_outbound_chain(ao));
    events b_ev;
    inbound_options bo;
    bo.codec = codec;
    bo.on_event = b_ev.callback();
    auto b = must(build_inbound_chain(bo));
    memory_pipe wire;
    wire.duplicate = [](std::size_t i) { return i % 2 == 0; };
    CHECK(a->send_dtmf('7', 100ms));
    CHECK(a->send_dtmf('#', 160ms));
    CHECK_FALSE(a->send_dtmf('x'));
    std::vector<int> pts;
    for (media_time now{0}; now < media_time{1000ms}; now += 20ms) {
      const auto p = a->tick(now);
      pts.push_back(pt_of(p));
      wire.send(p, now);
      wire.deliver(*b, now);
      b->tick(now);
    }
    // 5 + 2 ends, 3 audio gap ticks, 8 + 2 ends, then audio.
    CHECK(std::count(pts.begin(), pts.end(), 101) == 17);
    CHECK(pts.back() == codec.payload_type);
    const auto digits = b_ev.of<dtmf_received>();
    REQUIRE(digits.size() == 2);
    CHECK(digits[0].digit == '7');
    CHECK(digits[0].duration == 100ms);
    CHECK(digits[1].digit == '#');
    CHECK(digits[1].duration == 160ms);
    CHECK(b_ev.of<speech_started>().empty()); // events are not audio
  }
  outbound_options no_te;
  no_te.codec = codec_params::pcmu(std::nullopt);
  CHECK_FALSE(must(build_outbound_chain(no_te))->send_dtmf('1'));
}

TEST_CASE("media chain: SIPp's G.711 A-law capture through the inbound chain") {
  const auto path = test::sip_tester_file("g711a.pcap");
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not installed (Debian package sip-tester)");
    return;
  }
  const auto records = test::read_pcap_udp(path);
  REQUIRE(records.size() == 236);
  events ev;
  collecting_sink stt{"stt"};
  inbound_options o;
  o.codec = codec_params::pcma(std::nullopt);
  o.downstream = &stt;
  o.on_event = ev.callback();
  auto b = must(build_inbound_chain(o));
  const media_time t0 = records.front().time;
  const media_time end = records.back().time - t0 + 400ms;
  std::size_t next = 0;
  for (media_time now{0}; now <= end; now += 20ms) {
    while (next < records.size() && records[next].time - t0 <= now) {
      CHECK(b->push(records[next].udp_payload, records[next].time - t0) == rtp_error::ok);
      ++next;
    }
    b->tick(now);
  }
  CHECK(b->rejected() == 0);
  CHECK(b->ignored() == 0);
  CHECK(b->jitter().stats().played == 236);
  CHECK(b->jitter().stats().late == 0);
  // 236 packets of 30 ms are 354 frames of 20 ms.
  const auto audio = std::count(stt.origins.begin(), stt.origins.end(), frame_origin::audio);
  CHECK(audio >= 353);
  CHECK(audio <= 355);
  // It is speech: plausible level overall, some loud and some quiet stretches, and the VAD
  // finds utterances in it.
  const double level = 20 * std::log10(test::rms(stt.samples) / 32768.0);
  CHECK(level > -40);
  CHECK(level < -10);
  CHECK_FALSE(ev.of<speech_started>().empty());
  CHECK(ev.of<speech_started>().size() >= ev.of<speech_ended>().size());
  CHECK(b->stats().cumulative_lost() == 0);
}

TEST_CASE("media chain: bad datagrams, other payload types and a new source") {
  inbound_options o;
  o.codec = codec_params::pcmu();
  auto b = must(build_inbound_chain(o));
  const std::vector<std::uint8_t> runt{0x80, 0, 0, 1, 0};
  CHECK(b->push(runt, media_time{0}) == rtp_error::too_short);
  CHECK(b->rejected() == 1);

  auto packet = [](std::uint8_t pt, std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc) {
    auto d = rtp_header(pt, seq, ts, ssrc);
    d.insert(d.end(), 160, 0xFF);
    return d;
  };
  CHECK(b->push(packet(13, 1, 0, 7), media_time{0}) == rtp_error::ok); // comfort noise
  CHECK(b->ignored() == 1);
  media_time now{0};
  for (std::uint16_t i = 0; i < 20; ++i, now += 20ms) {
    CHECK(b->push(packet(0, i, i * 160u, 7), now) == rtp_error::ok);
    b->tick(now);
  }
  CHECK(b->remote_ssrc() == 7);
  // The remote re-INVITEd: a new SSRC with its own numbering.
  for (std::uint16_t i = 0; i < 20; ++i, now += 20ms) {
    CHECK(b->push(packet(0, static_cast<std::uint16_t>(40000 + i), 999999u + i * 160u, 8), now) ==
          rtp_error::ok);
    b->tick(now);
  }
  CHECK(b->remote_ssrc() == 8);
  CHECK(b->source_changes() == 1);
  CHECK(b->jitter().stats().played >= 35);
  CHECK(b->stats().extended_highest_sequence() == 40019);
  // The call's totals add both sources up (each source's first packet is on probation).
  CHECK(b->stats().received() == 19);
  CHECK(b->packets_received() == 38);
  CHECK(b->packets_lost() == 0);
  // Source 8 restarts its numbering (a confirmed jump, RFC 3550 A.1) after losing 2 packets.
  for (std::uint16_t i = 22; i < 25; ++i, now += 20ms)
    CHECK(b->push(packet(0, static_cast<std::uint16_t>(40000 + i), 999999u + i * 160u, 8), now) ==
          rtp_error::ok);
  for (std::uint16_t i = 0; i < 10; ++i, now += 20ms)
    CHECK(b->push(packet(0, static_cast<std::uint16_t>(10000 + i), 0, 8), now) == rtp_error::ok);
  CHECK(b->stats().received() < 10); // RTCP's range restarted...
  CHECK(b->packets_received() == 38 + 3 + 9); // ... the call's count did not (the jump's
  CHECK(b->packets_lost() == 2);              // first packet is not counted)
}

TEST_CASE("media chain: RFC 4733 events on an SSRC of their own leave the audio alone") {
  events ev;
  inbound_options o;
  o.codec = codec_params::pcmu(101);
  o.on_event = ev.callback();
  auto b = must(build_inbound_chain(o));
  media_time now{0};
  std::uint16_t audio_seq = 0;
  auto audio = [&] {
    auto d = rtp_header(0, audio_seq, audio_seq * 160u, 0xa);
    d.insert(d.end(), 160, 0xFF);
    CHECK(b->push(d, now) == rtp_error::ok);
    ++audio_seq;
  };
  for (int i = 0; i < 10; ++i, now += 20ms) {
    audio();
    b->tick(now);
  }
  // Digit 5 from SSRC 0xe, 100 ms, end packet sent three times, between audio packets.
  for (std::uint16_t k = 0; k < 8; ++k, now += 20ms) {
    const bool end = k >= 5;
    const auto dur = static_cast<std::uint16_t>(std::min<int>(k + 1, 5) * 160);
    auto d = rtp_header(101, static_cast<std::uint16_t>(500 + k), 77777, 0xe, k == 0);
    d.insert(d.end(), {5, static_cast<std::uint8_t>((end ? 0x80 : 0) | 10),
                       static_cast<std::uint8_t>(dur >> 8), static_cast<std::uint8_t>(dur)});
    CHECK(b->push(d, now) == rtp_error::ok);
    audio();
    b->tick(now);
  }
  const auto digits = ev.of<dtmf_received>();
  REQUIRE(digits.size() == 1);
  CHECK(digits[0].digit == '5');
  CHECK(b->remote_ssrc() == 0xa);
  CHECK(b->source_changes() == 0);        // the audio was never reset
  CHECK(b->packets_received() == 18 - 1); // audio only (its first packet on probation)
  CHECK(b->packets_lost() == 0);
}

TEST_CASE("media chain: both sides recorded in one stereo file") {
  memory_byte_sink sink;
  call_recorder rec{sink};
  outbound_options ao; // the agent speaks...
  ao.tap = &rec.agent();
  auto agent = must(build_outbound_chain(ao));
  outbound_options co; // ... to a caller on the far end, who answers
  auto caller = must(build_outbound_chain(co));
  inbound_options io;
  io.downstream = &rec.caller();
  auto from_caller = must(build_inbound_chain(io));
  memory_pipe wire;
  const auto agent_tone = test::tone(2000, 8000, 8000, 16000);  // 0.5 s
  const auto caller_tone = test::tone(1000, 8000, 8000, 16000); // 0.5 s
  for (media_time now{0}; now < media_time{2000ms}; now += 20ms) {
    if (now == media_time{100ms}) CHECK(agent->play(agent_tone) == agent_tone.size());
    if (now == media_time{1000ms}) CHECK(caller->play(caller_tone) == caller_tone.size());
    agent->tick(now);
    wire.send(caller->tick(now), now);
    wire.deliver(*from_caller, now);
    from_caller->tick(now);
  }
  REQUIRE(rec.close());
  const auto& wav = sink.data();
  std::vector<std::int16_t> left, right;
  for (std::size_t p = wav_header_bytes; p + 3 < wav.size(); p += 4) {
    left.push_back(static_cast<std::int16_t>(wav[p] | wav[p + 1] << 8));
    right.push_back(static_cast<std::int16_t>(wav[p + 2] | wav[p + 3] << 8));
  }
  REQUIRE(left.size() == 32000);
  CHECK(test::tone_fraction(window(right, 100ms, 600ms), 2000, 16000) > 0.99);
  CHECK(test::rms(window(right, 700ms, 2000ms)) == 0);
  // The caller's tone went through the network and the jitter buffer: 1.0 s + delay.
  CHECK(test::tone_fraction(window(left, 1150ms, 1500ms), 1000, 16000) > 0.95);
  CHECK(test::rms(window(left, 0ms, 1000ms)) < 50);
}
