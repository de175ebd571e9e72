// Golden-file tests for SDP negotiation: every test/data/sdp/*.sdp file is
//   # comment and `# key: value` header lines (mode, policy, codecs)
//   section 1
//   ----
//   section 2
//   [----
//   section 3]
// mode answer (default): section 1 is the offer, section 2 our answer or "488 <reason>",
//   section 3 (optional) the negotiated media's describe().
// mode offer: section 1 is empty, section 2 our offer.
// mode process: our offer comes from the header, section 1 is the peer's answer, section 2 the
//   negotiated media's describe() or "488 <reason>".
// With GOBI_UPDATE_GOLDEN=1 the expected sections are rewritten from the actual output (review
// the diff before committing).

#include "domain/sdp/negotiate.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace gobi::sdp;

namespace {

const std::filesystem::path dir = std::filesystem::path(GOBI_TEST_DATA) / "sdp";

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string to_crlf(const std::string& lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string to_lf(const std::string& crlf) {
  std::string out;
  for (char c : crlf)
    if (c != '\r') out += c;
  return out;
}

srtp_key key_from(std::uint8_t first) {
  srtp_key k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(first + i);
  return k;
}

struct golden {
  std::vector<std::string> header;
  std::map<std::string, std::string> params;
  std::vector<std::string> sections;
};

golden load(const std::filesystem::path& p) {
  golden g;
  std::istringstream in(read(p));
  std::string line;
  std::string current;
  bool in_header = true;
  while (std::getline(in, line)) {
    if (in_header && !line.empty() && line[0] == '#') {
      g.header.push_back(line);
      const auto colon = line.find(':');
      if (colon != std::string::npos && line.find(' ', 2) > colon) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        g.params[line.substr(2, colon - 2)] = v;
      }
      continue;
    }
    in_header = false;
    if (line == "----") {
      g.sections.push_back(current);
      current.clear();
      continue;
    }
    current += line + "\n";
  }
  g.sections.push_back(current);
  return g;
}

void save(const std::filesystem::path& p, const golden& g) {
  std::ofstream out(p, std::ios::binary);
  for (const auto& h : g.header)
    out << h << "\n";
  for (std::size_t i = 0; i < g.sections.size(); ++i) {
    if (i) out << "----\n";
    out << g.sections[i];
  }
}

capabilities caps_from(const golden& g) {
  capabilities caps;
  if (const auto it = g.params.find("codecs"); it != g.params.end()) {
    caps.codecs.clear();
    std::istringstream s(it->second);
    std::string name;
    while (s >> name) {
      if (name == "PCMU")
        caps.codecs.push_back(pcmu());
      else if (name == "PCMA")
        caps.codecs.push_back(pcma());
      else if (name == "opus")
        caps.codecs.push_back(opus());
      else
        FAIL("unknown codec in header: " << name);
    }
  }
  return caps;
}

const local_endpoint local{"192.0.2.10", 30000, "4000", "4000", "gobi", "gobi"};
const srtp_key answer_key = key_from(1);
const std::vector<srtp_key> offer_keys{key_from(1), key_from(101)};

} // namespace

TEST_CASE("sdp golden files: offers, answers and answer processing") {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sdp") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);
  const bool update = std::getenv("GOBI_UPDATE_GOLDEN") != nullptr;

  for (const auto& f : files) {
    auto g = load(f);
    CAPTURE(f.filename().string());
    REQUIRE(g.sections.size() >= 2);
    const auto mode = g.params.count("mode") ? g.params["mode"] : std::string("answer");
    const auto policy =
        parse_srtp_policy(g.params.count("policy") ? g.params["policy"] : "optional");
    REQUIRE(policy);
    const auto caps = caps_from(g);
    std::vector<std::string> actual;

    if (mode == "offer") {
      actual = {"", to_lf(to_string(make_offer(caps, local, *policy, offer_keys)))};
    } else if (mode == "answer") {
      const auto offer = parse(to_crlf(g.sections[0]));
      if (!offer) FAIL("offer does not parse: " << offer.err().to_string());
      const auto a = answer_offer(*offer, caps, local, *policy, answer_key);
      if (a) {
        actual = {g.sections[0], to_lf(to_string(a->sdp)), a->media.describe() + "\n"};
        // our answer parses back to the same text
        const auto again = parse(to_string(a->sdp));
        REQUIRE(again.ok());
        CHECK(to_string(*again) == to_string(a->sdp));
      } else {
        CHECK(a.err().sip_status == 488);
        actual = {g.sections[0], "488 " + a.err().message + "\n"};
      }
    } else if (mode == "process") {
      const auto offer = make_offer(caps, local, *policy, offer_keys);
      const auto ans = parse(to_crlf(g.sections[0]));
      if (!ans) FAIL("answer does not parse: " << ans.err().to_string());
      const auto n = process_answer(offer, *ans, *policy, offer_keys, caps);
      actual = {g.sections[0], n ? n->describe() + "\n" : "488 " + n.err().message + "\n"};
    } else {
      FAIL("unknown mode " << mode);
    }

    if (update) {
      g.sections = actual;
      save(f, g);
      continue;
    }
    for (std::size_t i = 1; i < g.sections.size(); ++i) {
      REQUIRE(i < actual.size());
      CHECK(actual[i] == g.sections[i]);
    }
  }
}
