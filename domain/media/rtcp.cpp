#include "domain/media/rtcp.hpp"

#include "domain/media/bytes.hpp"

#include <algorithm>
#include <string>

namespace gobi::media {

const char* to_string(rtcp_error e) noexcept {
  switch (e) {
  case rtcp_error::ok:
    return "ok";
  case rtcp_error::too_short:
    return "RTCP packet too short";
  case rtcp_error::bad_version:
    return "RTCP version is not 2";
  case rtcp_error::bad_length:
    return "RTCP length runs past the datagram";
  case rtcp_error::bad_padding:
    return "RTCP padding misplaced or miscounted";
  case rtcp_error::bad_sdes:
    return "SDES item runs past its chunk";
  case rtcp_error::buffer_too_small:
    return "output buffer too small";
  case rtcp_error::too_many:
    return "more than 31 blocks or sources, or text over 255 bytes";
  }
  return "unknown";
}

namespace {
class rtcp_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "gobi.rtcp"; }
  std::string message(int c) const override { return to_string(static_cast<rtcp_error>(c)); }
};

constexpr std::size_t block_bytes = 24;

report_block read_block(const std::uint8_t* p) noexcept {
  report_block b;
  b.ssrc = bytes::load_be32(p);
  b.fraction_lost = p[4];
  // 24-bit two's complement: sign-extend through the top byte.
  const std::uint32_t raw = (std::uint32_t{p[5]} << 16) | (std::uint32_t{p[6]} << 8) | p[7];
  b.cumulative_lost = static_cast<std::int32_t>(raw << 8) >> 8;
  b.extended_highest_sequence = bytes::load_be32(p + 8);
  b.jitter = bytes::load_be32(p + 12);
  b.last_sr = bytes::load_be32(p + 16);
  b.delay_since_last_sr = bytes::load_be32(p + 20);
  return b;
}

void read_blocks(const std::uint8_t* p, std::size_t n, report_blocks& out) noexcept {
  out.count = 0;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(read_block(p + i * block_bytes));
}

rtcp_error parse_sdes(std::span<const std::uint8_t> body, std::size_t chunks,
                      rtcp_compound& out) noexcept {
  std::size_t pos = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    if (body.size() < pos + 4) return rtcp_error::bad_sdes;
    const std::uint32_t ssrc = bytes::load_be32(&body[pos]);
    pos += 4;
    // Items until a zero type octet; then the chunk is padded to a 32-bit boundary.
    for (;;) {
      if (pos >= body.size()) return rtcp_error::bad_sdes;
      const std::uint8_t type = body[pos];
      if (type == 0) {
        pos = (pos + 4) & ~std::size_t{3};
        break;
      }
      if (body.size() < pos + 2 || body.size() < pos + 2 + body[pos + 1])
        return rtcp_error::bad_sdes;
      const std::size_t len = body[pos + 1];
      if (type == 1 && !out.cname) {
        const auto* text = reinterpret_cast<const char*>(&body[pos + 2]);
        out.cname = sdes_cname{ssrc, std::string_view{text, len}};
      }
      pos += 2 + len;
    }
  }
  return rtcp_error::ok;
}

} // namespace

const std::error_category& rtcp_category() noexcept {
  static const rtcp_category_impl cat;
  return cat;
}

std::error_code make_error_code(rtcp_error e) noexcept {
  return {static_cast<int>(e), rtcp_category()};
}

rtcp_error parse_rtcp(std::span<const std::uint8_t> d, rtcp_compound& out) {
  out = rtcp_compound{};
  std::size_t pos = 0;
  if (d.size() < 4) return rtcp_error::too_short;
  while (pos < d.size()) {
    if (d.size() - pos < 4) return rtcp_error::too_short;
    const std::uint8_t b0 = d[pos];
    if ((b0 >> 6) != 2) return rtcp_error::bad_version;
    const std::size_t count = b0 & 0x1f;
    const std::uint8_t type = d[pos + 1];
    const std::size_t len = (std::size_t{bytes::load_be16(&d[pos + 2])} + 1) * 4;
    if (d.size() - pos < len) return rtcp_error::bad_length;
    std::size_t body_len = len - 4;
    if (b0 & 0x20) {
      // Only the last packet of a compound may be padded (RFC 3550 6.4.1).
      const std::size_t pad = d[pos + len - 1];
      if (pos + len != d.size() || pad == 0 || pad > body_len) return rtcp_error::bad_padding;
      body_len -= pad;
    }
    const auto body = d.subspan(pos + 4, body_len);
    ++out.packets;
    switch (type) {
    case static_cast<std::uint8_t>(rtcp_type::sr): {
      if (body.size() < 24 + count * block_bytes) return rtcp_error::too_short;
      if (!out.sr) {
        sender_report sr;
        sr.ssrc = bytes::load_be32(&body[0]);
        sr.info.ntp_timestamp =
            (std::uint64_t{bytes::load_be32(&body[4])} << 32) | bytes::load_be32(&body[8]);
        sr.info.rtp_timestamp = bytes::load_be32(&body[12]);
        sr.info.packet_count = bytes::load_be32(&body[16]);
        sr.info.octet_count = bytes::load_be32(&body[20]);
        read_blocks(&body[24], count, sr.blocks);
        out.sr = sr;
      }
      break;
    }
    case static_cast<std::uint8_t>(rtcp_type::rr): {
      if (body.size() < 4 + count * block_bytes) return rtcp_error::too_short;
      if (!out.rr) {
        receiver_report rr;
        rr.ssrc = bytes::load_be32(&body[0]);
        read_blocks(&body[4], count, rr.blocks);
        out.rr = rr;
      }
      break;
    }
    case static_cast<std::uint8_t>(rtcp_type::sdes): {
      if (const auto e = parse_sdes(body, count, out); e != rtcp_error::ok) return e;
      break;
    }
    case static_cast<std::uint8_t>(rtcp_type::bye): {
      if (body.size() < 4 * count) return rtcp_error::too_short;
      if (!out.bye) {
        rtcp_bye bye;
        for (std::size_t i = 0; i < count; ++i)
          bye.ssrcs[bye.count++] = bytes::load_be32(&body[4 * i]);
        const std::size_t rpos = 4 * count;
        if (body.size() > rpos) {
          const std::size_t rlen = body[rpos];
          if (body.size() < rpos + 1 + rlen) return rtcp_error::bad_length;
          bye.reason = {reinterpret_cast<const char*>(&body[rpos + 1]), rlen};
        }
        out.bye = bye;
      }
      break;
    }
    default:
      ++out.skipped;
      break;
    }
    pos += len;
  }
  return rtcp_error::ok;
}

std::uint8_t* rtcp_writer::reserve(std::size_t n) noexcept {
  if (error_ != rtcp_error::ok) return nullptr;
  if (out_.size() - size_ < n) {
    error_ = rtcp_error::buffer_too_small;
    return nullptr;
  }
  std::uint8_t* p = out_.data() + size_;
  size_ += n;
  return p;
}

namespace {
void write_header(std::uint8_t* p, std::size_t count, rtcp_type type, std::size_t bytes_total) {
  p[0] = static_cast<std::uint8_t>(0x80 | count);
  p[1] = static_cast<std::uint8_t>(type);
  bytes::store_be16(p + 2, static_cast<std::uint16_t>(bytes_total / 4 - 1));
}
} // namespace

void rtcp_writer::write_blocks(std::uint8_t* p, const report_blocks& b) noexcept {
  for (const auto& rb : b.view()) {
    bytes::store_be32(p, rb.ssrc);
    p[4] = rb.fraction_lost;
    const std::int32_t lost = std::clamp(rb.cumulative_lost, -0x800000, 0x7fffff);
    const auto raw = static_cast<std::uint32_t>(lost) & 0xffffff;
    p[5] = static_cast<std::uint8_t>(raw >> 16);
    p[6] = static_cast<std::uint8_t>(raw >> 8);
    p[7] = static_cast<std::uint8_t>(raw);
    bytes::store_be32(p + 8, rb.extended_highest_sequence);
    bytes::store_be32(p + 12, rb.jitter);
    bytes::store_be32(p + 16, rb.last_sr);
    bytes::store_be32(p + 20, rb.delay_since_last_sr);
    p += block_bytes;
  }
}

bool rtcp_writer::add(const sender_report& sr) noexcept {
  const std::size_t n = 28 + sr.blocks.count * block_bytes;
  std::uint8_t* p = reserve(n);
  if (!p) return false;
  write_header(p, sr.blocks.count, rtcp_type::sr, n);
  bytes::store_be32(p + 4, sr.ssrc);
  bytes::store_be32(p + 8, static_cast<std::uint32_t>(sr.info.ntp_timestamp >> 32));
  bytes::store_be32(p + 12, static_cast<std::uint32_t>(sr.info.ntp_timestamp));
  bytes::store_be32(p + 16, sr.info.rtp_timestamp);
  bytes::store_be32(p + 20, sr.info.packet_count);
  bytes::store_be32(p + 24, sr.info.octet_count);
  write_blocks(p + 28, sr.blocks);
  return true;
}

bool rtcp_writer::add(const receiver_report& rr) noexcept {
  const std::size_t n = 8 + rr.blocks.count * block_bytes;
  std::uint8_t* p = reserve(n);
  if (!p) return false;
  write_header(p, rr.blocks.count, rtcp_type::rr, n);
  bytes::store_be32(p + 4, rr.ssrc);
  write_blocks(p + 8, rr.blocks);
  return true;
}

bool rtcp_writer::add_sdes_cname(std::uint32_t ssrc, std::string_view cname) noexcept {
  if (cname.size() > 255) {
    error_ = rtcp_error::too_many;
    return false;
  }
  // header, SSRC, CNAME item (type, length, text), then at least one zero octet up to a
  // 32-bit boundary.
  const std::size_t chunk = (4 + 2 + cname.size() + 1 + 3) & ~std::size_t{3};
  const std::size_t n = 4 + chunk;
  std::uint8_t* p = reserve(n);
  if (!p) return false;
  write_header(p, 1, rtcp_type::sdes, n);
  bytes::store_be32(p + 4, ssrc);
  p[8] = 1;
  p[9] = static_cast<std::uint8_t>(cname.size());
  std::uint8_t* t = std::copy(cname.begin(), cname.end(), p + 10);
  std::fill(t, p + n, std::uint8_t{0});
  return true;
}

bool rtcp_writer::add_bye(std::span<const std::uint32_t> ssrcs, std::string_view reason) noexcept {
  if (ssrcs.size() > rtcp_max_blocks || reason.size() > 255) {
    error_ = rtcp_error::too_many;
    return false;
  }
  std::size_t n = 4 + 4 * ssrcs.size();
  if (!reason.empty()) n += (1 + reason.size() + 3) & ~std::size_t{3};
  std::uint8_t* p = reserve(n);
  if (!p) return false;
  write_header(p, ssrcs.size(), rtcp_type::bye, n);
  for (std::size_t i = 0; i < ssrcs.size(); ++i)
    bytes::store_be32(p + 4 + 4 * i, ssrcs[i]);
  if (!reason.empty()) {
    std::uint8_t* r = p + 4 + 4 * ssrcs.size();
    r[0] = static_cast<std::uint8_t>(reason.size());
    std::uint8_t* t = std::copy(reason.begin(), reason.end(), r + 1);
    std::fill(t, p + n, std::uint8_t{0});
  }
  return true;
}

std::optional<std::chrono::microseconds> round_trip_time(const report_block& b,
                                                         std::uint64_t arrival_ntp) noexcept {
  if (b.last_sr == 0) return std::nullopt;
  // All three are 16.16 fixed-point seconds; the subtraction wraps like the clock does.
  const std::uint32_t rtt = ntp_middle(arrival_ntp) - b.last_sr - b.delay_since_last_sr;
  if (rtt >= 0x80000000u) return std::nullopt; // negative: clocks or report inconsistent
  return std::chrono::microseconds{(std::int64_t{rtt} * 1'000'000) >> 16};
}

// --- receiver_stats ----------------------------------------------------------------------

void receiver_stats::reset() noexcept {
  const auto received = total_received();
  const auto lost = total_lost();
  *this = receiver_stats{opts_};
  prior_received_ = received; // the lifetime totals go on across sources
  prior_lost_ = lost;
}

void receiver_stats::restart(std::uint16_t seq) noexcept {
  if (received_ > 0) { // a range that counted (not the start of counting after probation)
    prior_received_ += received_;
    prior_lost_ += std::max<std::int64_t>(0, cumulative_lost());
  }
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = 0x10000 + 1; // matches no 16-bit value
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

std::int64_t receiver_stats::expected() const noexcept {
  if (!valid()) return 0;
  return static_cast<std::int64_t>(extended_highest_sequence()) - base_seq_ + 1;
}

bool receiver_stats::update(std::uint16_t seq, std::uint32_t rtp_ts, media_time arrival,
                            bool for_jitter) noexcept {
  if (!started_) {
    started_ = true;
    restart(seq);
    max_seq_ = static_cast<std::uint16_t>(seq - 1);
    probation_ = opts_.min_sequential;
  }
  const auto delta = static_cast<std::uint16_t>(seq - max_seq_);
  bool counted = true;
  if (probation_ > 0) {
    // A new source must show `min_sequential` packets in a row before it counts.
    if (seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0)
        restart(seq);
      else
        counted = false;
    } else {
      probation_ = opts_.min_sequential - 1;
      max_seq_ = seq;
      counted = false;
    }
  } else if (delta < opts_.max_dropout) {
    if (seq < max_seq_) cycles_ += 0x10000; // forward across the wrap
    max_seq_ = seq;
  } else if (delta <= 0x10000 - opts_.max_misorder) {
    // A big jump: believe it only if the next packet follows it (the source restarted).
    if (seq == bad_seq_) {
      restart(seq);
    } else {
      bad_seq_ = (std::uint32_t{seq} + 1) & 0xffff;
      counted = false;
    }
  }
  // else: a duplicate or a late packet from before max_seq_; counted, changes nothing.

  if (!counted) return false;
  ++received_;

  if (for_jitter) {
    // A.8: J += (|D| - J) / 16, with D the change in transit time, in RTP units.
    const auto arrival_units =
        static_cast<std::uint32_t>(to_rtp_units(arrival, opts_.clock_rate_hz));
    const auto transit = static_cast<std::int32_t>(arrival_units - rtp_ts);
    if (have_transit_) {
      const std::int64_t d = std::int64_t{transit} - transit_;
      const auto ad = static_cast<std::uint32_t>(d < 0 ? -d : d);
      jitter_q4_ = jitter_q4_ + ad - ((jitter_q4_ + 8) >> 4);
    }
    transit_ = transit;
    have_transit_ = true;
  }
  return true;
}

void receiver_stats::on_sender_report(std::uint64_t ntp_timestamp, media_time arrival) noexcept {
  last_sr_ = ntp_middle(ntp_timestamp);
  last_sr_arrival_ = arrival;
  have_sr_ = true;
}

report_block receiver_stats::make_report_block(std::uint32_t source_ssrc, media_time now) noexcept {
  report_block b;
  b.ssrc = source_ssrc;
  b.extended_highest_sequence = extended_highest_sequence();
  const std::int64_t exp = expected();
  const std::int64_t lost = exp - static_cast<std::int64_t>(received_);
  b.cumulative_lost =
      static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7fffff));
  const std::int64_t exp_interval = exp - expected_prior_;
  const std::int64_t rcv_interval = static_cast<std::int64_t>(received_ - received_prior_);
  const std::int64_t lost_interval = exp_interval - rcv_interval;
  expected_prior_ = exp;
  received_prior_ = received_;
  b.fraction_lost = (exp_interval <= 0 || lost_interval <= 0)
                        ? 0
                        : static_cast<std::uint8_t>(
                              std::min<std::int64_t>((lost_interval << 8) / exp_interval, 255));
  b.jitter = jitter();
  if (have_sr_) {
    b.last_sr = last_sr_;
    const auto since = now - last_sr_arrival_;
    b.delay_since_last_sr = static_cast<std::uint32_t>((since.count() << 16) / 1'000'000);
  }
  return b;
}

} // namespace gobi::media
