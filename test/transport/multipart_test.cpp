#include "transport/http/multipart.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace gobi;
using namespace gobi::http;

namespace {
const std::string csv = "phone,name\r\n+14155550100,Ada\r\n+14155550101,Grace\r\n";

std::string form_body(std::string_view boundary) {
  std::string b = "--" + std::string{boundary};
  return "preamble to ignore\r\n" + b +
         "\r\n"
         "Content-Disposition: form-data; name=\"list_name\"\r\n"
         "\r\n"
         "Spring leads\r\n" +
         b +
         "\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"leads;2024.csv\"\r\n"
         "Content-Type: text/csv\r\n"
         "\r\n" +
         csv + "\r\n" + b + "--\r\nepilogue to ignore";
}
} // namespace

TEST_CASE("multipart_boundary") {
  CHECK(*multipart_boundary("multipart/form-data; boundary=abc123") == "abc123");
  CHECK(*multipart_boundary("Multipart/Form-Data;boundary=\"a b;c\"") == "a b;c");
  CHECK(*multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=x-y_z") == "x-y_z");

  auto missing = multipart_boundary("multipart/form-data");
  REQUIRE_FALSE(missing);
  CHECK(missing.err().code == errc::invalid_argument);
  CHECK(missing.err().message == "multipart Content-Type without a boundary");

  auto empty = multipart_boundary("multipart/form-data; boundary=\"\"");
  REQUIRE_FALSE(empty);

  auto wrong = multipart_boundary("application/json");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.err().message.find("expected Content-Type multipart/form-data") == 0);

  auto too_long = multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x'));
  REQUIRE_FALSE(too_long);

  auto unterminated = multipart_boundary("multipart/form-data; boundary=\"abc");
  REQUIRE_FALSE(unterminated);
  CHECK(unterminated.err().message.find("unterminated quoted string") != std::string::npos);
}

TEST_CASE("parse_multipart extracts fields and files") {
  std::string body = form_body("----WebKitFormBoundary7MA4YWxkTrZu0gW");
  auto parts =
      parse_multipart("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", body);
  REQUIRE(parts);
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].name == "list_name");
  CHECK((*parts)[0].filename.empty());
  CHECK((*parts)[0].content_type.empty());
  CHECK((*parts)[0].data == "Spring leads");
  CHECK((*parts)[1].name == "file");
  CHECK((*parts)[1].filename == "leads;2024.csv");
  CHECK((*parts)[1].content_type == "text/csv");
  CHECK((*parts)[1].data == csv);
  // Views into the body, not copies.
  CHECK((*parts)[1].data.data() >= body.data());
  CHECK((*parts)[1].data.data() < body.data() + body.size());
}

TEST_CASE("parse_multipart with a quoted boundary") {
  std::string body = form_body("quoted boundary:1");
  auto parts = parse_multipart("multipart/form-data; boundary=\"quoted boundary:1\"", body);
  REQUIRE(parts);
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[1].data == csv);
}

TEST_CASE("parse_multipart: body starting with the boundary, empty data, binary data") {
  std::string binary{"\0\r\n--not\xFF", 10};
  std::string body = "--B\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
                     "--B\r\ncontent-disposition: form-data; name=bin; filename=\"a.bin\"\r\n\r\n" +
                     binary + "\r\n--B--";
  auto parts = parse_multipart("multipart/form-data; boundary=B", body);
  REQUIRE(parts);
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].data.empty());
  CHECK((*parts)[1].name == "bin");
  CHECK((*parts)[1].data == binary);
}

TEST_CASE("parse_multipart errors say what is wrong") {
  const std::string ct = "multipart/form-data; boundary=B";
  struct row {
    std::string body;
    std::string_view message;
  };
  for (const auto& [body, message] : std::vector<row>{
           {"no boundary here", "multipart body does not contain its boundary 'B'"},
           {"--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nsome data",
            "multipart body truncated: part 1 ('f') has no closing boundary"},
           {"--B\r\nContent-Disposition: form-data; name=\"f\"",
            "multipart part 1: truncated in its headers"},
           {"--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--B",
            "multipart body truncated: it ends without the closing boundary"},
           {"--Bjunk\r\n", "multipart part 1: expected CRLF after the boundary"},
           {"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
            "multipart part 1: missing Content-Disposition: form-data with a name"},
           {"--B\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--B--",
            "multipart part 1: Content-Disposition is not form-data"},
           {"--B\r\nbroken header\r\n\r\nx\r\n--B--", "multipart part 1: header line without ':'"},
       }) {
    CAPTURE(body);
    auto r = parse_multipart(ct, body);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid_argument);
    CHECK(r.err().message == message);
  }
  auto no_boundary = parse_multipart("multipart/form-data", "--B--");
  REQUIRE_FALSE(no_boundary);
  CHECK(no_boundary.err().message == "multipart Content-Type without a boundary");
}
