#include "transport/json/json.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace gobi;
using namespace gobi::json;

TEST_CASE("writer builds nested documents") {
  writer w;
  w.begin_object()
      .field("name", "Ada")
      .field("age", 36)
      .field("big", std::int64_t{-9223372036854775807 - 1})
      .field("ratio", 0.7)
      .field("ok", true)
      .key("nothing")
      .null()
      .key("list")
      .begin_array()
      .number(std::int64_t{1})
      .string("two")
      .begin_object()
      .end_object()
      .end_array()
      .end_object();
  CHECK(w.view() == R"({"name":"Ada","age":36,"big":-9223372036854775808,"ratio":0.7,"ok":true,)"
                    R"("nothing":null,"list":[1,"two",{}]})");
  std::string s = w.take();
  CHECK(s.front() == '{');
  CHECK(w.view().empty());
  w.begin_array().end_array(); // reusable after take()
  CHECK(w.take() == "[]");
}

TEST_CASE("doubles are written shortest and read back exactly") {
  struct row {
    double v;
    std::string_view text;
  };
  for (auto [v, text] : std::vector<row>{{0.7, "0.7"},
                                         {0.1 + 0.2, "0.30000000000000004"},
                                         {3.0, "3"},
                                         {-1.5, "-1.5"},
                                         {1e22, "1e+22"},
                                         {5e-324, "5e-324"},
                                         {1.7976931348623157e308, "1.7976931348623157e+308"}}) {
    writer w;
    w.number(v);
    CHECK(w.view() == text);
    auto doc = parse(w.view());
    REQUIRE(doc);
    CHECK(doc->root().as_double() == v);
  }
}

TEST_CASE("non-finite doubles are written as null") {
  writer w;
  w.begin_array()
      .number(std::numeric_limits<double>::quiet_NaN())
      .number(std::numeric_limits<double>::infinity())
      .end_array();
  CHECK(w.view() == "[null,null]");
}

TEST_CASE("strings are escaped") {
  CHECK(quote("plain") == R"("plain")");
  CHECK(quote("say \"hi\"") == R"("say \"hi\"")");
  CHECK(quote("back\\slash") == R"("back\\slash")");
  CHECK(quote("line\nbreak\ttab\r") == R"("line\nbreak\ttab\r")");
  CHECK(quote(std::string_view{"nul\0x", 5}) == R"("nul\u0000x")");
  CHECK(quote("\x01\x1f") == R"("\u0001\u001F")");
  CHECK(quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CHECK(quote("") == R"("")");
}

TEST_CASE("invalid UTF-8 is replaced, so the output stays valid JSON") {
  std::string bad = quote("a\xFF"
                          "b\xC3");
  CHECK(bad == "\"a\xEF\xBF\xBD"
               "b\xEF\xBF\xBD\"");
  CHECK(parse(bad));
  // Overlong encodings and surrogates are invalid too.
  CHECK(quote("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(quote("\xED\xA0\x80").find("\xED") == std::string::npos);
}

TEST_CASE("keys are escaped like strings") {
  writer w;
  w.begin_object().field("a\"b", 1).end_object();
  CHECK(w.view() == R"({"a\"b":1})");
}

TEST_CASE("raw inserts JSON verbatim") {
  writer w;
  w.begin_object().key("meta").raw(R"({"x":[1,2]})").field("after", 1).end_object();
  CHECK(w.view() == R"({"meta":{"x":[1,2]},"after":1})");
  writer a;
  a.begin_array().raw("1").raw("\"s\"").end_array();
  CHECK(a.view() == R"([1,"s"])");
}

TEST_CASE("writer moves") {
  writer a;
  a.begin_array().number(std::int64_t{1});
  writer b = std::move(a);
  b.end_array();
  CHECK(b.take() == "[1]");
}

TEST_CASE("parse walks objects, arrays and scalars") {
  auto doc = parse(R"( {"s":"x\u00e9\n","i":-42,"d":2.5,"t":true,"f":false,"n":null,
                        "a":[1,"two",[3]],"o":{"k":"v"}} )");
  REQUIRE(doc);
  value root = doc->root();
  CHECK(root.is_object());
  CHECK(root.get("s")->as_string() == "x\xC3\xA9\n");
  CHECK(root.get("i")->as_int() == -42);
  CHECK(root.get("d")->as_double() == 2.5);
  CHECK_FALSE(root.get("d")->as_int());
  CHECK(root.get("t")->as_bool());
  CHECK(root.get("f")->is_bool());
  CHECK_FALSE(root.get("f")->as_bool());
  CHECK(root.get("n")->is_null());
  CHECK_FALSE(root.get("missing"));
  auto arr = root.get("a")->elements();
  REQUIRE(arr.size() == 3);
  CHECK(arr[0].as_int() == 1);
  CHECK(arr[1].as_string() == "two");
  CHECK(arr[2].elements()[0].as_int() == 3);
  CHECK(root.get("o")->get("k")->as_string() == "v");

  auto members = root.members();
  REQUIRE(members.size() == 8);
  std::vector<std::string_view> keys;
  for (auto& [k, v] : members)
    keys.push_back(k);
  CHECK(keys == std::vector<std::string_view>{"s", "i", "d", "t", "f", "n", "a", "o"});
}

TEST_CASE("accessors on the wrong kind give neutral answers") {
  auto doc = parse(R"(["str", 1])");
  REQUIRE(doc);
  value root = doc->root();
  CHECK_FALSE(root.get("x")); // not an object
  CHECK(root.members().empty());
  value s = root.elements()[0];
  CHECK(s.as_double() == 0);
  CHECK_FALSE(s.as_int());
  CHECK_FALSE(s.as_bool());
  CHECK(s.elements().empty());
  CHECK(root.elements()[1].as_string().empty());
  CHECK(document{}.root().is_null());
}

TEST_CASE("as_int: integral numbers only") {
  auto doc = parse(R"([3, 3.0, 1e3, 3.5, -0.0, 9223372036854775807, 18446744073709551615,
                      1e19, -9223372036854775808])");
  REQUIRE(doc);
  auto e = doc->root().elements();
  CHECK(e[0].as_int() == 3);
  CHECK(e[1].as_int() == 3); // integral value written as a double: accepted
  CHECK(e[2].as_int() == 1000);
  CHECK_FALSE(e[3].as_int());
  CHECK(e[4].as_int() == 0);
  CHECK(e[5].as_int() == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(e[6].as_int()); // beyond int64
  CHECK(e[6].as_double() == 18446744073709551615.0);
  CHECK_FALSE(e[7].as_int());
  CHECK(e[8].as_int() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("to_json round-trips") {
  for (std::string_view text :
       {R"({"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\u0001"},"e":-2.5})", R"([])", R"({})",
        R"("just a string")", R"(18446744073709551615)",
        R"({"nested":{"deeper":{"deepest":[1,[2,[3]]]}}})"}) {
    CAPTURE(text);
    auto doc = parse(text);
    REQUIRE(doc);
    std::string once = doc->root().to_json();
    auto again = parse(once);
    REQUIRE(again);
    CHECK(again->root().to_json() == once);
  }
  auto doc = parse(R"({"keep":{"x":[1,"two",{"three":3}]},"other":0})");
  REQUIRE(doc);
  CHECK(doc->root().get("keep")->to_json() == R"({"x":[1,"two",{"three":3}]})");
  CHECK(doc->root().to_json() == R"({"keep":{"x":[1,"two",{"three":3}]},"other":0})");
}

TEST_CASE("values stay valid after the document moves") {
  auto doc = parse(R"({"k":"v"})");
  REQUIRE(doc);
  document moved = std::move(*doc);
  value v = moved.root();
  document again = std::move(moved);
  CHECK(v.get("k")->as_string() == "v");
}

TEST_CASE("malformed JSON reports line, column and byte") {
  struct row {
    std::string_view text;
    std::string_view message;
  };
  for (auto [text, message] : std::vector<row>{
           {R"({"a":1 "b":2})",
            "malformed JSON at line 1, column 8 (byte 7): missing a comma or '}' after an object "
            "member"},
           // Reported where the parser noticed: after "tru".
           {"{\n  \"a\": 1,\n  \"b\": tru\n}",
            "malformed JSON at line 3, column 11 (byte 22): invalid value"},
           {"[1,2", "malformed JSON at line 1, column 5 (byte 4): missing a comma or ']' after an "
                    "array element"},
           {R"({"a":"unterminated)",
            "malformed JSON at line 1, column 19 (byte 18): missing a closing quotation mark in "
            "string"},
           {"{\"a\":1} x",
            "malformed JSON at line 1, column 9 (byte 8): the document root must not be followed "
            "by other values"},
           {"{'a':1}", "malformed JSON at line 1, column 2 (byte 1): missing a name for object "
                       "member"},
       }) {
    CAPTURE(text);
    auto r = parse(text);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid_argument);
    CHECK(r.err().message == message);
  }
}

TEST_CASE("columns count characters, not bytes") {
  // {"éé":x} -- the x is the 7th character but byte 8 (counting from 0).
  auto r = parse("{\"\xC3\xA9\xC3\xA9\":x}");
  REQUIRE_FALSE(r);
  CHECK(r.err().message == "malformed JSON at line 1, column 7 (byte 8): invalid value");
}

TEST_CASE("empty bodies are refused") {
  for (std::string_view text : {"", "   ", "\r\n\t"}) {
    auto r = parse(text);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid_argument);
    CHECK(r.err().message == "empty body: expected a JSON object");
  }
}

TEST_CASE("invalid UTF-8 is reported") {
  auto r = parse("{\"a\":\"x\xFF\"}");
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("malformed JSON at line 1") == 0);
  CHECK(r.err().message.find("invalid encoding") != std::string::npos);
}

TEST_CASE("deep nesting is refused gracefully") {
  std::string deep(100000, '[');
  auto r = parse(deep);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(r.err().message.find("nested deeper than 1024 levels") != std::string::npos);
  // Located at the first bracket too many.
  CHECK(r.err().message ==
        "malformed JSON at line 1, column 1025 (byte 1024): nested deeper than 1024 levels");

  std::string ok = std::string(1024, '[') + std::string(1024, ']');
  auto fine = parse(ok);
  REQUIRE(fine);
  CHECK(fine->root().to_json() == ok);
}

TEST_CASE("large documents parse") {
  // About 12 MiB: 200k objects.
  writer w;
  w.begin_array();
  for (int i = 0; i < 200000; ++i)
    w.begin_object()
        .field("id", i)
        .field("name", "lead number something something")
        .field("score", i * 0.5)
        .end_object();
  w.end_array();
  std::string text = w.take();
  REQUIRE(text.size() > (10u << 20));
  auto doc = parse(text);
  REQUIRE(doc);
  auto e = doc->root().elements();
  REQUIRE(e.size() == 200000);
  CHECK(e[199999].get("id")->as_int() == 199999);
  CHECK(e[3].get("score")->as_double() == 1.5);
}
