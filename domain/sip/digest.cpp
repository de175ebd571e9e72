#include "domain/sip/digest.hpp"

#include "domain/sip/md5.hpp"
#include "domain/sip/text.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>

namespace gobi::sip {

using namespace text;

const char* to_string(digest_algorithm a) noexcept {
  switch (a) {
  case digest_algorithm::md5:
    return "MD5";
  case digest_algorithm::md5_sess:
    return "MD5-sess";
  case digest_algorithm::sha256:
    return "SHA-256";
  case digest_algorithm::sha256_sess:
    return "SHA-256-sess";
  }
  return "MD5";
}

std::optional<digest_algorithm> parse_digest_algorithm(std::string_view s) noexcept {
  if (iequals(s, "MD5")) return digest_algorithm::md5;
  if (iequals(s, "MD5-sess")) return digest_algorithm::md5_sess;
  if (iequals(s, "SHA-256")) return digest_algorithm::sha256;
  if (iequals(s, "SHA-256-sess")) return digest_algorithm::sha256_sess;
  return std::nullopt;
}

namespace {

std::string to_hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

bool is_sess(digest_algorithm a) {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess;
}

error auth_error(std::string msg) {
  return error{errc::bad_auth, std::move(msg)};
}

} // namespace

std::string digest_hash(digest_algorithm a, std::string_view data) {
  if (a == digest_algorithm::md5 || a == digest_algorithm::md5_sess) return md5::hex(data);
  std::array<unsigned char, crypto_hash_sha256_BYTES> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(out.data(), out.size());
}

std::optional<std::string> auth_header::get(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

result<auth_header> parse_auth_header(std::string_view value) {
  value = trim(value);
  auth_header h;
  std::size_t i = 0;
  while (i < value.size() && is_token_char(value[i]))
    ++i;
  if (i == 0) return auth_error("missing auth scheme");
  h.scheme = std::string(value.substr(0, i));
  auto ws = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  auto skip = [&] {
    while (i < value.size() && ws(value[i]))
      ++i;
  };
  skip();
  while (i < value.size()) {
    const auto name_start = i;
    while (i < value.size() && is_token_char(value[i]))
      ++i;
    if (i == name_start) return auth_error("bad auth parameter");
    std::string name(value.substr(name_start, i - name_start));
    skip();
    if (i >= value.size() || value[i] != '=') return auth_error("auth parameter without '='");
    ++i;
    skip();
    std::string v;
    if (i < value.size() && value[i] == '"') {
      const auto q = closing_quote(value, i);
      if (q == std::string_view::npos) return auth_error("unterminated quoted auth parameter");
      v = *unquote(value.substr(i, q - i + 1));
      i = q + 1;
    } else {
      const auto v_start = i;
      while (i < value.size() && value[i] != ',' && !ws(value[i]))
        ++i;
      v = std::string(value.substr(v_start, i - v_start));
    }
    h.params.emplace_back(std::move(name), std::move(v));
    skip();
    if (i < value.size()) {
      if (value[i] != ',') return auth_error("expected ',' between auth parameters");
      ++i;
      skip();
    }
  }
  return h;
}

result<digest_challenge> parse_challenge(std::string_view header_value) {
  auto h = parse_auth_header(header_value);
  if (!h) return std::move(h).err();
  if (!iequals(h->scheme, "Digest"))
    return error{errc::unsupported, "auth scheme " + h->scheme + " is not Digest"};
  digest_challenge c;
  const auto realm = h->get("realm");
  const auto nonce = h->get("nonce");
  if (!realm || !nonce) return auth_error("challenge without realm or nonce");
  c.realm = *realm;
  c.nonce = *nonce;
  c.opaque = h->get("opaque").value_or("");
  if (const auto a = h->get("algorithm")) {
    const auto alg = parse_digest_algorithm(*a);
    if (!alg) return error{errc::unsupported, "digest algorithm " + *a + " not supported"};
    c.algorithm = *alg;
  }
  if (const auto q = h->get("qop")) {
    for (auto piece : split_commas(*q)) {
      if (iequals(piece, "auth")) c.qop_auth = true;
      if (iequals(piece, "auth-int")) c.qop_auth_int = true;
    }
    if (!c.qop_auth && !c.qop_auth_int)
      return error{errc::unsupported, "qop " + *q + " not supported"};
  }
  c.stale = iequals(h->get("stale").value_or(""), "true");
  c.userhash = iequals(h->get("userhash").value_or(""), "true");
  return c;
}

std::string to_string(const digest_challenge& c) {
  std::string out = "Digest realm=" + quote(c.realm) + ", nonce=" + quote(c.nonce);
  if (!c.opaque.empty()) out += ", opaque=" + quote(c.opaque);
  out += ", algorithm=";
  out += to_string(c.algorithm);
  if (c.qop_auth || c.qop_auth_int) {
    std::string q = c.qop_auth ? "auth" : "";
    if (c.qop_auth_int) q += q.empty() ? "auth-int" : ",auth-int";
    out += ", qop=" + quote(q);
  }
  if (c.stale) out += ", stale=true";
  if (c.userhash) out += ", userhash=true";
  return out;
}

std::optional<digest_challenge> select_challenge(const std::vector<std::string>& header_values) {
  std::optional<digest_challenge> best;
  for (const auto& v : header_values) {
    auto c = parse_challenge(v);
    if (!c) continue;
    const bool sha =
        c->algorithm == digest_algorithm::sha256 || c->algorithm == digest_algorithm::sha256_sess;
    const bool best_sha = best && (best->algorithm == digest_algorithm::sha256 ||
                                   best->algorithm == digest_algorithm::sha256_sess);
    if (!best || (sha && !best_sha)) best = std::move(*c);
  }
  return best;
}

namespace {

std::string nc_hex(std::uint32_t nc) {
  std::array<char, 9> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x", nc);
  return std::string(buf.data(), 8);
}

/// The response value of RFC 7616 section 3.4.1.
std::string compute_response(digest_algorithm alg, std::string_view username,
                             std::string_view realm, std::string_view password,
                             std::string_view nonce, std::string_view cnonce, std::string_view nc,
                             std::string_view qop, std::string_view method, std::string_view uri,
                             std::string_view body) {
  auto H = [&](std::string_view s) { return digest_hash(alg, s); };
  auto cat = [](std::initializer_list<std::string_view> parts) {
    std::string s;
    bool first = true;
    for (auto p : parts) {
      if (!first) s += ':';
      s += p;
      first = false;
    }
    return s;
  };
  std::string ha1 = H(cat({username, realm, password}));
  if (is_sess(alg)) ha1 = H(cat({ha1, nonce, cnonce}));
  const std::string ha2 =
      qop == "auth-int" ? H(cat({method, uri, H(body)})) : H(cat({method, uri}));
  if (qop.empty()) return H(cat({ha1, nonce, ha2}));
  return H(cat({ha1, nonce, nc, cnonce, qop, ha2}));
}

} // namespace

std::string make_authorization(const digest_challenge& c, const digest_credentials& who,
                               const digest_request& req) {
  const std::string qop = c.qop_auth ? "auth" : c.qop_auth_int ? "auth-int" : "";
  const auto nc = nc_hex(req.nc);
  const auto response = compute_response(c.algorithm, who.username, c.realm, who.password, c.nonce,
                                         req.cnonce, nc, qop, req.method, req.uri, req.body);
  const auto username =
      c.userhash ? digest_hash(c.algorithm, who.username + ":" + c.realm) : who.username;
  std::string out = "Digest username=" + quote(username) + ", realm=" + quote(c.realm) +
                    ", nonce=" + quote(c.nonce) + ", uri=" + quote(req.uri) +
                    ", response=" + quote(response) + ", algorithm=" + to_string(c.algorithm);
  if (!qop.empty() || is_sess(c.algorithm)) out += ", cnonce=" + quote(req.cnonce);
  if (!c.opaque.empty()) out += ", opaque=" + quote(c.opaque);
  if (!qop.empty()) out += ", qop=" + qop + ", nc=" + nc;
  if (c.userhash) out += ", userhash=true";
  return out;
}

result<digest_authorization> parse_authorization(std::string_view header_value) {
  auto h = parse_auth_header(header_value);
  if (!h) return std::move(h).err();
  if (!iequals(h->scheme, "Digest"))
    return error{errc::unsupported, "auth scheme " + h->scheme + " is not Digest"};
  digest_authorization a;
  const auto need = [&](std::string_view name, std::string& into) {
    auto v = h->get(name);
    if (!v) return false;
    into = std::move(*v);
    return true;
  };
  if (!need("username", a.username) || !need("realm", a.realm) || !need("nonce", a.nonce) ||
      !need("uri", a.uri) || !need("response", a.response))
    return auth_error("Authorization lacks username, realm, nonce, uri or response");
  need("cnonce", a.cnonce);
  need("nc", a.nc);
  need("qop", a.qop);
  need("opaque", a.opaque);
  if (const auto alg = h->get("algorithm")) {
    const auto parsed = parse_digest_algorithm(*alg);
    if (!parsed) return error{errc::unsupported, "digest algorithm " + *alg + " not supported"};
    a.algorithm = *parsed;
  }
  a.userhash = iequals(h->get("userhash").value_or(""), "true");
  if (!a.qop.empty() && (a.cnonce.empty() || a.nc.empty()))
    return auth_error("qop without cnonce or nc");
  if (!a.qop.empty() && a.qop != "auth" && a.qop != "auth-int")
    return error{errc::unsupported, "qop " + a.qop + " not supported"};
  return a;
}

bool verify_authorization(const digest_authorization& a, std::string_view username,
                          std::string_view password, std::string_view realm,
                          std::string_view method, std::string_view body) {
  if (a.realm != realm) return false;
  const auto expected_user =
      a.userhash ? digest_hash(a.algorithm, std::string(username) + ":" + std::string(realm))
                 : std::string(username);
  if (a.username != expected_user) return false;
  const auto expected = compute_response(a.algorithm, username, realm, password, a.nonce, a.cnonce,
                                         a.nc, a.qop, method, a.uri, body);
  if (expected.size() != a.response.size()) return false;
  std::string given = lower(a.response);
  return sodium_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

std::string make_nonce(std::string_view secret, std::int64_t now_s) {
  std::array<unsigned char, 8> t{};
  for (std::size_t i = 0; i < 8; ++i)
    t[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(now_s) >> (56 - 8 * i));
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&st, t.data(), t.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  return to_hex(t.data(), t.size()) + to_hex(mac.data(), 16);
}

nonce_check check_nonce(std::string_view secret, std::string_view nonce, std::int64_t now_s,
                        std::int64_t max_age_s) {
  if (nonce.size() != 48) return nonce_check::invalid;
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = nonce[i];
    if (!is_hex(c)) return nonce_check::invalid;
    t = (t << 4) | static_cast<std::uint64_t>(is_digit(c) ? c - '0' : lower(c) - 'a' + 10);
  }
  const auto issued = static_cast<std::int64_t>(t);
  const auto expected = make_nonce(secret, issued);
  if (sodium_memcmp(expected.data(), nonce.data(), expected.size()) != 0)
    return nonce_check::invalid;
  if (issued > now_s || now_s - issued > max_age_s) return nonce_check::stale;
  return nonce_check::valid;
}

} // namespace gobi::sip
