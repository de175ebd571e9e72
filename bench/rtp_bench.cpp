// bench_rtp: N concurrent G.711 streams paced by the shared media clocks, sent through real
// UDP sockets on loopback to a receiver that timestamps every arrival (kernel timestamps).
// Prints packets/s, CPU (transport threads and the receiver apart), the spacing of the
// outbound packets as received (p50/p99/max), the clocks' lateness, and memory per stream.
//
//   bench_rtp [--streams 1000] [--seconds 10] [--threads 1] [--phases 4] [--srtp] [--echo]
//             [--ports 30000-39999] [--host 127.0.0.1] [--rt PRIORITY]
//
// --srtp protects every packet (AES_CM_128_HMAC_SHA1_80) before sending. --echo makes the
// receiver send every packet back to the port it came from, so the inbound path (receive,
// symmetric RTP, the sink; with --srtp also unprotect) runs at the same rate. --rt runs the
// transport threads with SCHED_FIFO at that priority (engine_options::realtime_priority).

#include "transport/rtp/engine.hpp"
#include "transport/rtp/srtp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace gobi;
using namespace gobi::rtp;
using namespace std::chrono_literals;

namespace {

struct options {
  std::size_t streams = 1000;
  int seconds = 10;
  unsigned threads = 1;
  bool srtp = false;
  bool echo = false;
  std::string ports = "30000-39999";
  std::string host = "127.0.0.1";
  int rt = 0;
  unsigned phases = 4;
};

constexpr std::size_t payload_bytes = 160; // 20 ms of G.711 at 8 kHz
constexpr std::size_t packet_bytes = 12 + payload_bytes;

// --- process and thread accounting (Linux /proc) -------------------------------------------

double rss_mb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1048576.0;
}

/// CPU seconds (user + system) of one thread of this process.
double thread_cpu_s(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(f, line);
  const auto close = line.rfind(')'); // the name may contain spaces
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::string field;
  for (char c : line.substr(close + 2)) {
    if (c == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  if (fields.size() < 13) return 0;
  // After "(comm) ": state is field 3, utime field 14, stime field 15 (1-based, man 5 proc).
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string thread_name(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(f, name);
  return name;
}

/// CPU seconds of all threads whose name starts with `prefix`.
double threads_cpu_s(std::string_view prefix) {
  double total = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const long tid = std::atol(e->d_name);
      if (thread_name(tid).rfind(prefix, 0) == 0) total += thread_cpu_s(tid);
    }
    ::closedir(d);
  }
  return total;
}

double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// --- one call's media: outbound stream and inbound sink ------------------------------------

/// Sends one 172-byte G.711 packet per tick from a buffer allocated once (with room for the
/// SRTP trailer), and counts what comes back when the receiver echoes.
class g711_call final : public clocked_stream, public media_sink {
public:
  g711_call(std::uint32_t ssrc, media_port& port, std::optional<srtp_session> out,
            std::optional<srtp_session> in)
      : port_(port)
      , out_(std::move(out))
      , in_(std::move(in)) {
    buf_.fill(std::byte{0xff}); // mu-law silence
    buf_[0] = std::byte{0x80};
    for (int i = 0; i < 4; ++i)
      buf_[8 + i] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
  }

  void on_tick(const media_tick& t) override {
    seq_ = static_cast<std::uint16_t>(seq_ + 1 + t.skipped);
    ts_ += static_cast<std::uint32_t>(payload_bytes * (1 + t.skipped));
    buf_[2] = static_cast<std::byte>(seq_ >> 8);
    buf_[3] = static_cast<std::byte>(seq_);
    for (int i = 0; i < 4; ++i)
      buf_[4 + i] = static_cast<std::byte>(ts_ >> (24 - 8 * i));
    std::size_t len = packet_bytes;
    if (out_) {
      // Protect a copy: the plaintext template stays reusable. Same buffer, no allocation.
      std::copy_n(buf_.begin(), packet_bytes, wire_.begin());
      const auto r = out_->protect_rtp(wire_, packet_bytes);
      if (!r) return;
      len = r.length;
      sent_.fetch_add(port_.send_rtp(std::span(wire_).first(len)) == send_result::sent,
                      std::memory_order_relaxed);
    } else {
      sent_.fetch_add(port_.send_rtp(std::span(buf_).first(len)) == send_result::sent,
                      std::memory_order_relaxed);
    }
  }

  verdict on_rtp(std::span<std::byte> p, time_point) override {
    if (in_ && !in_->unprotect_rtp(p)) return verdict::rejected;
    received_.fetch_add(1, std::memory_order_relaxed);
    return verdict::accepted;
  }
  verdict on_rtcp(std::span<std::byte>, time_point) override { return verdict::accepted; }
  void on_media_timeout(duration) override {}

  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }

private:
  media_port& port_;
  std::optional<srtp_session> out_, in_;
  std::array<std::byte, packet_bytes> buf_{};
  std::array<std::byte, packet_bytes + srtp_trailer_room> wire_{};
  std::uint16_t seq_ = 0;
  std::uint32_t ts_ = 0;
  std::atomic<std::uint64_t> sent_{0}, received_{0};
};

// --- the far end: one socket receiving every stream ----------------------------------------

/// Receives with recvmmsg and kernel arrival timestamps (SO_TIMESTAMPNS), records per-stream
/// inter-arrival times while measuring, and optionally echoes each packet with sendmmsg.
class receiver {
public:
  receiver(std::size_t streams, std::size_t expected_intervals, bool echo)
      : last_ns_(streams, 0)
      , echo_(echo) {
    deltas_us_.reserve(expected_intervals);
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("receiver bind");
      std::exit(1);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    const int on = 1, buf = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  }
  ~receiver() {
    stop();
    ::close(fd_);
  }

  std::uint16_t port() const { return port_; }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void measure(bool on) { measuring_ = on; }
  std::uint64_t packets() const { return packets_.load(); }
  std::uint64_t measured_packets() const { return measured_.load(); }
  long tid() const { return tid_.load(); }
  std::vector<std::int32_t>& deltas_us() { return deltas_us_; }

private:
  static constexpr int batch = 64;

  void run() {
    tid_ = static_cast<long>(::syscall(SYS_gettid));
    std::vector<std::array<std::uint8_t, 2048>> bufs(batch);
    std::vector<std::array<char, CMSG_SPACE(sizeof(timespec))>> ctrl(batch);
    std::vector<sockaddr_in> from(batch);
    std::vector<iovec> iov(batch);
    std::vector<mmsghdr> msgs(batch), out(batch);
    while (!done_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      for (int i = 0; i < batch; ++i) {
        iov[i] = {bufs[i].data(), bufs[i].size()};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl[i].data();
        msgs[i].msg_hdr.msg_controllen = ctrl[i].size();
      }
      const int n = ::recvmmsg(fd_, msgs.data(), batch, MSG_DONTWAIT, nullptr);
      if (n <= 0) continue;
      int echoes = 0;
      for (int i = 0; i < n; ++i) {
        const auto len = msgs[i].msg_len;
        if (len < 12) continue;
        record(bufs[i].data(), msgs[i].msg_hdr);
        if (echo_) {
          iov[i].iov_len = len;
          out[echoes].msg_hdr = {};
          out[echoes].msg_hdr.msg_name = &from[i];
          out[echoes].msg_hdr.msg_namelen = msgs[i].msg_hdr.msg_namelen;
          out[echoes].msg_hdr.msg_iov = &iov[i];
          out[echoes].msg_hdr.msg_iovlen = 1;
          ++echoes;
        }
      }
      for (int sent = 0; sent < echoes;) {
        const int m = ::sendmmsg(fd_, out.data() + sent, static_cast<unsigned>(echoes - sent), 0);
        if (m <= 0) break;
        sent += m;
      }
    }
  }

  void record(const std::uint8_t* p, const msghdr& h) {
    const std::uint32_t ssrc =
        std::uint32_t{p[8]} << 24 | std::uint32_t{p[9]} << 16 | std::uint32_t{p[10]} << 8 | p[11];
    if (ssrc == 0 || ssrc > last_ns_.size()) return;
    std::int64_t ns = 0;
    for (auto* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      }
    }
    packets_.fetch_add(1, std::memory_order_relaxed);
    auto& last = last_ns_[ssrc - 1];
    if (measuring_) {
      measured_.fetch_add(1, std::memory_order_relaxed);
      if (last != 0 && ns != 0 && deltas_us_.size() < deltas_us_.capacity())
        deltas_us_.push_back(static_cast<std::int32_t>((ns - last) / 1000));
    }
    last = ns;
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<std::int64_t> last_ns_;
  std::vector<std::int32_t> deltas_us_;
  bool echo_;
  std::atomic<bool> done_{false}, measuring_{false};
  std::atomic<std::uint64_t> packets_{0}, measured_{0};
  std::atomic<long> tid_{0};
  std::thread thread_;
};

// --- main ----------------------------------------------------------------------------------

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--srtp") {
      o.srtp = true;
    } else if (a == "--echo") {
      o.echo = true;
    } else if (a == "--streams" || a == "--seconds" || a == "--threads" || a == "--phases") {
      const char* v = next();
      if (!v) return false;
      const long n = std::atol(v);
      if (n <= 0) return false;
      if (a == "--streams") o.streams = static_cast<std::size_t>(n);
      if (a == "--seconds") o.seconds = static_cast<int>(n);
      if (a == "--threads") o.threads = static_cast<unsigned>(n);
      if (a == "--phases") o.phases = static_cast<unsigned>(n);
    } else if (a == "--rt") {
      const char* v = next();
      if (!v || std::atoi(v) <= 0 || std::atoi(v) > 99) return false;
      o.rt = std::atoi(v);
    } else if (a == "--ports" || a == "--host") {
      const char* v = next();
      if (!v) return false;
      (a == "--ports" ? o.ports : o.host) = v;
    } else {
      return false;
    }
  }
  return true;
}

double percentile(const std::vector<std::int32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[i] / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr, "usage: bench_rtp [--streams N] [--seconds T] [--threads K] "
                         "[--phases P] [--srtp] "
                         "[--echo] [--ports A-B] [--host ADDR] [--rt PRIORITY]\n");
    return 2;
  }
  const auto range = port_range::parse(o.ports);
  if (!range) {
    std::fprintf(stderr, "%s\n", range.err().message.c_str());
    return 2;
  }

  engine_options eo;
  eo.host = o.host;
  eo.ports = *range;
  eo.threads = o.threads;
  eo.realtime_priority = o.rt;
  eo.clock_phases = o.phases;
  engine e(eo);
  if (auto s = e.start(); !s) {
    std::fprintf(stderr, "engine: %s\n", s.err().message.c_str());
    return 1;
  }
  // Receiver storage is allocated before the baseline, so it is not counted per stream.
  receiver rx(o.streams, o.streams * 50 * static_cast<std::size_t>(o.seconds + 1), o.echo);
  rx.start();
  const double rss_before = rss_mb();

  std::vector<udp_port> ports;
  std::vector<std::shared_ptr<g711_call>> calls;
  ports.reserve(o.streams);
  calls.reserve(o.streams);
  for (std::size_t i = 0; i < o.streams; ++i) {
    auto p = e.open_port();
    if (!p) {
      std::fprintf(stderr, "open_port %zu: %s\n", i, p.err().message.c_str());
      return 1;
    }
    std::optional<srtp_session> out, in;
    if (o.srtp) {
      const auto key = generate_srtp_key(srtp_suite::aes_cm_128_hmac_sha1_80).value();
      out.emplace(srtp_session::create(key, srtp_direction::outbound).value());
      // The echo brings our own packets back: the inbound session uses the same key.
      if (o.echo) in.emplace(srtp_session::create(key, srtp_direction::inbound).value());
    }
    auto call = std::make_shared<g711_call>(static_cast<std::uint32_t>(i + 1), p->media(),
                                            std::move(out), std::move(in));
    if (auto s = p->set_remote(o.host, rx.port()); !s) {
      std::fprintf(stderr, "set_remote: %s\n", s.err().message.c_str());
      return 1;
    }
    p->start(call, call);
    calls.push_back(std::move(call));
    ports.push_back(std::move(p).value());
  }

  // Warm up for a second (all streams registered, caches and socket buffers settled).
  std::this_thread::sleep_for(1s);
  const double rss_running = rss_mb();

  std::uint64_t sent0 = 0, back0 = 0;
  for (const auto& c : calls) {
    sent0 += c->sent();
    back0 += c->received();
  }
  const auto rx0 = rx.packets();
  std::vector<clock_stats> clocks0;
  for (unsigned i = 0; i < e.threads(); ++i)
    clocks0.push_back(e.clock(i).stats());
  const double cpu0 = process_cpu_s(), tr0 = threads_cpu_s("gobi-rtp-"),
               rxc0 = thread_cpu_s(rx.tid());
  const auto t0 = std::chrono::steady_clock::now();
  rx.measure(true);
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  rx.measure(false);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = process_cpu_s() - cpu0, tr = threads_cpu_s("gobi-rtp-") - tr0,
               rxc = thread_cpu_s(rx.tid()) - rxc0;
  std::uint64_t sent = 0, back = 0;
  for (const auto& c : calls) {
    sent += c->sent();
    back += c->received();
  }
  sent -= sent0;
  back -= back0;
  const auto received = rx.packets() - rx0;

  for (auto& p : ports)
    p.close();
  std::vector<clock_stats> clocks;
  for (unsigned i = 0; i < e.threads(); ++i)
    clocks.push_back(e.clock(i).stats());
  e.stop();
  rx.stop();

  auto& d = rx.deltas_us();
  std::sort(d.begin(), d.end());
  std::vector<std::int32_t> dev(d.size());
  std::transform(d.begin(), d.end(), dev.begin(),
                 [](std::int32_t x) { return std::abs(x - 20000); });
  std::sort(dev.begin(), dev.end());

  double load[3] = {};
  ::getloadavg(load, 3);
  std::printf("bench_rtp: %zu streams, %u transport thread(s)%s, %u clock phases, %d s, srtp %s, "
              "echo %s (load average %.2f before the end)\n",
              o.streams, o.threads, e.realtime_threads() ? " SCHED_FIFO" : "", o.phases, o.seconds,
              o.srtp ? "on" : "off", o.echo ? "on" : "off", load[0]);
  std::printf("  sent      %.0f packets/s (%llu in %.2f s; %zu-byte packets)\n",
              static_cast<double>(sent) / wall, static_cast<unsigned long long>(sent), wall,
              o.srtp ? packet_bytes + 10 : packet_bytes);
  std::printf("  received  %.0f packets/s at the far end (%.3f%% not received)\n",
              static_cast<double>(received) / wall,
              sent ? 100.0 * (static_cast<double>(sent) - static_cast<double>(received)) /
                         static_cast<double>(sent)
                   : 0.0);
  if (o.echo)
    std::printf("  echoed    %.0f packets/s back into the ports' sinks\n",
                static_cast<double>(back) / wall);
  std::printf("  spacing   p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  min %.3f ms"
              "  (%zu intervals, kernel receive timestamps)\n",
              percentile(d, 0.5), percentile(d, 0.99), percentile(d, 0.999),
              d.empty() ? 0.0 : d.back() / 1000.0, d.empty() ? 0.0 : d.front() / 1000.0, d.size());
  std::printf("  |spacing - 20 ms|  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", percentile(dev, 0.5),
              percentile(dev, 0.99), dev.empty() ? 0.0 : dev.back() / 1000.0);
  for (unsigned i = 0; i < clocks.size(); ++i) {
    const auto ticks = clocks[i].ticks - clocks0[i].ticks;
    const auto work = clocks[i].total_tick_work - clocks0[i].total_tick_work;
    std::printf("  clock %u   %zu streams, %llu wake-ups, %llu skipped, max lateness %.3f ms, "
                "work per wake-up mean %.3f ms max %.3f ms\n",
                i, clocks0[i].streams, static_cast<unsigned long long>(ticks),
                static_cast<unsigned long long>(clocks[i].skipped - clocks0[i].skipped),
                std::chrono::duration<double, std::milli>(clocks[i].max_lateness).count(),
                ticks ? std::chrono::duration<double, std::milli>(work).count() /
                            static_cast<double>(ticks)
                      : 0.0,
                std::chrono::duration<double, std::milli>(clocks[i].max_tick_work).count());
  }
  std::printf("  CPU       process %.1f%% of one core: transport threads %.1f%% (%.1f us per "
              "stream-second), receiver %.1f%%\n",
              100 * cpu / wall, 100 * tr / wall, 1e6 * tr / wall / static_cast<double>(o.streams),
              100 * rxc / wall);
  std::printf("  memory    RSS %.1f MB -> %.1f MB: %.1f KB per stream (user space; socket "
              "buffers are kernel memory)\n",
              rss_before, rss_running,
              (rss_running - rss_before) * 1024.0 / static_cast<double>(o.streams));
  return 0;
}
