#include "transport/http/message.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using namespace gobi::http;

TEST_CASE("verbs print as their method names") {
  CHECK(to_string(verb::get) == "GET");
  CHECK(to_string(verb::head) == "HEAD");
  CHECK(to_string(verb::post) == "POST");
  CHECK(to_string(verb::put) == "PUT");
  CHECK(to_string(verb::patch) == "PATCH");
  CHECK(to_string(verb::del) == "DELETE");
  CHECK(to_string(verb::options) == "OPTIONS");
  CHECK(to_string(verb::other) == "OTHER");
}

TEST_CASE("percent_decode") {
  struct row {
    std::string_view in;
    bool plus;
    std::string_view out;
  };
  for (auto [in, plus, out] : std::vector<row>{
           {"", false, ""},
           {"plain", false, "plain"},
           {"a%20b", false, "a b"},
           {"%2F%2f", false, "//"},
           {"caf%C3%A9", false, "caf\xC3\xA9"},
           {"a+b", false, "a+b"},
           {"a+b", true, "a b"},
           {"100%", false, "100%"},   // a lone '%' stays
           {"%4", false, "%4"},       // truncated escape stays
           {"%zz%41", false, "%zzA"}, // invalid escape stays, the next one decodes
           {"%00x", false, std::string_view{"\0x", 2}},
       }) {
    CAPTURE(in);
    CHECK(percent_decode(in, plus) == out);
  }
}

TEST_CASE("request::header finds the first header by lower-case name") {
  request r;
  r.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  CHECK(r.header("x-a") == "1");
  CHECK(r.header("x-b") == "2");
  CHECK(r.header("x-c").empty());
}

TEST_CASE("request::query_param decodes names and values") {
  request r;
  r.query = "limit=10&name=J%C3%BCrgen+M&empty=&flag&a%5Bb%5D=x&dup=1&dup=2&&trail=%";
  CHECK(r.query_param("limit") == "10");
  CHECK(r.query_param("name") == "J\xC3\xBCrgen M");
  CHECK(r.query_param("empty", "fb") == "");
  CHECK(r.query_param("flag", "fb") == "");
  CHECK(r.query_param("a[b]") == "x");
  CHECK(r.query_param("dup") == "1");
  CHECK(r.query_param("trail") == "%");
  CHECK(r.query_param("missing") == "");
  CHECK(r.query_param("missing", "fallback") == "fallback");
  request none;
  CHECK(none.query_param("x", "d") == "d");
}

namespace {
/// A send function recording what it was asked to send.
struct recorder {
  std::vector<response> sent;
  responder make() {
    return responder{[this](response r) { sent.push_back(std::move(r)); }};
  }
};
constexpr std::string_view no_response =
    R"({"error":{"code":"internal_error","message":"no response"}})";
} // namespace

TEST_CASE("responder sends once") {
  recorder rec;
  {
    responder r = rec.make();
    CHECK(r.valid());
    response resp;
    resp.status = 201;
    resp.body = "ok";
    r(std::move(resp));
    CHECK_FALSE(r.valid());
    r(response{}); // a second answer is dropped
  }
  REQUIRE(rec.sent.size() == 1);
  CHECK(rec.sent[0].status == 201);
  CHECK(rec.sent[0].body == "ok");
}

TEST_CASE("a dropped responder answers 500") {
  recorder rec;
  { responder r = rec.make(); }
  REQUIRE(rec.sent.size() == 1);
  CHECK(rec.sent[0].status == 500);
  CHECK(rec.sent[0].content_type == "application/json");
  CHECK(rec.sent[0].body == no_response);
}

TEST_CASE("a moved-from responder does not answer; the moved-to one does") {
  recorder rec;
  {
    responder a = rec.make();
    responder b = std::move(a);
    CHECK_FALSE(a.valid()); // NOLINT: checking the moved-from state on purpose
    CHECK(rec.sent.empty());
  }
  CHECK(rec.sent.size() == 1);
}

TEST_CASE("move-assigning over an unanswered responder answers it with 500") {
  recorder first;
  recorder second;
  responder r = first.make();
  r = second.make();
  REQUIRE(first.sent.size() == 1);
  CHECK(first.sent[0].status == 500);
  CHECK(second.sent.empty());
  r(response{});
  CHECK(second.sent.size() == 1);
  CHECK(second.sent[0].status == 200);
}

TEST_CASE("a default responder is invalid and harmless") {
  responder r;
  CHECK_FALSE(r.valid());
  r(response{});
}

TEST_CASE("response::body_view prefers the shared body") {
  response r;
  r.body = "own";
  CHECK(r.body_view() == "own");
  r.shared_body = std::make_shared<const std::string>("shared");
  CHECK(r.body_view() == "shared");
}
