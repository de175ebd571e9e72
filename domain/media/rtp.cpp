#include "domain/media/rtp.hpp"

#include "domain/media/bytes.hpp"

#include <algorithm>
#include <string>

namespace gobi::media {

const char* to_string(rtp_error e) noexcept {
  switch (e) {
  case rtp_error::ok:
    return "ok";
  case rtp_error::too_short:
    return "shorter than the 12-byte RTP header";
  case rtp_error::bad_version:
    return "RTP version is not 2";
  case rtp_error::csrc_past_end:
    return "CSRC list runs past the end";
  case rtp_error::extension_past_end:
    return "header extension runs past the end";
  case rtp_error::bad_padding:
    return "padding count is zero or exceeds the payload";
  case rtp_error::buffer_too_small:
    return "output buffer too small";
  case rtp_error::bad_field:
    return "more than 15 CSRCs or extension not in 32-bit words";
  }
  return "unknown";
}

namespace {
class rtp_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "gobi.rtp"; }
  std::string message(int c) const override { return to_string(static_cast<rtp_error>(c)); }
};
} // namespace

const std::error_category& rtp_category() noexcept {
  static const rtp_category_impl cat;
  return cat;
}

std::error_code make_error_code(rtp_error e) noexcept {
  return {static_cast<int>(e), rtp_category()};
}

std::uint32_t rtp_packet::csrc(std::size_t i) const noexcept {
  return bytes::load_be32(csrc_bytes.data() + 4 * i);
}

rtp_error parse_rtp(std::span<const std::uint8_t> d, rtp_packet& out) noexcept {
  if (d.size() < rtp_fixed_header_bytes) return rtp_error::too_short;
  const std::uint8_t b0 = d[0];
  if ((b0 >> 6) != 2) return rtp_error::bad_version;
  const bool has_padding = (b0 & 0x20) != 0;
  out.has_extension = (b0 & 0x10) != 0;
  const std::size_t cc = b0 & 0x0f;
  out.marker = (d[1] & 0x80) != 0;
  out.payload_type = d[1] & 0x7f;
  out.sequence = bytes::load_be16(&d[2]);
  out.timestamp = bytes::load_be32(&d[4]);
  out.ssrc = bytes::load_be32(&d[8]);

  std::size_t pos = rtp_fixed_header_bytes;
  if (d.size() < pos + 4 * cc) return rtp_error::csrc_past_end;
  out.csrc_bytes = d.subspan(pos, 4 * cc);
  pos += 4 * cc;

  out.extension_profile = 0;
  out.extension = {};
  if (out.has_extension) {
    if (d.size() < pos + 4) return rtp_error::extension_past_end;
    out.extension_profile = bytes::load_be16(&d[pos]);
    const std::size_t words = bytes::load_be16(&d[pos + 2]);
    pos += 4;
    if (d.size() < pos + 4 * words) return rtp_error::extension_past_end;
    out.extension = d.subspan(pos, 4 * words);
    pos += 4 * words;
  }

  std::size_t end = d.size();
  out.padding = 0;
  if (has_padding) {
    // The last octet counts the padding, itself included: at least 1, at most the payload.
    const std::size_t pad = d.back();
    if (pad == 0 || pad > end - pos) return rtp_error::bad_padding;
    out.padding = static_cast<std::uint8_t>(pad);
    end -= pad;
  }
  out.payload = d.subspan(pos, end - pos);
  return rtp_error::ok;
}

std::size_t rtp_wire_size(const rtp_packet& p) noexcept {
  return rtp_fixed_header_bytes + p.csrc_bytes.size() +
         (p.has_extension ? 4 + p.extension.size() : 0) + p.payload.size() + p.padding;
}

std::size_t write_rtp(const rtp_packet& p, std::span<std::uint8_t> out, rtp_error* error) noexcept {
  auto fail = [error](rtp_error e) -> std::size_t {
    if (error) *error = e;
    return 0;
  };
  if (p.csrc_bytes.size() % 4 != 0 || p.csrc_count() > rtp_max_csrcs ||
      p.extension.size() % 4 != 0 || p.extension.size() / 4 > 0xffff)
    return fail(rtp_error::bad_field);
  const std::size_t size = rtp_wire_size(p);
  if (out.size() < size) return fail(rtp_error::buffer_too_small);

  std::uint8_t* w = out.data();
  w[0] = static_cast<std::uint8_t>(0x80 | (p.padding ? 0x20 : 0) | (p.has_extension ? 0x10 : 0) |
                                   p.csrc_count());
  w[1] = static_cast<std::uint8_t>((p.marker ? 0x80 : 0) | (p.payload_type & 0x7f));
  bytes::store_be16(w + 2, p.sequence);
  bytes::store_be32(w + 4, p.timestamp);
  bytes::store_be32(w + 8, p.ssrc);
  w += rtp_fixed_header_bytes;
  w = std::copy(p.csrc_bytes.begin(), p.csrc_bytes.end(), w);
  if (p.has_extension) {
    bytes::store_be16(w, p.extension_profile);
    bytes::store_be16(w + 2, static_cast<std::uint16_t>(p.extension.size() / 4));
    w = std::copy(p.extension.begin(), p.extension.end(), w + 4);
  }
  w = std::copy(p.payload.begin(), p.payload.end(), w);
  if (p.padding) {
    w = std::fill_n(w, p.padding - 1, std::uint8_t{0});
    *w++ = p.padding;
  }
  if (error) *error = rtp_error::ok;
  return size;
}

} // namespace gobi::media
