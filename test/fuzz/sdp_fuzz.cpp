// libFuzzer target: the SDP parser and offer/answer. Properties beyond "no crash": what
// parses serialises to text that parses again to the same text; answers we build parse.

#include "domain/sdp/negotiate.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace gobi::sdp;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto s = parse(text);
  if (!s) return 0;
  const auto wire = to_string(*s);
  const auto again = parse(wire);
  check(again.ok());
  check(to_string(*again) == wire);

  const local_endpoint local{"192.0.2.10", 30000, "1", "1", "gobi", "gobi"};
  const srtp_key key{};
  const std::vector<srtp_key> keys{srtp_key{}, srtp_key{}};
  for (auto policy : {srtp_policy::off, srtp_policy::optional, srtp_policy::required}) {
    const auto a = answer_offer(*s, {}, local, policy, key);
    if (a) {
      check(parse(to_string(a->sdp)).ok());
      check(a->sdp.media.size() == s->media.size());
      (void)a->media.describe();
    } else {
      check(a.err().sip_status == 488);
    }
    const auto offer = make_offer({}, local, policy, keys);
    (void)process_answer(offer, *s, policy, keys);
  }
  return 0;
}
