#include "domain/csv.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using gobi::csv::reader;
using gobi::csv::record;

struct row {
  std::size_t line;
  std::vector<std::string> fields;
  friend bool operator==(const row&, const row&) = default;
};

std::vector<row> read_all(std::string_view text, std::string* error = nullptr, char delim = ',') {
  reader r{text, delim};
  record rec;
  std::vector<row> out;
  while (r.next(rec)) {
    if (!r.error().empty()) {
      if (error)
        *error = r.error();
      break;
    }
    out.push_back({rec.line, rec.fields});
  }
  return out;
}

} // namespace

namespace doctest {
template <>
struct StringMaker<row> {
  static String convert(const row& r) {
    std::string s = "line " + std::to_string(r.line) + ":";
    for (const auto& f : r.fields)
      s += " [" + f + "]";
    return s.c_str();
  }
};
} // namespace doctest

TEST_CASE("csv: records, quoting, line ends and blank lines") {
  struct test_case {
    const char* name;
    std::string input;
    std::vector<row> expected;
  };
  const std::vector<test_case> cases{
    {"simple", "a,b,c\n1,2,3\n", {{1, {"a", "b", "c"}}, {2, {"1", "2", "3"}}}},
    {"no final newline", "a,b\n1,2", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
    {"CRLF", "a,b\r\n1,2\r\n", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
    {"CR only", "a,b\r1,2\r", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
    {"BOM", "\xEF\xBB\xBFphone,name\n1,x\n", {{1, {"phone", "name"}}, {2, {"1", "x"}}}},
    {"blank lines skipped, lines still counted", "a\n\n\r\n  \nb\n", {{1, {"a"}}, {5, {"b"}}}},
    {"empty fields", ",a,,\n", {{1, {"", "a", "", ""}}}},
    {"quoted comma", "\"Acme, Inc.\",x\n", {{1, {"Acme, Inc.", "x"}}}},
    {"doubled quote", "\"say \"\"hi\"\"\",x\n", {{1, {"say \"hi\"", "x"}}}},
    {"empty quoted", "\"\",x\n", {{1, {"", "x"}}}},
    {"embedded newline counts lines", "\"two\nlines\",x\nnext,y\n",
     {{1, {"two\nlines", "x"}}, {3, {"next", "y"}}}},
    {"embedded CRLF kept", "\"a\r\nb\"\r\nc\r\n", {{1, {"a\r\nb"}}, {3, {"c"}}}},
    {"space before opening quote", "a, \"b,c\"\n", {{1, {"a", "b,c"}}}},
    {"text after closing quote kept", "\"ab\"cd,e\n", {{1, {"abcd", "e"}}}},
    {"spaces after closing quote dropped", "\"ab\"  ,e\n", {{1, {"ab", "e"}}}},
    {"quote inside unquoted field is literal", "ab\"c,d\n", {{1, {"ab\"c", "d"}}}},
    {"spaces kept in unquoted fields", " a , b \n", {{1, {" a ", " b "}}}},
    {"quoted field at end of input", "a,\"b\"", {{1, {"a", "b"}}}},
    {"utf-8 passes through", "Zo\xC3\xAB,\xE6\x97\xA5\n", {{1, {"Zo\xC3\xAB", "\xE6\x97\xA5"}}}},
    {"only blank lines", "\n\r\n\n", {}},
    {"empty input", "", {}},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    std::string error;
    CHECK(read_all(c.input, &error) == c.expected);
    CHECK(error.empty());
  }
}

TEST_CASE("csv: unterminated quote names the line where the record starts") {
  struct test_case {
    std::string input;
    std::size_t rows_before;
    std::string error;
  };
  const std::vector<test_case> cases{
    {"a,b\n1,\"oops\n2,3\n", 1, "unterminated quoted field starting on line 2"},
    {"\"never closed", 0, "unterminated quoted field starting on line 1"},
    {"x\n\n\ny,\"z\"\"\n", 1, "unterminated quoted field starting on line 4"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    reader r{c.input};
    record rec;
    std::size_t rows = 0;
    bool saw_error = false;
    while (r.next(rec)) {
      if (!r.error().empty()) {
        saw_error = true;
        break;
      }
      ++rows;
    }
    CHECK(saw_error);
    CHECK(rows == c.rows_before);
    CHECK(r.error() == c.error);
    CHECK_FALSE(r.next(rec)); // nothing more is read after an error
  }
}

TEST_CASE("csv: other delimiters") {
  CHECK(read_all("a;b;\"c;d\"\n", nullptr, ';') == std::vector<row>{{1, {"a", "b", "c;d"}}});
  CHECK(read_all("a\tb\n\t\n", nullptr, '\t')
        == std::vector<row>{{1, {"a", "b"}}, {2, {"", ""}}});
}

TEST_CASE("csv: resuming at a recorded offset reads the same records") {
  const std::string text = "h1,h2\n1,\"a\nb\"\n\n2,x\n3,y\n";
  reader whole{text};
  record rec;
  REQUIRE(whole.next(rec));
  REQUIRE(whole.next(rec)); // record on line 2 spans two lines
  const auto offset = whole.offset();
  const auto line = whole.line();
  CHECK(line == 4);
  reader part{text, ',', offset, line};
  std::vector<row> rest;
  while (part.next(rec))
    rest.push_back({rec.line, rec.fields});
  CHECK(rest == std::vector<row>{{5, {"2", "x"}}, {6, {"3", "y"}}});
}

TEST_CASE("csv: one record object is reused across rows of different widths") {
  reader r{"a,b,c\n1\n4,5,6,7\n"};
  record rec;
  std::vector<std::size_t> widths;
  while (r.next(rec))
    widths.push_back(rec.fields.size());
  CHECK(widths == std::vector<std::size_t>{3, 1, 4});
}
