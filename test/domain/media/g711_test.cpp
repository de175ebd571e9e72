#include "domain/media/g711.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace gobi::media;

namespace {

std::string data_file(const std::string& name) {
  return std::string{GOBI_TEST_DATA} + "/media/" + name;
}

/// code -> sample, from a golden file (produced by CPython's audioop, an independent
/// implementation of G.711).
std::map<int, int> read_decode_golden(const std::string& name) {
  std::ifstream f(data_file(name));
  std::map<int, int> m;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    int code = 0, sample = 0;
    in >> std::hex >> code >> std::dec >> sample;
    m[code] = sample;
  }
  return m;
}

/// The expected code for every 16-bit sample, expanded from a golden file of runs.
std::vector<std::uint8_t> read_encode_golden(const std::string& name) {
  std::ifstream f(data_file(name));
  std::vector<std::pair<int, int>> runs;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    int first = 0, code = 0;
    in >> first >> std::hex >> code;
    runs.emplace_back(first, code);
  }
  std::vector<std::uint8_t> codes(65536);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const int end = r + 1 < runs.size() ? runs[r + 1].first : 32768;
    for (int s = runs[r].first; s < end; ++s)
      codes[static_cast<std::size_t>(s + 32768)] = static_cast<std::uint8_t>(runs[r].second);
  }
  return codes;
}

} // namespace

TEST_CASE("media g711: every code decodes as in the reference tables") {
  struct row {
    const char* file;
    std::int16_t (*decode)(std::uint8_t);
  };
  for (const auto& r :
       {row{"g711_mu_decode.txt", g711::decode_mu}, row{"g711_a_decode.txt", g711::decode_a}}) {
    CAPTURE(r.file);
    const auto golden = read_decode_golden(r.file);
    REQUIRE(golden.size() == 256);
    for (const auto& [code, sample] : golden) {
      CAPTURE(code);
      CHECK(r.decode(static_cast<std::uint8_t>(code)) == sample);
    }
  }
}

TEST_CASE("media g711: every 16-bit sample encodes as in the reference") {
  struct row {
    const char* file;
    std::uint8_t (*encode)(std::int16_t);
  };
  for (const auto& r : {row{"g711_mu_encode_runs.txt", g711::encode_mu},
                        row{"g711_a_encode_runs.txt", g711::encode_a}}) {
    CAPTURE(r.file);
    const auto golden = read_encode_golden(r.file);
    int mismatches = 0;
    for (int s = -32768; s <= 32767; ++s) {
      const auto expected = golden[static_cast<std::size_t>(s + 32768)];
      if (r.encode(static_cast<std::int16_t>(s)) != expected && ++mismatches <= 5) {
        CAPTURE(s);
        CHECK(int{r.encode(static_cast<std::int16_t>(s))} == int{expected});
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("media g711: all 256 codes survive decode then encode") {
  for (int c = 0; c < 256; ++c) {
    CAPTURE(c);
    const auto code = static_cast<std::uint8_t>(c);
    CHECK(g711::encode_a(g711::decode_a(code)) == code);
    // mu-law has two zeros (0xFF and 0x7F); zero encodes as the positive one.
    if (code != 0x7F)
      CHECK(g711::encode_mu(g711::decode_mu(code)) == code);
    else
      CHECK(g711::encode_mu(g711::decode_mu(code)) == 0xFF);
  }
}

TEST_CASE("media g711: known values from the recommendation") {
  // Silence, the largest magnitudes, and the smallest step.
  CHECK(g711::encode_mu(0) == 0xFF);
  CHECK(g711::encode_a(0) == 0xD5);
  CHECK(g711::silence_code(g711::law::mu) == 0xFF);
  CHECK(g711::silence_code(g711::law::a) == 0xD5);
  CHECK(g711::decode_mu(0x80) == 32124);
  CHECK(g711::decode_mu(0x00) == -32124);
  CHECK(g711::decode_mu(0xFF) == 0);
  CHECK(g711::decode_mu(0xFE) == 8);
  CHECK(g711::decode_a(0xAA) == 32256);
  CHECK(g711::decode_a(0x2A) == -32256);
  CHECK(g711::decode_a(0xD5) == 8);
  CHECK(g711::decode_a(0x55) == -8);
  CHECK(g711::encode_mu(32767) == 0x80);
  CHECK(g711::encode_mu(-32768) == 0x00);
  CHECK(g711::encode_a(32767) == 0xAA);
  CHECK(g711::encode_a(-32768) == 0x2A);

  // Span forms work on the shorter of the two.
  const std::array<std::int16_t, 4> in{0, 1000, -1000, 32767};
  std::array<std::uint8_t, 3> codes{};
  CHECK(g711::encode(g711::law::mu, in, codes) == 3);
  std::array<std::int16_t, 3> back{};
  CHECK(g711::decode(g711::law::mu, codes, back) == 3);
  CHECK(back[0] == 0);
  CHECK(back[1] > 900);
  CHECK(back[2] < -900);
}
