#include "domain/sip/routing.hpp"

#include "domain/sip/text.hpp"

namespace gobi::sip {

void stamp_received(message& request, std::string_view source_ip, std::uint16_t source_port) {
  for (auto& h : request.headers) {
    if (h.name != "Via") continue;
    auto v = parse_via(h.value);
    if (!v) return;
    if (!text::iequals(v->host, source_ip))
      set_param(v->params, "received", std::string(source_ip));
    if (v->rport()) {
      set_param(v->params, "rport", std::to_string(source_port));
      if (!find_param(v->params, "received"))
        set_param(v->params, "received", std::string(source_ip));
    }
    h.value = v->to_string();
    return; // only the top Via
  }
}

destination response_destination(const via& top) {
  const std::uint16_t default_port = top.transport == "TLS" ? 5061 : 5060;
  destination d;
  d.port = top.port.value_or(default_port);
  if (const auto* maddr = find_param(top.params, "maddr"); maddr && maddr->value) {
    d.host = *maddr->value;
    return d;
  }
  if (const auto received = top.received()) {
    d.host = *received;
    if (const auto rp = top.rport(); rp && *rp != 0) d.port = *rp;
    return d;
  }
  d.host = top.host;
  return d;
}

} // namespace gobi::sip
