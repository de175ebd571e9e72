// bench_media: what a call's media path costs in CPU and memory.
//
//   bench_media [calls_g711] [calls_opus] [seconds]     (defaults: 1000 200 10)
//
// Runs N simulated calls at once, each with the full media path of gobi's side of a call:
// an inbound chain (RTP in -> jitter buffer -> decode -> resample -> VAD) fed with a peer's
// packets (speech-like bursts, encoded once up front), an outbound chain (queued 16 kHz
// "TTS" audio -> resample -> encode -> RTP out, one packet per 20 ms tick) and a stereo
// recorder on both (into a sink that only counts bytes). Every call is ticked every 20 ms of
// media time, as fast as the CPU allows (no sleeping), for `seconds` of audio.
//
// Prints CPU microseconds per call per second of audio (so 1,000,000 / it is how many calls
// one core carries in real time), bytes per call (heap growth from building the calls, plus
// the objects themselves) and the allocations made while running (should be 0).

#include "domain/media/chain.hpp"
#include "domain/media/recorder.hpp"

#include <malloc.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <new>
#include <vector>

// Counts operator new calls, to prove the steady state allocates nothing.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace gobi::media;
using namespace std::chrono_literals;

double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

class counting_sink final : public byte_sink {
public:
  bool write(std::span<const std::uint8_t> d) override {
    bytes += d.size();
    return true;
  }
  bool seek(std::uint64_t) override { return true; }
  std::uint64_t bytes = 0;
};

/// Speech-like test audio at 16 kHz: 1.2 s bursts of a warbling tone over faint noise,
/// 0.8 s pauses.
std::vector<std::int16_t> speechish(std::size_t samples) {
  std::vector<std::int16_t> v(samples);
  std::uint32_t s = 12345;
  for (std::size_t i = 0; i < samples; ++i) {
    s = s * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(s >> 16) / 65535.0 - 0.5) * 60;
    const double t = static_cast<double>(i) / 16000;
    const bool talking = std::fmod(t, 2.0) < 1.2;
    const double f = 300 + 150 * std::sin(2 * 3.14159 * 3 * t);
    const double x = talking ? 6000 * std::sin(2 * 3.14159 * f * t) : 0;
    v[i] = static_cast<std::int16_t>(x + noise);
  }
  return v;
}

/// The peer's side of the call: `ticks` RTP packets, encoded once and replayed to every call.
std::vector<std::vector<std::uint8_t>> peer_stream(const codec_params& codec, int ticks) {
  outbound_options o;
  o.codec = codec;
  o.ssrc = 0xbeef;
  o.playout_queue = std::chrono::milliseconds{ticks * 20 + 20};
  auto peer = build_outbound_chain(o);
  if (!peer) {
    std::fprintf(stderr, "peer chain: %s\n", peer.err().message.c_str());
    std::exit(1);
  }
  const auto audio = speechish(static_cast<std::size_t>(ticks) * frame_samples);
  (*peer)->play(audio);
  std::vector<std::vector<std::uint8_t>> pkts;
  for (int i = 0; i < ticks; ++i) {
    const auto p = (*peer)->tick(media_time{i * 20ms});
    pkts.emplace_back(p.begin(), p.end());
  }
  return pkts;
}

struct call {
  std::unique_ptr<inbound_chain> in;
  std::unique_ptr<outbound_chain> out;
  counting_sink file;
  std::unique_ptr<call_recorder> rec;
  std::size_t tts_fed = 0;
};

void run(const char* label, const codec_params& codec, int calls, int seconds) {
  if (calls <= 0) return;
  const int ticks = seconds * 50;
  const auto peer = peer_stream(codec, ticks);
  const auto tts = speechish(static_cast<std::size_t>(seconds) * 16000);

  const std::size_t heap_before = heap_in_use();
  std::vector<call> cs(static_cast<std::size_t>(calls));
  for (std::size_t i = 0; i < cs.size(); ++i) {
    auto& c = cs[i];
    c.rec = std::make_unique<call_recorder>(c.file);
    inbound_options in;
    in.codec = codec;
    in.downstream = &c.rec->caller();
    outbound_options out;
    out.codec = codec;
    out.ssrc = static_cast<std::uint32_t>(i + 1);
    out.tap = &c.rec->agent();
    c.in = std::move(build_inbound_chain(in)).value();
    c.out = std::move(build_outbound_chain(out)).value();
  }
  const std::size_t heap_after = heap_in_use();
  const std::size_t objects = sizeof(call);
  const double bytes_per_call =
      static_cast<double>(heap_after - heap_before) / calls + static_cast<double>(objects);

  std::printf("%s: %d calls, %d s of audio each, chains:\n  %s\n  %s\n", label, calls, seconds,
              cs[0].in->name().c_str(), cs[0].out->name().c_str());

  const std::uint64_t allocs_before = g_allocations.load();
  const double t0 = cpu_us();
  std::uint64_t out_bytes = 0;
  for (int t = 0; t < ticks; ++t) {
    const media_time now{t * 20ms};
    const auto& pkt = peer[static_cast<std::size_t>(t)];
    for (auto& c : cs) {
      (void)c.in->push(pkt, now);
      (void)c.in->tick(now);
      if (c.out->queued_samples() < 8000 && c.tts_fed < tts.size())
        c.tts_fed += c.out->play(std::span<const std::int16_t>{tts}.subspan(c.tts_fed));
      out_bytes += c.out->tick(now).size();
    }
  }
  const double cpu = cpu_us() - t0;
  const std::uint64_t allocs = g_allocations.load() - allocs_before;

  const double per_call_second = cpu / calls / seconds;
  std::printf("  CPU: %.1f us per call per second of audio (%.3f%% of a core per call;"
              " one core carries %.0f calls in real time)\n",
              per_call_second, per_call_second / 1e4, 1e6 / per_call_second);
  std::printf("  memory: %.1f KB per call (heap %.1f KB + %zu B of objects)\n",
              bytes_per_call / 1024, static_cast<double>(heap_after - heap_before) / calls / 1024,
              objects);
  std::printf("  allocations while running: %llu; sent %.1f MB of RTP; recorded %.1f MB of WAV\n",
              static_cast<unsigned long long>(allocs), static_cast<double>(out_bytes) / 1e6,
              static_cast<double>(cs[0].file.bytes) * calls / 1e6);
  const auto& js = cs[0].in->jitter().stats();
  std::printf("  call 0: %llu packets played, %llu late, %llu concealed units\n",
              static_cast<unsigned long long>(js.played), static_cast<unsigned long long>(js.late),
              static_cast<unsigned long long>(js.concealed));
}

} // namespace

int main(int argc, char** argv) {
  const int g711_calls = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int opus_calls = argc > 2 ? std::atoi(argv[2]) : 200;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  run("G.711 (PCMU)", codec_params::pcmu(), g711_calls, seconds);
  run("Opus 16 kHz", codec_params::opus(), opus_calls, seconds);
}
