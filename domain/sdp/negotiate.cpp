#include "domain/sdp/negotiate.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>

namespace gobi::sdp {

const char* to_string(srtp_policy p) noexcept {
  switch (p) {
  case srtp_policy::off:
    return "off";
  case srtp_policy::optional:
    return "optional";
  case srtp_policy::required:
    return "required";
  }
  return "off";
}

std::optional<srtp_policy> parse_srtp_policy(std::string_view s) noexcept {
  if (s == "off") return srtp_policy::off;
  if (s == "optional") return srtp_policy::optional;
  if (s == "required") return srtp_policy::required;
  return std::nullopt;
}

const char* to_string(srtp_suite s) noexcept {
  switch (s) {
  case srtp_suite::aes_cm_128_hmac_sha1_80:
    return "AES_CM_128_HMAC_SHA1_80";
  case srtp_suite::aes_cm_128_hmac_sha1_32:
    return "AES_CM_128_HMAC_SHA1_32";
  }
  return "AES_CM_128_HMAC_SHA1_80";
}

codec pcmu() {
  return codec{"PCMU", 8000, 1, 0, ""};
}
codec pcma() {
  return codec{"PCMA", 8000, 1, 8, ""};
}
codec opus() {
  return codec{"opus", 48000, 2, 111, "useinbandfec=1"};
}

std::string encode_key(const srtp_key& k) {
  std::array<char, 64> buf{};
  sodium_bin2base64(buf.data(), buf.size(), k.data(), k.size(), sodium_base64_VARIANT_ORIGINAL);
  return std::string(buf.data());
}

std::optional<srtp_key> decode_key(std::string_view b64) {
  if (b64.size() != 40) return std::nullopt;
  srtp_key k{};
  std::size_t len = 0;
  if (sodium_base642bin(k.data(), k.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != k.size())
    return std::nullopt;
  return k;
}

std::string negotiated_media::describe() const {
  std::string s = codec + "/" + std::to_string(clock_rate) + "/" + std::to_string(channels) +
                  " pt=" + std::to_string(payload_type) + " ptime=" + std::to_string(ptime_ms);
  s += " te=" + (telephone_event_pt ? std::to_string(*telephone_event_pt) : std::string("none"));
  s += " ";
  s += to_string(direction);
  if (remote_hold) s += " remote-hold";
  s += " rtp=" + remote_address + ":" + std::to_string(remote_rtp_port) +
       " rtcp=" + std::to_string(remote_rtcp_port);
  s += " srtp=";
  if (srtp) {
    s += to_string(srtp->suite);
    s += " tx=" + encode_key(srtp->local_key) + " rx=" + encode_key(srtp->remote_key);
  } else {
    s += "off";
  }
  return s;
}

namespace {

error not_acceptable(std::string why) {
  return error{std::move(why), 0, 488};
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<srtp_suite> parse_suite(std::string_view s) {
  if (s == "AES_CM_128_HMAC_SHA1_80") return srtp_suite::aes_cm_128_hmac_sha1_80;
  if (s == "AES_CM_128_HMAC_SHA1_32") return srtp_suite::aes_cm_128_hmac_sha1_32;
  return std::nullopt;
}

/// A usable crypto line: known suite, one inline key of 30 bytes, no MKI, no session params.
struct usable_crypto {
  int tag;
  srtp_suite suite;
  srtp_key key;
};

std::optional<usable_crypto> usable(const crypto_line& c, const std::vector<srtp_suite>& ours) {
  const auto suite = parse_suite(c.suite);
  if (!suite || std::find(ours.begin(), ours.end(), *suite) == ours.end()) return std::nullopt;
  if (!c.session_params.empty()) return std::nullopt;
  std::string_view kp = c.key_params;
  if (kp.find(';') != std::string_view::npos) return std::nullopt; // several keys
  if (kp.substr(0, 7) != "inline:") return std::nullopt;
  kp.remove_prefix(7);
  const auto bar = kp.find('|');
  const auto b64 = kp.substr(0, bar);
  if (bar != std::string_view::npos) {
    // lifetime is fine; an MKI (contains ':') is not supported
    const auto extra = kp.substr(bar + 1);
    if (extra.find(':') != std::string_view::npos) return std::nullopt;
    if (extra.find('|') != std::string_view::npos) return std::nullopt;
  }
  const auto key = decode_key(b64);
  if (!key) return std::nullopt;
  return usable_crypto{c.tag, *suite, *key};
}

std::string crypto_value(int tag, srtp_suite suite, const srtp_key& key) {
  return std::to_string(tag) + " " + to_string(suite) + " inline:" + encode_key(key);
}

bool is_plain_rtp(std::string_view proto) {
  return proto == "RTP/AVP";
}
bool is_srtp(std::string_view proto) {
  return proto == "RTP/SAVP";
}

const connection* media_connection(const session_description& s, const media_description& m) {
  if (m.connection) return &*m.connection;
  if (s.connection) return &*s.connection;
  return nullptr;
}

std::uint16_t rtcp_port_of(const media_description& m) {
  if (const auto v = m.attribute_value("rtcp")) {
    const auto sp = v->find(' ');
    if (const auto p = to_int(std::string_view(*v).substr(0, sp)); p && *p > 0 && *p <= 65535)
      return static_cast<std::uint16_t>(*p);
  }
  return static_cast<std::uint16_t>(m.port + 1);
}

void add_rtpmap(media_description& m, int pt, const std::string& name, std::uint32_t clock,
                int channels, const std::string& fmtp) {
  std::string v = std::to_string(pt) + " " + name + "/" + std::to_string(clock);
  if (channels != 1) v += "/" + std::to_string(channels);
  m.attributes.push_back({"rtpmap", v});
  if (!fmtp.empty()) m.attributes.push_back({"fmtp", std::to_string(pt) + " " + fmtp});
}

session_description skeleton(const local_endpoint& local) {
  session_description s;
  const std::string addrtype = local.ipv6() ? "IP6" : "IP4";
  s.origin = origin{local.username, local.session_id, local.session_version,
                    "IN",           addrtype,         local.address};
  s.name = local.session_name;
  s.connection = connection{"IN", addrtype, local.address};
  s.times = {"0 0"};
  return s;
}

/// Which of our codecs an offered format is, if any.
const codec* match_codec(const rtpmap& r, const std::vector<codec>& ours) {
  for (const auto& c : ours)
    if (ieq(c.name, r.encoding) && c.clock_rate == r.clock_rate &&
        (c.channels == r.channels || (ieq(c.name, "opus") && r.channels == 2)))
      return &c;
  return nullptr;
}

/// The telephone-event format of `m` at `clock`, if listed in `formats`.
std::optional<int> telephone_event_at(const media_description& m, std::uint32_t clock) {
  for (const auto& f : m.formats) {
    const auto pt = to_int(f);
    if (!pt) continue;
    const auto r = m.rtpmap_for(*pt);
    if (r && ieq(r->encoding, "telephone-event") && r->clock_rate == clock) return pt;
  }
  return std::nullopt;
}

int sane_ptime(const media_description& m, int ours) {
  const auto p = m.ptime();
  return p && *p >= 10 && *p <= 120 ? *p : ours;
}

} // namespace

session_description make_offer(const capabilities& caps, const local_endpoint& local,
                               srtp_policy policy, const std::vector<srtp_key>& keys,
                               direction dir) {
  auto s = skeleton(local);
  media_description m;
  m.media = "audio";
  m.port = local.rtp_port;
  m.proto = policy == srtp_policy::required ? "RTP/SAVP" : "RTP/AVP";
  bool has_8k = false, has_48k = false;
  for (const auto& c : caps.codecs) {
    m.formats.push_back(std::to_string(c.payload_type));
    has_8k = has_8k || c.clock_rate == 8000;
    has_48k = has_48k || c.clock_rate == 48000;
  }
  for (const auto& c : caps.codecs)
    add_rtpmap(m, c.payload_type, c.name, c.clock_rate, c.channels, c.fmtp);
  if (caps.telephone_event) {
    if (has_8k) {
      m.formats.push_back(std::to_string(caps.telephone_event_pt_8000));
      add_rtpmap(m, caps.telephone_event_pt_8000, "telephone-event", 8000, 1, "0-16");
    }
    if (has_48k) {
      m.formats.push_back(std::to_string(caps.telephone_event_pt_48000));
      add_rtpmap(m, caps.telephone_event_pt_48000, "telephone-event", 48000, 1, "0-16");
    }
  }
  m.attributes.push_back({"ptime", std::to_string(caps.ptime_ms)});
  if (policy != srtp_policy::off)
    for (std::size_t i = 0; i < caps.srtp_suites.size() && i < keys.size(); ++i)
      m.attributes.push_back(
          {"crypto", crypto_value(static_cast<int>(i) + 1, caps.srtp_suites[i], keys[i])});
  m.attributes.push_back({to_string(dir), std::nullopt});
  s.media.push_back(std::move(m));
  return s;
}

result<answer> answer_offer(const session_description& offer, const capabilities& caps,
                            const local_endpoint& local, srtp_policy policy, const srtp_key& key) {
  answer out;
  out.sdp = skeleton(local);
  std::optional<error> first_failure;
  bool accepted = false;

  for (const auto& om : offer.media) {
    media_description am;
    am.media = om.media;
    am.proto = om.proto;
    am.formats = om.formats;
    am.port = 0; // rejected unless accepted below

    auto reject = [&](std::string why) {
      if (!first_failure) first_failure = not_acceptable(std::move(why));
    };
    if (accepted || om.media != "audio" || om.port == 0) {
      if (!accepted && om.media == "audio" && om.port == 0)
        reject("audio stream disabled by the offer");
      out.sdp.media.push_back(std::move(am));
      continue;
    }
    if (!is_plain_rtp(om.proto) && !is_srtp(om.proto)) {
      reject("transport " + om.proto + " not supported");
      out.sdp.media.push_back(std::move(am));
      continue;
    }
    // SRTP decision
    std::optional<usable_crypto> crypto;
    const auto offered_cryptos = om.cryptos();
    for (const auto& c : offered_cryptos)
      if ((crypto = usable(c, caps.srtp_suites))) break;
    bool use_srtp = false;
    if (is_srtp(om.proto)) {
      if (policy == srtp_policy::off) {
        reject("RTP/SAVP offered but SRTP is off");
      } else if (!crypto) {
        reject(offered_cryptos.empty() ? "RTP/SAVP offered without a=crypto"
                                       : "no supported SRTP crypto suite offered");
      } else {
        use_srtp = true;
      }
    } else if (policy == srtp_policy::required) {
      if (crypto)
        use_srtp = true; // best-effort SRTP on RTP/AVP: the media is encrypted all the same
      else
        reject("SRTP required but RTP/AVP offered without a usable a=crypto");
    } else if (policy == srtp_policy::optional && crypto) {
      use_srtp = true;
    }
    if ((is_srtp(om.proto) && !use_srtp) || (policy == srtp_policy::required && !use_srtp)) {
      out.sdp.media.push_back(std::move(am));
      continue;
    }
    // codec: the offerer's order, first one we support
    const codec* chosen = nullptr;
    int chosen_pt = -1;
    for (const auto& f : om.formats) {
      const auto pt = to_int(f);
      if (!pt) continue;
      const auto r = om.rtpmap_for(*pt);
      if (!r) continue;
      if (const auto* c = match_codec(*r, caps.codecs)) {
        chosen = c;
        chosen_pt = *pt;
        break;
      }
    }
    if (!chosen) {
      reject("no common codec");
      out.sdp.media.push_back(std::move(am));
      continue;
    }
    const auto* conn = media_connection(offer, om);
    if (!conn) {
      reject("no c= line for the audio stream");
      out.sdp.media.push_back(std::move(am));
      continue;
    }

    auto& n = out.media;
    n.codec = chosen->name;
    n.payload_type = chosen_pt;
    n.clock_rate = chosen->clock_rate;
    n.channels = chosen->channels;
    n.ptime_ms = sane_ptime(om, caps.ptime_ms);
    if (caps.telephone_event) n.telephone_event_pt = telephone_event_at(om, chosen->clock_rate);
    n.remote_address = conn->address.substr(0, conn->address.find('/'));
    n.remote_rtp_port = om.port;
    n.remote_rtcp_port = rtcp_port_of(om);
    const auto offered_dir = om.direction_or(offer.direction());
    n.remote_hold =
        offered_dir == direction::sendonly || offered_dir == direction::inactive || conn->is_null();
    direction answer_dir = reverse(offered_dir);
    if (conn->is_null() && answer_dir == direction::sendrecv) answer_dir = direction::recvonly;
    if (conn->is_null() && answer_dir == direction::sendonly) answer_dir = direction::inactive;
    n.direction = answer_dir;
    if (use_srtp) n.srtp = srtp_params{crypto->suite, key, crypto->key};

    am.port = local.rtp_port;
    am.formats = {std::to_string(chosen_pt)};
    add_rtpmap(am, chosen_pt, chosen->name, chosen->clock_rate, chosen->channels, chosen->fmtp);
    if (n.telephone_event_pt) {
      am.formats.push_back(std::to_string(*n.telephone_event_pt));
      add_rtpmap(am, *n.telephone_event_pt, "telephone-event", chosen->clock_rate, 1, "0-16");
    }
    am.attributes.push_back({"ptime", std::to_string(caps.ptime_ms)});
    if (use_srtp)
      am.attributes.push_back({"crypto", crypto_value(crypto->tag, crypto->suite, key)});
    am.attributes.push_back({to_string(answer_dir), std::nullopt});
    accepted = true;
    out.sdp.media.push_back(std::move(am));
  }
  if (!accepted) return first_failure.value_or(not_acceptable("no audio stream offered"));
  return out;
}

result<negotiated_media> process_answer(const session_description& our_offer,
                                        const session_description& ans, srtp_policy policy,
                                        const std::vector<srtp_key>& keys,
                                        const capabilities& caps) {
  if (our_offer.media.empty()) return not_acceptable("our offer has no media");
  if (ans.media.size() != our_offer.media.size())
    return not_acceptable("the answer has " + std::to_string(ans.media.size()) +
                          " m-lines for our " + std::to_string(our_offer.media.size()));
  const auto& om = our_offer.media.front();
  const auto& am = ans.media.front();
  if (am.port == 0) return not_acceptable("the audio stream was rejected");
  if (am.proto != om.proto)
    return not_acceptable("the answer changed the transport to " + am.proto);
  negotiated_media n;
  // codec: first answered format that we offered
  bool found = false;
  for (const auto& f : am.formats) {
    const auto pt = to_int(f);
    if (!pt) continue;
    if (std::find(om.formats.begin(), om.formats.end(), f) == om.formats.end()) continue;
    const auto r = om.rtpmap_for(*pt);
    if (!r || ieq(r->encoding, "telephone-event")) continue;
    const auto* c = match_codec(*r, caps.codecs);
    if (!c) continue;
    n.codec = c->name;
    n.payload_type = *pt;
    n.clock_rate = c->clock_rate;
    n.channels = c->channels;
    found = true;
    break;
  }
  if (!found) return not_acceptable("the answer holds none of our codecs");
  if (caps.telephone_event) n.telephone_event_pt = telephone_event_at(am, n.clock_rate);
  const auto* conn = media_connection(ans, am);
  if (!conn) return not_acceptable("no c= line in the answer");
  n.remote_address = conn->address.substr(0, conn->address.find('/'));
  n.remote_rtp_port = am.port;
  n.remote_rtcp_port = rtcp_port_of(am);
  n.ptime_ms = sane_ptime(am, caps.ptime_ms);
  const auto offered_dir = om.direction_or(our_offer.direction());
  const auto answered_dir = am.direction_or(ans.direction());
  n.direction = reverse(answered_dir);
  if (answered_dir == direction::sendrecv) n.direction = offered_dir;
  n.remote_hold =
      answered_dir == direction::sendonly || answered_dir == direction::inactive || conn->is_null();

  const auto answered_cryptos = am.cryptos();
  if (policy != srtp_policy::off && !answered_cryptos.empty()) {
    const auto& c = answered_cryptos.front();
    const auto tag = static_cast<std::size_t>(c.tag);
    if (tag < 1 || tag > caps.srtp_suites.size() || tag > keys.size())
      return not_acceptable("the answer's a=crypto tag " + std::to_string(c.tag) +
                            " is not one we offered");
    const auto got = usable(c, caps.srtp_suites);
    if (!got || got->suite != caps.srtp_suites[tag - 1])
      return not_acceptable("the answer's a=crypto does not match our offer");
    n.srtp = srtp_params{got->suite, keys[tag - 1], got->key};
  } else if (policy == srtp_policy::required) {
    return not_acceptable("SRTP required but the answer has no a=crypto");
  }
  return n;
}

} // namespace gobi::sdp
