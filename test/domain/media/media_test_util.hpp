#pragma once

/// Helpers for the media tests: signal generators, a Goertzel tone detector (to check that
/// a tone survives a codec or resampler, not to re-implement either), a deterministic noise
/// source, and a reader for the classic pcap files SIPp ships (Ethernet/IPv4/UDP).

#include "domain/media/media_time.hpp"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace gobi::media::test {

using namespace std::chrono_literals;

inline std::vector<std::int16_t> tone(double hz, double amplitude, std::size_t n,
                                      std::uint32_t rate, std::size_t start = 0) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int16_t>(std::lround(
        amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(start + i) / rate)));
  return v;
}

/// Deterministic white noise (xorshift), uniform in [-amplitude, amplitude].
class noise {
public:
  explicit noise(std::uint32_t seed = 0x2545f491)
      : s_(seed) {}
  std::int16_t next(double amplitude) {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 17;
    s_ ^= s_ << 5;
    const double u = static_cast<double>(s_) / 4294967295.0 * 2.0 - 1.0;
    return static_cast<std::int16_t>(std::lround(u * amplitude));
  }

private:
  std::uint32_t s_;
};

inline double energy(std::span<const std::int16_t> x) {
  double e = 0;
  for (const auto s : x)
    e += static_cast<double>(s) * s;
  return e;
}

inline double rms(std::span<const std::int16_t> x) {
  return x.empty() ? 0.0 : std::sqrt(energy(x) / static_cast<double>(x.size()));
}

/// Fraction of the block's energy at `hz` (Goertzel): about 1 for a pure tone at `hz`,
/// about 0 for a tone elsewhere or for silence.
inline double tone_fraction(std::span<const std::int16_t> x, double hz, std::uint32_t rate) {
  const double e = energy(x);
  if (x.empty() || e == 0) return 0;
  const double w = 2 * std::numbers::pi * hz / rate;
  const double c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (const auto v : x) {
    const double s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - c * s1 * s2; // |X(hz)|^2
  return 2 * power / (static_cast<double>(x.size()) * e);
}

inline std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct pcap_record {
  media_time time{};
  std::vector<std::uint8_t> udp_payload;
};

/// UDP payloads of a pcap file (microsecond, Ethernet, IPv4); other records skipped.
inline std::vector<pcap_record> read_pcap_udp(const std::string& path) {
  const auto d = read_file(path);
  std::vector<pcap_record> out;
  if (d.size() < 24) return out;
  auto le32 = [&](std::size_t p) {
    return std::uint32_t{d[p]} | std::uint32_t{d[p + 1]} << 8 | std::uint32_t{d[p + 2]} << 16 |
           std::uint32_t{d[p + 3]} << 24;
  };
  if (le32(0) != 0xa1b2c3d4 || le32(20) != 1) // little-endian, microseconds, Ethernet
    return out;
  for (std::size_t p = 24; p + 16 <= d.size();) {
    const std::int64_t sec = le32(p), usec = le32(p + 4);
    const std::size_t len = le32(p + 8);
    const std::size_t rec = p + 16;
    p = rec + len;
    if (p > d.size() || len < 14 + 20 + 8) break;
    const std::size_t ethertype = std::size_t{d[rec + 12]} << 8 | d[rec + 13];
    if (ethertype != 0x0800) continue;
    const std::size_t ip = rec + 14;
    const std::size_t ihl = (d[ip] & 0x0f) * 4u;
    if ((d[ip] >> 4) != 4 || d[ip + 9] != 17) continue;
    const std::size_t udp = ip + ihl;
    const std::size_t udp_len = std::size_t{d[udp + 4]} << 8 | d[udp + 5];
    if (udp_len < 8 || udp + udp_len > rec + len) continue;
    out.push_back(
        {media_time{sec * 1'000'000 + usec},
         std::vector<std::uint8_t>(d.begin() + static_cast<std::ptrdiff_t>(udp + 8),
                                   d.begin() + static_cast<std::ptrdiff_t>(udp + udp_len))});
  }
  return out;
}

inline std::string sip_tester_file(const std::string& name) {
  return "/usr/share/sip-tester/" + name;
}

} // namespace gobi::media::test
