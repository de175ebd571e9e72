#pragma once

/// G.711 (ITU-T G.711) mu-law and A-law: one 8-bit code per sample at 8 kHz.
///
/// Encoding follows the recommendation's segment tables on the top 14 (mu-law) or 13 (A-law)
/// bits of a 16-bit sample; decoding is a 256-entry table lookup. Silence is 0xFF (mu-law) and
/// 0xD5 (A-law). Pure functions, no state, usable from any thread.

#include <cstddef>
#include <cstdint>
#include <span>

namespace gobi::media::g711 {

enum class law : std::uint8_t { mu, a };

std::uint8_t encode_mu(std::int16_t sample) noexcept;
std::uint8_t encode_a(std::int16_t sample) noexcept;
std::int16_t decode_mu(std::uint8_t code) noexcept;
std::int16_t decode_a(std::uint8_t code) noexcept;

/// The code for digital silence (a zero sample).
constexpr std::uint8_t silence_code(law l) noexcept {
  return l == law::mu ? 0xFF : 0xD5;
}

/// Encodes min(in.size(), out.size()) samples; returns how many.
std::size_t encode(law l, std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;
/// Decodes min(in.size(), out.size()) codes; returns how many.
std::size_t decode(law l, std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;

} // namespace gobi::media::g711
