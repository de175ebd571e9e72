#include "domain/csv.hpp"

#include <cstdint>
#include <cstring>

namespace gobi::csv {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

/// The first byte in [p, end) equal to `a`, `b` or `c` (end if none). Looks at eight bytes at
/// a time: most bytes of a CSV are ordinary, and this is the reader's inner loop.
const char* find_any(const char* p, const char* end, char a, char b, char c) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const auto splat = [](char x) { return ones * static_cast<unsigned char>(x); };
  const std::uint64_t ma = splat(a), mb = splat(b), mc = splat(c);
  // Non-zero iff some byte of x is zero.
  const auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    if (has_zero(w ^ ma) | has_zero(w ^ mb) | has_zero(w ^ mc))
      break;
    p += 8;
  }
  while (p != end && *p != a && *p != b && *p != c)
    ++p;
  return p;
}

} // namespace

reader::reader(std::string_view text, char delimiter) : reader(text, delimiter, 0, 1) {}

reader::reader(std::string_view text, char delimiter, std::size_t offset, std::size_t line)
  : text_(text), pos_(offset > text.size() ? text.size() : offset), line_(line),
    delim_(delimiter) {
  if (pos_ == 0 && text_.starts_with(utf8_bom))
    pos_ = utf8_bom.size();
}

bool reader::next(record& out) {
  if (!error_.empty())
    return false;
  const char* p = text_.data() + pos_;
  const char* const end = text_.data() + text_.size();

  // Skip blank lines (empty or only spaces/tabs that are not the delimiter).
  for (;;) {
    const char* q = p;
    while (q != end && (*q == ' ' || *q == '\t') && *q != delim_)
      ++q;
    if (q == end) {
      pos_ = text_.size();
      return false;
    }
    if (*q == '\n') {
      ++line_;
      p = q + 1;
    } else if (*q == '\r') {
      ++line_;
      p = q + 1;
      if (p != end && *p == '\n')
        ++p;
    } else {
      break;
    }
  }

  out.line = line_;
  std::size_t count = 0;
  for (;;) {
    if (count == out.fields.size())
      out.fields.emplace_back();
    std::string& field = out.fields[count++];
    field.clear();

    // Spreadsheets sometimes write `a, "b,c"`: spaces before an opening quote are dropped.
    const char* q = p;
    if (delim_ != ' ')
      while (q != end && *q == ' ')
        ++q;
    if (q != end && *q == '"') {
      p = q + 1;
      for (;;) {
        const char* r = find_any(p, end, '"', '\n', '\r');
        field.append(p, r);
        if (r == end) {
          error_ = "unterminated quoted field starting on line " + std::to_string(out.line);
          pos_ = text_.size();
          out.fields.resize(count);
          return true;
        }
        if (*r == '"') {
          if (r + 1 != end && r[1] == '"') {
            field.push_back('"');
            p = r + 2;
            continue;
          }
          p = r + 1;
          break;
        }
        // A line end inside quotes belongs to the field; count it as a line of the file.
        ++line_;
        if (*r == '\r' && r + 1 != end && r[1] == '\n') {
          field.append("\r\n");
          p = r + 2;
        } else {
          field.push_back(*r);
          p = r + 1;
        }
      }
      // Text after the closing quote (`"abc"def`) is kept, as spreadsheets do; spaces alone
      // are dropped.
      const char* r = p;
      bool only_spaces = true;
      while (r != end && *r != delim_ && *r != '\n' && *r != '\r') {
        only_spaces = only_spaces && *r == ' ';
        ++r;
      }
      if (!only_spaces)
        field.append(p, r);
      p = r;
    } else {
      const char* r = find_any(p, end, delim_, '\n', '\r');
      field.assign(p, r);
      p = r;
    }

    if (p == end)
      break;
    if (*p == delim_) {
      ++p;
      continue;
    }
    ++line_; // '\n', '\r' or "\r\n"
    if (*p == '\r' && p + 1 != end && p[1] == '\n')
      p += 2;
    else
      ++p;
    break;
  }
  out.fields.resize(count);
  pos_ = static_cast<std::size_t>(p - text_.data());
  return true;
}

} // namespace gobi::csv
