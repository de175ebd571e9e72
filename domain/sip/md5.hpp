#pragma once

/// MD5 (RFC 1321), for SIP digest authentication only (RFC 7616 keeps MD5 for
/// interoperability). libsodium has no MD5, hence this small implementation.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gobi::sip {

class md5 {
public:
  md5() noexcept;
  void update(std::string_view data) noexcept;
  std::array<std::uint8_t, 16> finish() noexcept;

  static std::array<std::uint8_t, 16> digest(std::string_view data) noexcept;
  /// Lower-case hex of the digest.
  static std::string hex(std::string_view data);

private:
  void block(const std::uint8_t* p) noexcept;
  std::array<std::uint32_t, 4> state_;
  std::uint64_t length_ = 0; ///< bytes
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
};

} // namespace gobi::sip
