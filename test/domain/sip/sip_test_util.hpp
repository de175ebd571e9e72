#pragma once

// Helpers for the SIP tests: reading golden files in RFC 4475 notation.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace sip_test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

/// Expands RFC 4475 notation (section 2) and turns LF line ends into CRLF.
inline std::string expand_rfc4475(const std::string& text) {
  std::string joined;
  {
    std::istringstream in(text);
    std::string line;
    bool one_line = false;
    while (std::getline(in, line)) {
      if (line == "<allOneLine>") {
        one_line = true;
        continue;
      }
      if (line == "</allOneLine>") {
        one_line = false;
        joined += "\n";
        continue;
      }
      joined += line;
      if (!one_line) joined += "\n";
    }
  }
  std::string out;
  for (std::size_t i = 0; i < joined.size();) {
    if (joined.compare(i, 14, "<repeat count=") == 0) {
      const auto gt = joined.find('>', i);
      const int count = std::stoi(joined.substr(i + 14, gt - i - 14));
      const auto end = joined.find("</repeat>", gt);
      const auto piece = joined.substr(gt + 1, end - gt - 1);
      for (int k = 0; k < count; ++k)
        out += piece;
      i = end + 9;
    } else if (joined.compare(i, 5, "<hex>") == 0) {
      const auto end = joined.find("</hex>", i);
      for (auto k = i + 5; k + 1 < end; k += 2)
        out += static_cast<char>(hex_digit(joined[k]) * 16 + hex_digit(joined[k + 1]));
      i = end + 6;
    } else if (joined[i] == '\n') {
      out += "\r\n";
      ++i;
    } else {
      out += joined[i++];
    }
  }
  return out;
}

struct golden_message {
  std::string name;
  std::string expect; ///< "valid", "400", "505", "drop ..."
  std::string bytes;
};

/// A file of `# key: value` lines followed by a message in RFC 4475 notation.
inline golden_message load_golden(const std::filesystem::path& p) {
  golden_message g;
  g.name = p.stem().string();
  const auto text = read_file(p);
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] == '#') {
    const auto nl = text.find('\n', pos);
    const auto line = text.substr(pos, nl - pos);
    if (line.rfind("# expect: ", 0) == 0) g.expect = line.substr(10);
    pos = nl + 1;
  }
  g.bytes = expand_rfc4475(text.substr(pos));
  return g;
}

inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir,
                                                   const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace sip_test
