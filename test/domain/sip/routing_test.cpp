#include "domain/sip/routing.hpp"

#include <doctest/doctest.h>

using namespace gobi::sip;

TEST_CASE("sip routing: received and rport on the top Via, response destination") {
  message m;
  m.method = "INVITE";
  m.add_header("Via", "SIP/2.0/UDP phone.example.com:5062;branch=z9hG4bK1;rport");
  m.add_header("Via", "SIP/2.0/UDP other.example.com;branch=z9hG4bK0");
  stamp_received(m, "203.0.113.5", 40123);
  const auto top = m.top_via();
  REQUIRE(top.ok());
  CHECK(top->received() == "203.0.113.5");
  CHECK(top->rport() == 40123);
  CHECK(m.header_values("Via")[1] == "SIP/2.0/UDP other.example.com;branch=z9hG4bK0");
  const auto d = response_destination(*top);
  CHECK(d.host == "203.0.113.5");
  CHECK(d.port == 40123);

  // same host, no rport: untouched; destination is sent-by with the default port
  message n;
  n.add_header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2");
  stamp_received(n, "192.0.2.1", 5070);
  CHECK(*n.header("Via") == "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2");
  CHECK(response_destination(*n.top_via()).port == 5060);
  CHECK(response_destination(*parse_via("SIP/2.0/TLS a.example.com;branch=z9hG4bK3")).port == 5061);
  // received without rport keeps the sent-by port; maddr wins
  CHECK(
      response_destination(*parse_via("SIP/2.0/UDP a.example.com:5080;received=192.0.2.9")).port ==
      5080);
  CHECK(response_destination(*parse_via("SIP/2.0/UDP a.example.com;maddr=239.1.1.1;received=x"))
            .host == "239.1.1.1");
}
