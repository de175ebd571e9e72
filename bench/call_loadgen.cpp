// gobi-loadgen: a SIP UAC load generator for call benchmarks on loopback. Places N concurrent
// calls at a given rate to a number on a SIP UDP target (gobid, or SIPp's uas for a check),
// sends each call's RTP paced by the RTP engine's shared media clocks, measures the spacing of
// the callee's packets as they arrive, and ends each call with a BYE after its talk time.
//
//   gobi-loadgen [--target 127.0.0.1:5060] [--number +15550100000] [--calls 100] [--rate 50]
//                [--duration 30] [--codec pcmu|opus] [--rtp-ports 40000-49999] [--threads 1]
//                [--sip-port 0] [--warmup 1] [--rtp-receive poll|event]
//
// Reports calls attempted / answered / failed (by SIP status; "timeout" when no final answer
// came), INVITE -> 200 set-up time, the inbound spacing of the callee's RTP (p50/p99/max and
// the share within 20 +/- 2 ms; each call's first --warmup seconds after its 200 are left
// out, and nothing after its BYE), packets lost by sequence gaps, as plain lines and then one
// JSON line (the last line of stdout). Prints "loadgen: steady ..." once every call has its
// final answer, so a script can measure the callee while all calls are up.
//
// Threads: SIP runs on the main thread (one Asio UDP socket, one plain state machine per call,
// a 5 ms timer for retransmissions, hang-ups and the ramp); media runs on the RTP engine's
// transport threads (--threads). With --rtp-receive poll (the default) each call's RTP socket
// is read on its clock tick and arrival times are the kernel's receive stamps (SO_TIMESTAMPNS),
// so a busy loadgen does not add its own scheduling jitter to what it measures; with event,
// every packet wakes a transport thread and arrival times are its user-space receive times
// (as measured before 2026-11-22, session 3).
//
// Per call (SIP over UDP, RFC 3261 timers simplified: T1 = 500 ms, T2 = 4 s):
//
//   [pending] --launch: INVITE--> [inviting] --1xx--> [proceeding]
//   [inviting] --no answer, retransmit at T1, 2T1, ...; 32 s--> [done: timeout]
//   [inviting|proceeding] --3xx-6xx: ACK--> [done: failed(status)]
//   [inviting|proceeding] --2xx: ACK, RTP to the answer's address--> [talking]
//   [talking] --duration elapsed: BYE--> [ending] --final response / 32 s--> [done]
//   [talking|ending] --BYE from the callee: 200--> [done: ended by callee]

#include "domain/media/g711.hpp"
#include "domain/media/opus.hpp"
#include "domain/media/rtp.hpp"
#include "domain/sdp/negotiate.hpp"
#include "domain/sip/builder.hpp"
#include "domain/sip/dialog.hpp"
#include "domain/sip/parser.hpp"
#include "transport/rtp/engine.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
using namespace gobi;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using time_point = steady::time_point;

namespace {

struct options {
  std::string target_host = "127.0.0.1";
  std::uint16_t target_port = 5060;
  std::string number = "+15550100000";
  std::size_t calls = 100;
  double rate = 50;       ///< new calls per second while ramping
  double duration_s = 30; ///< each call's talk time, from its 200 to its BYE
  std::string codec = "pcmu";
  std::string rtp_ports = "40000-49999";
  unsigned threads = 1;       ///< RTP transport threads
  std::uint16_t sip_port = 0; ///< local SIP port; 0 = any
  double warmup_s = 1;        ///< each call's first seconds left out of the spacing figures
  bool poll_rtp = true;       ///< --rtp-receive poll|event (engine_options::poll_rtp)
};

constexpr auto t1 = 500ms;                // RFC 3261 T1
constexpr auto t2 = 4s;                   // RFC 3261 T2
constexpr auto transaction_timeout = 32s; // 64 * T1: timers B and F
constexpr auto ringing_timeout = 120s;    // after a provisional answer, wait this long for a final
constexpr auto timer_period = 5ms;

double ms(steady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// --- what each call sends: 2 s of speech-like audio, looped ---------------------------------

/// The payloads of 100 consecutive 20 ms packets (2 s of audio) and the RTP timestamp step.
struct payload_loop {
  std::vector<std::vector<std::uint8_t>> frames;
  std::uint32_t timestamp_step = 160;
};

/// Speech-like audio: 1.2 s bursts of a warbling tone over faint noise, 0.8 s of faint noise.
std::vector<std::int16_t> speechish(std::uint32_t rate_hz, std::size_t samples) {
  std::vector<std::int16_t> v(samples);
  std::uint32_t s = 12345;
  for (std::size_t i = 0; i < samples; ++i) {
    s = s * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(s >> 16) / 65535.0 - 0.5) * 60;
    const double t = static_cast<double>(i) / rate_hz;
    const bool talking = std::fmod(t, 2.0) < 1.2;
    const double f = 180 + 60 * std::sin(2 * std::numbers::pi * 3 * t);
    const double voice = talking ? 6000 * std::sin(2 * std::numbers::pi * f * t) : 0;
    v[i] = static_cast<std::int16_t>(voice + noise);
  }
  return v;
}

std::optional<payload_loop> make_payloads(std::string_view codec) {
  payload_loop loop;
  if (codec == "pcmu") {
    const auto pcm = speechish(8000, 16000);
    for (std::size_t f = 0; f < 100; ++f) {
      std::vector<std::uint8_t> out(160);
      media::g711::encode(media::g711::law::mu, std::span(pcm).subspan(f * 160, 160), out);
      loop.frames.push_back(std::move(out));
    }
    loop.timestamp_step = 160;
    return loop;
  }
  media::opus_encoder enc{media::opus_settings{}};
  if (!enc.ok()) return std::nullopt;
  const auto pcm = speechish(16000, 32000);
  for (std::size_t f = 0; f < 100; ++f) {
    std::vector<std::uint8_t> out(1500);
    const int n = enc.encode(std::span(pcm).subspan(f * 320, 320), out);
    if (n <= 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(n));
    loop.frames.push_back(std::move(out));
  }
  loop.timestamp_step = 960; // opus/48000: 20 ms
  return loop;
}

// --- inbound spacing, over all calls ---------------------------------------------------------

/// Inter-arrival times in 10 us bins up to 200 ms (one overflow bin), filled from the
/// transport threads with relaxed atomics; read once they have stopped.
class spacing_histogram {
public:
  static constexpr std::int64_t bin_us = 10;
  static constexpr std::size_t bins = 20000;

  void add(std::int64_t us) {
    const auto i = static_cast<std::size_t>(std::clamp<std::int64_t>(us / bin_us, 0, bins));
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    auto m = max_us_.load(std::memory_order_relaxed);
    while (us > m && !max_us_.compare_exchange_weak(m, us, std::memory_order_relaxed)) {
    }
  }
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (const auto& c : counts_)
      n += c.load(std::memory_order_relaxed);
    return n;
  }
  /// The q-quantile in ms (bin centre; the maximum when it falls in the overflow bin).
  double quantile_ms(double q) const {
    const auto n = total();
    if (n == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= std::max<std::uint64_t>(rank, 1))
        return static_cast<double>(static_cast<std::int64_t>(i) * bin_us + bin_us / 2) / 1000.0;
    }
    return max_ms();
  }
  /// Share of intervals in [lo, hi] ms.
  double share_within(double lo_ms, double hi_ms) const {
    const auto n = total();
    if (n == 0) return 0;
    const auto lo = static_cast<std::size_t>(lo_ms * 1000 / bin_us);
    const auto hi = std::min(bins - 1, static_cast<std::size_t>(hi_ms * 1000 / bin_us));
    std::uint64_t in = 0;
    for (std::size_t i = lo; i <= hi; ++i)
      in += counts_[i].load(std::memory_order_relaxed);
    return static_cast<double>(in) / static_cast<double>(n);
  }
  double max_ms() const { return static_cast<double>(max_us_.load()) / 1000.0; }

private:
  std::array<std::atomic<std::uint64_t>, bins + 1> counts_{};
  std::atomic<std::int64_t> max_us_{0};
};

// --- one call's media: outbound stream and inbound sink --------------------------------------

/// Sends one packet of the payload loop per clock tick once configured, and records the
/// callee's packets: inter-arrival times into the shared histogram, sequence gaps as losses.
/// Owned by the call (and by its port until the port has closed); runs on the port's transport
/// thread, except `stop_measuring`, which the SIP thread calls. Its counters are read after the
/// engine has stopped.
class call_media final : public rtp::clocked_stream, public rtp::media_sink {
public:
  call_media(const payload_loop& loop, spacing_histogram& hist, std::uint32_t ssrc,
             rtp::media_port& port)
      : loop_(loop)
      , hist_(hist)
      , port_(port)
      , ssrc_(ssrc) {}

  /// Port's thread: the answer's payload type; media counts from `measure_from` on.
  void configure(int payload_type, time_point measure_from) {
    payload_type_ = static_cast<std::uint8_t>(payload_type);
    measure_from_ = measure_from;
    configured_ = true;
  }
  /// Any thread: stop sending and measuring (before the BYE goes out).
  void stop() { stopped_.store(true, std::memory_order_relaxed); }

  void on_tick(const rtp::media_tick& t) override {
    if (!configured_ || stopped_.load(std::memory_order_relaxed)) return;
    timestamp_ += loop_.timestamp_step * (1 + t.skipped); // skipped ticks: time goes on
    frame_ = (frame_ + 1 + t.skipped) % loop_.frames.size();
    const auto& payload = loop_.frames[frame_];
    std::array<std::byte, 12 + 1500> buf;
    buf[0] = std::byte{0x80};
    buf[1] = static_cast<std::byte>(payload_type_ | (first_ ? 0x80 : 0)); // marker on the first
    first_ = false;
    buf[2] = static_cast<std::byte>(seq_ >> 8);
    buf[3] = static_cast<std::byte>(seq_);
    for (int i = 0; i < 4; ++i) {
      buf[static_cast<std::size_t>(4 + i)] = static_cast<std::byte>(timestamp_ >> (24 - 8 * i));
      buf[static_cast<std::size_t>(8 + i)] = static_cast<std::byte>(ssrc_ >> (24 - 8 * i));
    }
    std::memcpy(buf.data() + 12, payload.data(), payload.size());
    ++seq_;
    if (port_.send_rtp(std::span(buf).first(12 + payload.size())) == rtp::send_result::sent)
      ++sent_;
    else
      ++send_dropped_;
  }

  rtp::verdict on_rtp(std::span<std::byte> p, rtp::time_point arrival) override {
    if (p.size() < 12) return rtp::verdict::rejected;
    const auto seq = static_cast<std::uint16_t>(std::to_integer<unsigned>(p[2]) << 8 |
                                                std::to_integer<unsigned>(p[3]));
    std::uint32_t ssrc = 0;
    for (int i = 0; i < 4; ++i)
      ssrc = ssrc << 8 | std::to_integer<std::uint32_t>(p[static_cast<std::size_t>(8 + i)]);
    if (!have_ssrc_ || ssrc != in_ssrc_) { // a new source: close the previous one's range
      close_range();
      have_ssrc_ = true;
      in_ssrc_ = ssrc;
      unwrap_.reset();
      first_seq_ = highest_seq_ = unwrap_.unwrap(seq);
    } else {
      highest_seq_ = std::max(highest_seq_, unwrap_.unwrap(seq));
    }
    ++received_;
    if (configured_ && !stopped_.load(std::memory_order_relaxed) && arrival >= measure_from_ &&
        last_arrival_ != time_point{}) {
      hist_.add(
          std::chrono::duration_cast<std::chrono::microseconds>(arrival - last_arrival_).count());
      ++measured_;
    }
    last_arrival_ = arrival;
    return rtp::verdict::accepted;
  }
  rtp::verdict on_rtcp(std::span<std::byte>, rtp::time_point) override {
    return rtp::verdict::accepted;
  }
  void on_media_timeout(rtp::duration) override {}

  /// After the engine has stopped.
  std::uint64_t sent() const { return sent_; }
  std::uint64_t send_dropped() const { return send_dropped_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t measured() const { return measured_; }
  std::uint64_t lost() {
    close_range();
    return expected_ > received_ ? expected_ - received_ : 0;
  }

private:
  void close_range() {
    if (have_ssrc_) expected_ += static_cast<std::uint64_t>(highest_seq_ - first_seq_ + 1);
    have_ssrc_ = false;
  }

  const payload_loop& loop_;
  spacing_histogram& hist_;
  rtp::media_port& port_;
  std::uint32_t ssrc_;
  std::atomic<bool> stopped_{false};
  // Port's thread only.
  bool configured_ = false;
  bool first_ = true;
  std::uint8_t payload_type_ = 0;
  time_point measure_from_{};
  std::uint16_t seq_ = 0;
  std::uint32_t timestamp_ = 0;
  std::size_t frame_ = 0;
  std::uint64_t sent_ = 0, send_dropped_ = 0;
  bool have_ssrc_ = false;
  std::uint32_t in_ssrc_ = 0;
  media::seq_unwrapper unwrap_;
  std::int64_t first_seq_ = 0, highest_seq_ = 0;
  std::uint64_t received_ = 0, measured_ = 0, expected_ = 0;
  time_point last_arrival_{};
};

// --- one call's signalling -------------------------------------------------------------------

enum class phase { pending, inviting, proceeding, talking, ending, done };
enum class ending { none, failed, our_bye, callee_bye };

struct call {
  std::size_t index = 0;
  phase state = phase::pending;
  ending how = ending::none;
  int final_status = 0; ///< INVITE's final status; 0 = none came (timeout)
  int bye_status = 0;   ///< our BYE's final status; 0 = none came
  std::string call_id;
  rtp::udp_port port;
  std::shared_ptr<call_media> media;
  sdp::session_description offer;
  sip::message invite;
  std::string invite_wire;
  std::string ack_wire; ///< ACK for the 2xx or for the failure, sent again on retransmissions
  std::optional<sip::dialog> dlg;
  std::string bye_wire;
  time_point invite_at{}, answered_at{}, retransmit_at{}, deadline{}, hangup_at{};
  steady::duration retransmit_interval = t1;
};

// --- the load generator: SIP socket, calls, timers, report ----------------------------------

/// Owns the SIP socket, the RTP engine and every call. Runs on the main thread (the io_context
/// passed in); the media of each call runs on the engine's transport threads.
class loadgen {
public:
  loadgen(asio::io_context& io, options o, payload_loop loop)
      : io_(io)
      , o_(std::move(o))
      , loop_(std::move(loop))
      , sock_(io)
      , timer_(io)
      , signals_(io, SIGINT, SIGTERM) {}

  bool start() {
    auto range = rtp::port_range::parse(o_.rtp_ports);
    if (!range) {
      std::fprintf(stderr, "--rtp-ports: %s\n", range.err().message.c_str());
      return false;
    }
    rtp::engine_options eo;
    eo.host = "127.0.0.1";
    eo.ports = *range;
    eo.threads = o_.threads;
    eo.poll_rtp = o_.poll_rtp;
    engine_ = std::make_unique<rtp::engine>(eo);
    if (auto s = engine_->start(); !s) {
      std::fprintf(stderr, "rtp engine: %s\n", s.err().message.c_str());
      return false;
    }
    boost::system::error_code ec;
    target_ = {asio::ip::make_address(o_.target_host, ec), o_.target_port};
    if (ec) {
      std::fprintf(stderr, "--target: %s is not an IP address\n", o_.target_host.c_str());
      return false;
    }
    sock_.open(asio::ip::udp::v4(), ec);
    if (!ec) sock_.bind({asio::ip::make_address("127.0.0.1"), o_.sip_port}, ec);
    if (ec) {
      std::fprintf(stderr, "SIP socket: %s\n", ec.message().c_str());
      return false;
    }
    sock_.set_option(asio::socket_base::receive_buffer_size(8 << 20), ec);
    sock_.set_option(asio::socket_base::send_buffer_size(8 << 20), ec);
    local_port_ = sock_.local_endpoint().port();
    calls_.resize(o_.calls);
    for (std::size_t i = 0; i < o_.calls; ++i)
      calls_[i].index = i;
    started_ = steady::now();
    cpu0_ = process_cpu_s();
    receive();
    arm_timer();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) interrupt();
    });
    std::printf("gobi-loadgen: %zu calls to %s at %s:%u from 127.0.0.1:%u, %s, %.0f calls/s, "
                "%.0f s each, %u RTP thread(s)\n",
                o_.calls, o_.number.c_str(), o_.target_host.c_str(), o_.target_port, local_port_,
                o_.codec.c_str(), o_.rate, o_.duration_s, engine_->threads());
    std::fflush(stdout);
    return true;
  }

  /// After io.run() returned: stops the engine and prints the report.
  void report() {
    const double wall = std::chrono::duration<double>(steady::now() - started_).count();
    const double cpu = process_cpu_s() - cpu0_;
    for (auto& c : calls_)
      c.port.close();
    engine_->stop();

    std::size_t attempted = 0, answered = 0, failed = 0, our_bye = 0, callee_bye = 0, bye_ok = 0,
                bye_failed = 0;
    std::map<std::string, std::size_t> failures, bye_failures;
    std::vector<double> setup;
    std::uint64_t sent = 0, dropped = 0, received = 0, lost = 0, measured = 0;
    for (auto& c : calls_) {
      if (c.state == phase::pending) continue;
      ++attempted;
      if (c.final_status >= 200 && c.final_status < 300) {
        ++answered;
        setup.push_back(ms(c.answered_at - c.invite_at));
      }
      if (c.how == ending::failed) {
        ++failed;
        ++failures[c.final_status >= 200 && c.final_status < 300 ? "sdp"
                   : c.final_status                              ? std::to_string(c.final_status)
                                                                 : "timeout"];
      }
      if (c.how == ending::callee_bye) ++callee_bye;
      if (c.how == ending::our_bye) {
        ++our_bye;
        if (c.bye_status >= 200 && c.bye_status < 300) {
          ++bye_ok;
        } else {
          ++bye_failed;
          ++bye_failures[c.bye_status ? std::to_string(c.bye_status) : "timeout"];
        }
      }
      if (c.media) {
        sent += c.media->sent();
        dropped += c.media->send_dropped();
        received += c.media->received();
        lost += c.media->lost();
        measured += c.media->measured();
      }
    }
    std::sort(setup.begin(), setup.end());
    auto pct = [&](double q) {
      return setup.empty()
                 ? 0.0
                 : setup[static_cast<std::size_t>(q * static_cast<double>(setup.size() - 1))];
    };
    auto by_status = [](const std::map<std::string, std::size_t>& m) {
      std::string s, j;
      for (const auto& [k, n] : m) {
        s += (s.empty() ? "" : ", ") + k + " x " + std::to_string(n);
        j += (j.empty() ? "" : ",") + ("\"" + k + "\":" + std::to_string(n));
      }
      return std::pair{s.empty() ? std::string("none") : s, "{" + j + "}"};
    };
    const auto [fail_text, fail_json] = by_status(failures);
    const auto [bye_text, bye_json] = by_status(bye_failures);
    const double loss_pct =
        received + lost ? 100.0 * static_cast<double>(lost) / static_cast<double>(received + lost)
                        : 0.0;

    std::printf("  calls     attempted %zu  answered %zu  failed %zu (by status: %s)\n", attempted,
                answered, failed, fail_text.c_str());
    std::printf("  ended     by our BYE %zu (200 %zu, failed %zu: %s), by the callee's BYE %zu\n",
                our_bye, bye_ok, bye_failed, bye_text.c_str(), callee_bye);
    std::printf("  set-up    INVITE -> 200  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(0.5),
                pct(0.99), setup.empty() ? 0.0 : setup.back());
    std::printf("  spacing   inbound p50 %.2f ms  p99 %.2f ms  max %.2f ms; within 20 +/- 2 ms "
                "%.3f%% (%llu intervals, first %.0f s of each call left out)\n",
                hist_.quantile_ms(0.5), hist_.quantile_ms(0.99), hist_.max_ms(),
                100 * hist_.share_within(18, 22), static_cast<unsigned long long>(measured),
                o_.warmup_s);
    std::printf("  packets   received %llu, lost %llu (%.4f%%, sequence gaps); sent %llu "
                "(dropped before sending %llu)\n",
                static_cast<unsigned long long>(received), static_cast<unsigned long long>(lost),
                loss_pct, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(dropped));
    std::printf("  SIP       retransmissions: INVITE %llu, BYE %llu; unmatched messages %llu, "
                "send errors %llu\n",
                static_cast<unsigned long long>(invite_retransmits_),
                static_cast<unsigned long long>(bye_retransmits_),
                static_cast<unsigned long long>(unmatched_),
                static_cast<unsigned long long>(send_errors_));
    std::printf("  loadgen   %.1f s, CPU %.1f%% of one core\n", wall, 100 * cpu / wall);
    std::printf(
        "{\"calls\":%zu,\"attempted\":%zu,\"answered\":%zu,\"failed\":%zu,\"failures\":%s,"
        "\"ended_by_us\":%zu,\"bye_ok\":%zu,\"bye_failed\":%zu,\"bye_failures\":%s,"
        "\"ended_by_callee\":%zu,\"setup_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
        "\"spacing_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"within_2ms\":%.5f,"
        "\"intervals\":%llu},\"packets\":{\"received\":%llu,\"lost\":%llu,\"loss_pct\":%.5f,"
        "\"sent\":%llu,\"send_dropped\":%llu},\"retransmissions\":{\"invite\":%llu,\"bye\":%llu},"
        "\"codec\":\"%s\",\"duration_s\":%.1f,\"rate\":%.1f,\"wall_s\":%.2f,"
        "\"loadgen_cpu_pct\":%.1f}\n",
        o_.calls, attempted, answered, failed, fail_json.c_str(), our_bye, bye_ok, bye_failed,
        bye_json.c_str(), callee_bye, pct(0.5), pct(0.99), setup.empty() ? 0.0 : setup.back(),
        hist_.quantile_ms(0.5), hist_.quantile_ms(0.99), hist_.max_ms(), hist_.share_within(18, 22),
        static_cast<unsigned long long>(measured), static_cast<unsigned long long>(received),
        static_cast<unsigned long long>(lost), loss_pct, static_cast<unsigned long long>(sent),
        static_cast<unsigned long long>(dropped),
        static_cast<unsigned long long>(invite_retransmits_),
        static_cast<unsigned long long>(bye_retransmits_), o_.codec.c_str(), o_.duration_s, o_.rate,
        wall, 100 * cpu / wall);
    std::fflush(stdout);
  }

private:
  // --- sending ---

  void send(const std::string& wire, const asio::ip::udp::endpoint& to) {
    boost::system::error_code ec;
    sock_.send_to(asio::buffer(wire), to, 0, ec);
    if (ec) ++send_errors_;
  }
  void send(const std::string& wire) { send(wire, target_); }

  sip::via our_via() const {
    sip::via v;
    v.host = "127.0.0.1";
    v.port = local_port_;
    sip::set_param(v.params, "branch", sip::make_branch(sip::random_token()));
    sip::set_param(v.params, "rport", std::nullopt);
    return v;
  }
  sip::uri our_uri() const {
    sip::uri u;
    u.user = "loadgen";
    u.host = "127.0.0.1";
    u.port = local_port_;
    return u;
  }

  // --- call life ---

  void launch(call& c, time_point now) {
    auto port = engine_->open_port();
    if (!port) {
      std::fprintf(stderr, "call %zu: no RTP port: %s\n", c.index, port.err().message.c_str());
      c.state = phase::done;
      c.how = ending::failed;
      ++finished_;
      set_up_done();
      return;
    }
    c.port = std::move(port).value();
    c.media = std::make_shared<call_media>(loop_, hist_, static_cast<std::uint32_t>(c.index + 1),
                                           c.port.media());
    c.port.start(c.media, c.media);

    sdp::capabilities caps;
    caps.codecs = {o_.codec == "opus" ? sdp::opus() : sdp::pcmu()};
    caps.telephone_event = false;
    sdp::local_endpoint local;
    local.address = c.port.local_address();
    local.rtp_port = c.port.local_rtp_port();
    local.session_id = std::to_string(c.index + 1);
    local.username = "loadgen";
    c.offer = sdp::make_offer(caps, local, sdp::srtp_policy::off, {});

    sip::request_spec spec;
    spec.method = "INVITE";
    spec.request_uri.user = o_.number;
    spec.request_uri.host = o_.target_host;
    spec.request_uri.port = o_.target_port;
    spec.from.uri = our_uri();
    spec.from.set_tag(sip::random_token());
    spec.to.uri = spec.request_uri;
    c.call_id = sip::random_token(12) + "@127.0.0.1";
    spec.call_id = c.call_id;
    spec.cseq = 1;
    spec.via = our_via();
    spec.contact = sip::name_addr{{}, our_uri(), {}};
    spec.content_type = "application/sdp";
    spec.body = sdp::to_string(c.offer);
    spec.extra = {{"User-Agent", "gobi-loadgen"}, {"Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"}};
    c.invite = sip::make_request(spec);
    c.invite_wire = c.invite.to_string();
    by_call_id_[c.call_id] = c.index;

    c.state = phase::inviting;
    c.invite_at = now;
    c.retransmit_interval = t1;
    c.retransmit_at = now + t1;
    c.deadline = now + transaction_timeout;
    send(c.invite_wire);
  }

  void finish(call& c, ending how) {
    c.state = phase::done;
    if (c.how == ending::none) c.how = how;
    if (c.media) c.media->stop();
    c.port.close();
    ++finished_;
  }

  void set_up_done() {
    if (++set_up_ == o_.calls && !steady_printed_) {
      steady_printed_ = true;
      std::size_t answered = 0;
      for (const auto& c : calls_)
        answered += c.final_status >= 200 && c.final_status < 300;
      std::printf("loadgen: steady: %zu calls set up (%zu answered, %zu failed) at %.2f s\n",
                  o_.calls, answered, o_.calls - answered,
                  std::chrono::duration<double>(steady::now() - started_).count());
      std::fflush(stdout);
    }
  }

  void hang_up(call& c, time_point now) {
    c.media->stop();
    c.bye_wire = c.dlg->make_request("BYE", our_via()).to_string();
    c.state = phase::ending;
    c.retransmit_interval = t1;
    c.retransmit_at = now + t1;
    c.deadline = now + transaction_timeout;
    send(c.bye_wire);
  }

  void on_invite_response(call& c, const sip::message& m, time_point now) {
    const int st = m.status;
    if (c.state == phase::inviting || c.state == phase::proceeding) {
      if (st < 200) {
        if (c.state == phase::inviting) {
          c.state = phase::proceeding;
          c.deadline = now + ringing_timeout;
        }
        return;
      }
      c.final_status = st;
      if (st >= 300) {
        c.ack_wire = sip::make_ack_for_failure(c.invite, m).to_string();
        send(c.ack_wire);
        finish(c, ending::failed);
        set_up_done();
        return;
      }
      c.answered_at = now;
      auto d = sip::dialog::as_uac(c.invite, m);
      if (!d) { // a 2xx we cannot build a dialog from: nothing to ACK or BYE on
        finish(c, ending::failed);
        set_up_done();
        return;
      }
      c.dlg.emplace(std::move(d).value());
      c.dlg->on_response(m);
      c.ack_wire = c.dlg->make_ack(1, our_via()).to_string();
      send(c.ack_wire);
      set_up_done();
      auto answer = sdp::parse(m.body);
      auto media =
          answer ? sdp::process_answer(c.offer, *answer, sdp::srtp_policy::off, {}, sdp_caps())
                 : sdp::result<sdp::negotiated_media>(answer.err());
      if (!media || !c.port.set_remote(media->remote_address, media->remote_rtp_port,
                                       media->remote_rtcp_port)) {
        if (!sdp_error_reported_) {
          sdp_error_reported_ = true;
          std::fprintf(stderr, "call %zu: unusable SDP answer: %s\n", c.index,
                       media ? "bad address" : media.err().to_string().c_str());
        }
        c.how = ending::failed;
        hang_up(c, now);
        return;
      }
      const auto from = now + std::chrono::duration_cast<steady::duration>(
                                  std::chrono::duration<double>(o_.warmup_s));
      c.port.post([m = c.media, pt = media->payload_type, from] { m->configure(pt, from); });
      c.state = phase::talking;
      c.hangup_at = interrupted_ ? now
                                 : now + std::chrono::duration_cast<steady::duration>(
                                             std::chrono::duration<double>(o_.duration_s));
      return;
    }
    // A retransmitted final response: answer it again with the same ACK.
    if (st >= 200 && !c.ack_wire.empty()) send(c.ack_wire);
  }

  sdp::capabilities sdp_caps() const {
    sdp::capabilities caps;
    caps.codecs = {o_.codec == "opus" ? sdp::opus() : sdp::pcmu()};
    caps.telephone_event = false;
    return caps;
  }

  void on_bye_response(call& c, const sip::message& m) {
    if (c.state != phase::ending || m.status < 200) return;
    c.bye_status = m.status;
    finish(c, ending::our_bye);
  }

  void on_request(const sip::message& m, const asio::ip::udp::endpoint& from) {
    if (m.method == "ACK") return;
    const auto id = m.call_id();
    const auto it = id ? by_call_id_.find(*id) : by_call_id_.end();
    call* c = it == by_call_id_.end() ? nullptr : &calls_[it->second];
    if (m.method == "OPTIONS") return send(sip::make_response(m, 200).to_string(), from);
    if (!c || !c->dlg) {
      ++unmatched_;
      return send(sip::make_response(m, 481).to_string(), from);
    }
    if (m.method == "BYE") {
      send(sip::make_response(m, 200).to_string(), from);
      if (c->state == phase::talking || c->state == phase::ending) finish(*c, ending::callee_bye);
      return;
    }
    if (m.method == "INVITE") { // a re-INVITE (session refresh): keep the media as it is
      auto r = sip::make_response(m, 200);
      r.add_header("Contact", sip::name_addr{{}, our_uri(), {}}.to_string());
      r.add_header("Content-Type", "application/sdp");
      r.body = sdp::to_string(c->offer);
      return send(r.to_string(), from);
    }
    send(sip::make_response(m, 501).to_string(), from);
  }

  // --- socket and timer ---

  void receive() {
    sock_.async_receive_from(asio::buffer(rx_), rx_from_,
                             [this](const boost::system::error_code& ec, std::size_t n) {
                               if (ec == asio::error::operation_aborted) return;
                               if (!ec) on_datagram(std::string_view(rx_.data(), n));
                               receive();
                             });
  }

  void on_datagram(std::string_view bytes) {
    auto m = sip::parse_message(bytes, sip::framing::datagram);
    if (!m) {
      ++unmatched_;
      return;
    }
    if (m->is_request()) return on_request(*m, rx_from_);
    const auto id = m->call_id();
    const auto cs = m->cseq();
    const auto it = id ? by_call_id_.find(*id) : by_call_id_.end();
    if (!cs || it == by_call_id_.end()) {
      ++unmatched_;
      return;
    }
    auto& c = calls_[it->second];
    const auto now = steady::now();
    if (cs->method == "INVITE")
      on_invite_response(c, *m, now);
    else if (cs->method == "BYE")
      on_bye_response(c, *m);
  }

  void arm_timer() {
    timer_.expires_after(timer_period);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      if (on_timer())
        arm_timer();
      else
        io_.stop();
    });
  }

  /// Launches due calls, retransmits, hangs up, times out. False when the run is over.
  bool on_timer() {
    const auto now = steady::now();
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    if (!interrupted_) {
      const auto due =
          std::min<std::size_t>(o_.calls, static_cast<std::size_t>(o_.rate * elapsed) + 1);
      while (launched_ < due)
        launch(calls_[launched_++], now);
    }
    for (std::size_t i = 0; i < launched_; ++i) {
      auto& c = calls_[i];
      switch (c.state) {
      case phase::inviting:
        if (now >= c.deadline) {
          finish(c, ending::failed);
          set_up_done();
        } else if (now >= c.retransmit_at) {
          send(c.invite_wire);
          ++invite_retransmits_;
          c.retransmit_interval *= 2;
          c.retransmit_at = now + c.retransmit_interval;
        }
        break;
      case phase::proceeding:
        if (now >= c.deadline) {
          finish(c, ending::failed);
          set_up_done();
        }
        break;
      case phase::talking:
        if (now >= c.hangup_at) hang_up(c, now);
        break;
      case phase::ending:
        if (now >= c.deadline) {
          finish(c, ending::our_bye);
        } else if (now >= c.retransmit_at) {
          send(c.bye_wire);
          ++bye_retransmits_;
          c.retransmit_interval = std::min<steady::duration>(c.retransmit_interval * 2, t2);
          c.retransmit_at = now + c.retransmit_interval;
        }
        break;
      case phase::pending:
      case phase::done:
        break;
      }
    }
    if (now >= next_progress_) {
      next_progress_ = now + 5s;
      std::size_t up = 0;
      for (std::size_t i = 0; i < launched_; ++i)
        up += calls_[i].state == phase::talking;
      std::printf("loadgen: t=%.0f s  launched %zu  talking %zu  finished %zu\n", elapsed,
                  launched_, up, finished_);
      std::fflush(stdout);
    }
    return !(finished_ == launched_ && (launched_ == o_.calls || interrupted_));
  }

  /// SIGINT/SIGTERM: launch no more, hang up what is up; a second signal quits at once.
  void interrupt() {
    if (interrupted_) {
      io_.stop();
      return;
    }
    interrupted_ = true;
    const auto now = steady::now();
    for (std::size_t i = 0; i < launched_; ++i)
      if (calls_[i].state == phase::talking) calls_[i].hangup_at = now;
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) interrupt();
    });
  }

  asio::io_context& io_;
  options o_;
  payload_loop loop_;
  asio::ip::udp::socket sock_;
  asio::steady_timer timer_;
  asio::signal_set signals_;
  asio::ip::udp::endpoint target_;
  std::uint16_t local_port_ = 0;
  std::unique_ptr<rtp::engine> engine_;
  spacing_histogram hist_;
  std::vector<call> calls_;
  std::unordered_map<std::string, std::size_t> by_call_id_;
  std::array<char, 65536> rx_{};
  asio::ip::udp::endpoint rx_from_;
  time_point started_{}, next_progress_{};
  double cpu0_ = 0;
  std::size_t launched_ = 0, finished_ = 0, set_up_ = 0;
  bool steady_printed_ = false, interrupted_ = false, sdp_error_reported_ = false;
  std::uint64_t invite_retransmits_ = 0, bye_retransmits_ = 0, unmatched_ = 0, send_errors_ = 0;
};

// --- main ----------------------------------------------------------------------------------

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    char* end = nullptr;
    const double n = std::strtod(v.c_str(), &end);
    const bool number = end && *end == '\0' && !v.empty();
    if (a == "--target") {
      const auto colon = v.rfind(':');
      if (colon == std::string::npos) return false;
      o.target_host = v.substr(0, colon);
      const long p = std::atol(v.c_str() + colon + 1);
      if (p <= 0 || p > 65535) return false;
      o.target_port = static_cast<std::uint16_t>(p);
    } else if (a == "--number") {
      o.number = v;
    } else if (a == "--codec") {
      if (v != "pcmu" && v != "opus") return false;
      o.codec = v;
    } else if (a == "--rtp-ports") {
      o.rtp_ports = v;
    } else if (a == "--rtp-receive") {
      if (v != "poll" && v != "event") return false;
      o.poll_rtp = v == "poll";
    } else if (!number || n < 0) {
      return false;
    } else if (a == "--calls" && n >= 1) {
      o.calls = static_cast<std::size_t>(n);
    } else if (a == "--rate" && n > 0) {
      o.rate = n;
    } else if (a == "--duration") {
      o.duration_s = n;
    } else if (a == "--threads" && n >= 1) {
      o.threads = static_cast<unsigned>(n);
    } else if (a == "--sip-port" && n <= 65535) {
      o.sip_port = static_cast<std::uint16_t>(n);
    } else if (a == "--warmup") {
      o.warmup_s = n;
    } else {
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: gobi-loadgen [--target HOST:PORT] [--number +1555...] [--calls N] "
                 "[--rate CALLS_PER_S] [--duration S] [--codec pcmu|opus] [--rtp-ports A-B] "
                 "[--threads T] [--sip-port P] [--warmup S] [--rtp-receive poll|event]\n");
    return 2;
  }
  auto loop = make_payloads(o.codec);
  if (!loop) {
    std::fprintf(stderr, "cannot encode the %s test signal\n", o.codec.c_str());
    return 1;
  }
  asio::io_context io(1);
  loadgen g(io, o, std::move(*loop));
  if (!g.start()) return 1;
  io.run();
  g.report();
  return 0;
}
