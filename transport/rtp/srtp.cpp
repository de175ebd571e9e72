#include "transport/rtp/srtp.hpp"

#include <srtp2/srtp.h>

#include <sys/random.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <utility>

namespace gobi::rtp {

static_assert(srtp_trailer_room >= SRTP_MAX_TRAILER_LEN + 4,
              "srtp_trailer_room must cover libsrtp2's trailer and the SRTCP index");

namespace {

constexpr std::size_t rtp_header_min = 12;
constexpr std::size_t rtcp_header_min = 8;
constexpr std::size_t srtcp_index_length = 4;
constexpr std::size_t srtcp_tag_length = 10; // SRTCP always uses the 80-bit tag here

// --- base64 (RFC 4648, standard alphabet, padded) ----------------------------------------

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const std::byte> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto v = std::to_integer<unsigned>(in[i]) << 16 |
                   std::to_integer<unsigned>(in[i + 1]) << 8 | std::to_integer<unsigned>(in[i + 2]);
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += b64_alphabet[v >> 6 & 63];
    out += b64_alphabet[v & 63];
  }
  if (const auto rest = in.size() - i; rest > 0) {
    auto v = std::to_integer<unsigned>(in[i]) << 16;
    if (rest == 2) v |= std::to_integer<unsigned>(in[i + 1]) << 8;
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += rest == 2 ? b64_alphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Decodes into `out` exactly; false on a bad character, bad padding or a different length.
bool base64_decode_exact(std::string_view in, std::span<std::byte> out) noexcept {
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  std::size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6 | static_cast<unsigned>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == out.size()) return false;
      out[n++] = static_cast<std::byte>(acc >> bits & 0xff);
    }
  }
  // Leftover bits must be zero padding (fewer than 8 of them).
  return n == out.size() && (acc & ((1u << bits) - 1)) == 0;
}

// --- libsrtp2 ------------------------------------------------------------------------------

/// libsrtp2 keeps global state (its crypto kernel); srtp_init must run once before anything.
srtp_err_status_t init_once() noexcept {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  return status;
}

srtp_errc from_libsrtp(srtp_err_status_t s) noexcept {
  switch (s) {
  case srtp_err_status_ok:
    return srtp_errc::ok;
  case srtp_err_status_auth_fail:
    return srtp_errc::auth_failed;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old:
    return srtp_errc::replayed;
  case srtp_err_status_bad_param:
  case srtp_err_status_parse_err:
    return srtp_errc::malformed;
  default:
    return srtp_errc::failed;
  }
}

/// The RTP header's length (fixed part, CSRCs, extension), or 0 when the packet cannot hold it
/// or is not version 2. libsrtp2 checks this too; checking here keeps garbage away from it.
std::size_t rtp_header_length(std::span<const std::byte> p) noexcept {
  if (p.size() < rtp_header_min) return 0;
  const auto b0 = std::to_integer<unsigned>(p[0]);
  if (b0 >> 6 != 2) return 0;
  std::size_t len = rtp_header_min + 4 * (b0 & 0x0f);
  if (b0 & 0x10) { // header extension: 16-bit profile, 16-bit length in words
    if (p.size() < len + 4) return 0;
    len += 4 + 4 * (std::to_integer<std::size_t>(p[len + 2]) << 8 |
                    std::to_integer<std::size_t>(p[len + 3]));
  }
  return len <= p.size() ? len : 0;
}

bool is_rtcp_v2(std::span<const std::byte> p) noexcept {
  return p.size() >= rtcp_header_min && std::to_integer<unsigned>(p[0]) >> 6 == 2;
}

srtp_result run(srtp_err_status_t (*fn)(srtp_t, void*, int*), srtp_ctx_t_* ctx,
                std::span<std::byte> buffer, std::size_t length) noexcept {
  if (length > static_cast<std::size_t>(INT_MAX)) return {srtp_errc::malformed, 0};
  int len = static_cast<int>(length);
  const auto s = fn(ctx, buffer.data(), &len);
  if (s != srtp_err_status_ok || len < 0) return {from_libsrtp(s), 0};
  return {srtp_errc::ok, static_cast<std::size_t>(len)};
}

class srtp_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "srtp"; }
  std::string message(int ev) const override { return to_string(static_cast<srtp_errc>(ev)); }
};

} // namespace

// --- suites and keys -----------------------------------------------------------------------

std::string_view to_string(srtp_suite s) noexcept {
  switch (s) {
  case srtp_suite::aes_cm_128_hmac_sha1_80:
    return "AES_CM_128_HMAC_SHA1_80";
  case srtp_suite::aes_cm_128_hmac_sha1_32:
    return "AES_CM_128_HMAC_SHA1_32";
  }
  return "?";
}

std::optional<srtp_suite> parse_srtp_suite(std::string_view name) noexcept {
  for (auto s : {srtp_suite::aes_cm_128_hmac_sha1_80, srtp_suite::aes_cm_128_hmac_sha1_32})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

std::size_t srtp_tag_length(srtp_suite s) noexcept {
  return s == srtp_suite::aes_cm_128_hmac_sha1_32 ? 4 : 10;
}

result<srtp_key> generate_srtp_key(srtp_suite suite) {
  srtp_key key;
  key.suite = suite;
  std::size_t got = 0;
  while (got < key.master.size()) {
    const auto n = ::getrandom(key.master.data() + got, key.master.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errc::internal,
                        std::string("getrandom failed for an SRTP key: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  return key;
}

std::string format_key_params(const srtp_key& key) {
  return "inline:" + base64_encode(key.master);
}

result<srtp_key> parse_sdes_key(std::string_view suite_name, std::string_view key_params) {
  const auto suite = parse_srtp_suite(suite_name);
  if (!suite)
    return make_error(errc::invalid_argument,
                      "unsupported SRTP crypto suite '" + std::string(suite_name) + "'");
  if (key_params.find(';') != std::string_view::npos)
    return make_error(errc::invalid_argument, "several SDES keys in one a=crypto: not supported");
  constexpr std::string_view method = "inline:";
  if (key_params.substr(0, method.size()) != method)
    return make_error(errc::invalid_argument, "SDES key-params must start with 'inline:'");
  auto rest = key_params.substr(method.size());
  const auto bar = rest.find('|');
  const auto b64 = rest.substr(0, bar);
  if (bar != std::string_view::npos) {
    // Optional lifetime, then optional MKI:length. Lifetimes are "2^n" or decimal.
    auto params = rest.substr(bar + 1);
    const auto bar2 = params.find('|');
    const auto first = params.substr(0, bar2);
    const bool first_is_mki = first.find(':') != std::string_view::npos;
    if (first_is_mki || bar2 != std::string_view::npos)
      return make_error(errc::invalid_argument, "SDES MKI is not supported");
    if (first.empty() || first.find_first_not_of("0123456789^") != std::string_view::npos)
      return make_error(errc::invalid_argument,
                        "bad SDES key lifetime '" + std::string(first) + "'");
  }
  srtp_key key;
  key.suite = *suite;
  if (!base64_decode_exact(b64, key.master))
    return make_error(errc::invalid_argument,
                      "SDES inline key must be the base64 of 30 bytes (master key and salt)");
  return key;
}

// --- errors --------------------------------------------------------------------------------

const char* to_string(srtp_errc e) noexcept {
  switch (e) {
  case srtp_errc::ok:
    return "ok";
  case srtp_errc::auth_failed:
    return "SRTP authentication failed";
  case srtp_errc::replayed:
    return "SRTP packet replayed or too old";
  case srtp_errc::malformed:
    return "malformed RTP/RTCP packet";
  case srtp_errc::no_room:
    return "no room in the buffer for the SRTP trailer";
  case srtp_errc::failed:
    return "SRTP failure";
  }
  return "unknown SRTP error";
}

const std::error_category& srtp_category() noexcept {
  static const srtp_category_impl category;
  return category;
}

std::error_code make_error_code(srtp_errc e) noexcept {
  return {static_cast<int>(e), srtp_category()};
}

// --- sessions ------------------------------------------------------------------------------

result<srtp_session> srtp_session::create(const srtp_key& key, srtp_direction direction) {
  if (const auto s = init_once(); s != srtp_err_status_ok)
    return make_error(errc::internal, "libsrtp2 failed to initialise (status " +
                                          std::to_string(static_cast<int>(s)) + ")");
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (key.suite == srtp_suite::aes_cm_128_hmac_sha1_32)
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  else
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = direction == srtp_direction::inbound ? ssrc_any_inbound : ssrc_any_outbound;
  // libsrtp2 copies the key while deriving session keys; it never writes through this pointer.
  std::array<unsigned char, srtp_master_length> master;
  std::memcpy(master.data(), key.master.data(), master.size());
  policy.key = master.data();
  policy.window_size = 0; // libsrtp2's default: 128 packets
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;

  srtp_t ctx = nullptr;
  const auto s = srtp_create(&ctx, &policy);
  std::memset(master.data(), 0, master.size());
  if (s != srtp_err_status_ok)
    return make_error(errc::invalid_argument, "libsrtp2 refused the SRTP policy (status " +
                                                  std::to_string(static_cast<int>(s)) + ")");
  return srtp_session(ctx, direction, key.suite);
}

srtp_session::srtp_session(srtp_session&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr))
    , direction_(other.direction_)
    , suite_(other.suite_) {}

srtp_session& srtp_session::operator=(srtp_session&& other) noexcept {
  if (this != &other) {
    if (ctx_) srtp_dealloc(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    direction_ = other.direction_;
    suite_ = other.suite_;
  }
  return *this;
}

srtp_session::~srtp_session() {
  if (ctx_) srtp_dealloc(ctx_);
}

srtp_result srtp_session::protect_rtp(std::span<std::byte> buffer, std::size_t length) {
  if (!ctx_ || direction_ != srtp_direction::outbound) return {srtp_errc::failed, 0};
  if (length > buffer.size() || rtp_header_length(buffer.first(length)) == 0)
    return {srtp_errc::malformed, 0};
  if (buffer.size() - length < srtp_trailer_room) return {srtp_errc::no_room, 0};
  return run(&srtp_protect, ctx_, buffer, length);
}

srtp_result srtp_session::unprotect_rtp(std::span<std::byte> packet) {
  if (!ctx_ || direction_ != srtp_direction::inbound) return {srtp_errc::failed, 0};
  const auto header = rtp_header_length(packet);
  if (header == 0 || packet.size() < header + srtp_tag_length(suite_))
    return {srtp_errc::malformed, 0};
  return run(&srtp_unprotect, ctx_, packet, packet.size());
}

srtp_result srtp_session::protect_rtcp(std::span<std::byte> buffer, std::size_t length) {
  if (!ctx_ || direction_ != srtp_direction::outbound) return {srtp_errc::failed, 0};
  if (length > buffer.size() || !is_rtcp_v2(buffer.first(length))) return {srtp_errc::malformed, 0};
  if (buffer.size() - length < srtp_trailer_room) return {srtp_errc::no_room, 0};
  return run(&srtp_protect_rtcp, ctx_, buffer, length);
}

srtp_result srtp_session::unprotect_rtcp(std::span<std::byte> packet) {
  if (!ctx_ || direction_ != srtp_direction::inbound) return {srtp_errc::failed, 0};
  if (!is_rtcp_v2(packet) ||
      packet.size() < rtcp_header_min + srtcp_index_length + srtcp_tag_length)
    return {srtp_errc::malformed, 0};
  return run(&srtp_unprotect_rtcp, ctx_, packet, packet.size());
}

} // namespace gobi::rtp
