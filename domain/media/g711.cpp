#include "domain/media/g711.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace gobi::media::g711 {
namespace {

// mu-law: a code is the one's complement of sign(1) | segment(3) | step(4). A segment spans
// magnitudes [2^(s+5) - 33, 2^(s+6) - 33) in 14-bit units (bias 33), in 16 steps.
constexpr std::int16_t mu_to_linear(std::uint8_t code) noexcept {
  const std::uint8_t c = static_cast<std::uint8_t>(~code);
  const int segment = (c >> 4) & 0x07;
  const int step = c & 0x0f;
  // In 16-bit units the bias is 33 << 2 = 0x84 and a step is 8 << segment.
  const int magnitude = (((step << 3) + 0x84) << segment) - 0x84;
  return static_cast<std::int16_t>((c & 0x80) ? -magnitude : magnitude);
}

// A-law: sign(1, set = positive) | segment(3) | step(4), even bits inverted (xor 0x55).
// Segments 0 and 1 share the step size; each higher one doubles it. Values are 13-bit
// magnitudes scaled to 16 bits, at the middle of their step.
constexpr std::int16_t a_to_linear(std::uint8_t code) noexcept {
  const std::uint8_t c = code ^ 0x55;
  const int segment = (c >> 4) & 0x07;
  const int step = c & 0x0f;
  int magnitude = (step << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return static_cast<std::int16_t>((c & 0x80) ? magnitude : -magnitude);
}

template <std::int16_t (*F)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() noexcept {
  std::array<std::int16_t, 256> t{};
  for (int i = 0; i < 256; ++i)
    t[static_cast<std::size_t>(i)] = F(static_cast<std::uint8_t>(i));
  return t;
}

constexpr auto mu_table = make_table<mu_to_linear>();
constexpr auto a_table = make_table<a_to_linear>();

} // namespace

std::uint8_t encode_mu(std::int16_t sample) noexcept {
  int v = sample >> 2; // 14-bit
  std::uint8_t mask = 0xFF;
  if (v < 0) {
    v = -v;
    mask = 0x7F;
  }
  v = std::min(v, 8159) + 33;
  // v is in [33, 8192]: bit width 6 means segment 0, ..., 13 segment 7, 14 (only 8192) clips.
  const int segment = static_cast<int>(std::bit_width(static_cast<unsigned>(v))) - 6;
  if (segment > 7) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int code = (segment << 4) | ((v >> (segment + 1)) & 0x0f);
  return static_cast<std::uint8_t>(code ^ mask);
}

std::uint8_t encode_a(std::int16_t sample) noexcept {
  int v = sample >> 3; // 13-bit
  std::uint8_t mask = 0xD5;
  if (v < 0) {
    v = -v - 1; // negative values are one's-complement magnitudes in G.711 A-law
    mask = 0x55;
  }
  // v is in [0, 4095]: widths up to 5 are segment 0, 6 segment 1, ..., 12 segment 7.
  const int segment = std::max(static_cast<int>(std::bit_width(static_cast<unsigned>(v))) - 5, 0);
  const int shift = segment < 2 ? 1 : segment;
  const int code = (segment << 4) | ((v >> shift) & 0x0f);
  return static_cast<std::uint8_t>(code ^ mask);
}

std::int16_t decode_mu(std::uint8_t code) noexcept {
  return mu_table[code];
}
std::int16_t decode_a(std::uint8_t code) noexcept {
  return a_table[code];
}

std::size_t encode(law l, std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  if (l == law::mu)
    std::transform(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n), out.begin(), encode_mu);
  else
    std::transform(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n), out.begin(), encode_a);
  return n;
}

std::size_t decode(law l, std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  const auto& table = l == law::mu ? mu_table : a_table;
  for (std::size_t i = 0; i < n; ++i)
    out[i] = table[in[i]];
  return n;
}

} // namespace gobi::media::g711
