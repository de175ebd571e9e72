#include "actors/api/codec.hpp"

#include <doctest/doctest.h>

using namespace gobi;

namespace {

json::document doc(std::string_view s) {
  auto d = api::parse_object(s);
  REQUIRE(d.ok());
  return std::move(*d);
}

} // namespace

TEST_CASE("agent fields are read, checked and named when wrong") {
  phone::normalizer pn{"US"};
  agent a;
  auto ok = api::read_agent(
    doc(R"({"name":"Sales","temperature":1.2,"maxConcurrentCalls":4,
            "metadata":{"transferNumber":"(415) 555-1234","businessHours":{"monday":{"start":"09:00"}},"x":1}})")
      .root(),
    a, true, pn);
  REQUIRE(ok.ok());
  CHECK(a.name == "Sales");
  CHECK(a.temperature == doctest::Approx(1.2));
  CHECK(a.max_concurrent_calls == 4);
  CHECK(a.metadata_json.find("\"transferNumber\":\"+14155551234\"") != std::string::npos);
  CHECK(a.metadata_json.find("\"x\":1") != std::string::npos);

  struct row {
    const char* body;
    const char* field;
  };
  for (auto r : {row{R"({})", "name"}, row{R"({"name":""})", "name"},
                 row{R"({"name":"a","temperature":3})", "temperature"},
                 row{R"({"name":"a","temperature":"hot"})", "temperature"},
                 row{R"({"name":"a","maxConcurrentCalls":0})", "maxConcurrentCalls"},
                 row{R"({"name":"a","maxConcurrentCalls":1.5})", "maxConcurrentCalls"},
                 row{R"({"name":"a","metadata":[]})", "metadata"},
                 row{R"({"name":"a","metadata":{"transferNumber":"12"}})",
                     "metadata.transferNumber"},
                 row{R"({"name":"a","metadata":{"outboundConfig":5}})", "metadata.outboundConfig"}}) {
    CAPTURE(r.body);
    agent b;
    auto res = api::read_agent(doc(r.body).root(), b, true, pn);
    REQUIRE_FALSE(res.ok());
    CHECK(res.err().code == errc::validation);
    CHECK(res.err().field == r.field);
  }
}

TEST_CASE("campaign input: agents, lists, calling window") {
  campaign c;
  auto ok = api::read_campaign(
    doc(R"({"name":"Q4","campaignType":"outbound","agents":[{"agentId":"agt_b","priority":2},{"agentId":"agt_a","priority":1}],
            "leadListIds":["lst_1","lst_1"],"callingWindow":{"start":"09:30","end":"17:00","days":["mon","fri"]},
            "maxAttempts":5,"dialerType":"predictive"})")
      .root(),
    c, true);
  REQUIRE(ok.ok());
  CHECK(c.type == campaign_type::outbound);
  campaign same_status;
  CHECK(api::read_campaign(doc(R"({"name":"x","campaignType":"INBOUND","status":"DRAFT"})").root(),
                           same_status, true)
          .ok());
  REQUIRE(c.agents.size() == 2);
  CHECK(c.agents[0].priority == 2);
  CHECK(c.lead_lists.size() == 1);
  CHECK(c.window.start_minute == 9 * 60 + 30);
  CHECK(c.window.days == 0b10001);
  CHECK(c.max_attempts == 5);
  CHECK(c.dialer == dialer_type::predictive);

  struct row {
    const char* body;
    const char* field;
  };
  for (auto r : {row{R"({"name":"x"})", "campaignType"},
                 row{R"({"name":"x","campaignType":"SIDEWAYS"})", "campaignType"},
                 row{R"({"name":"x","campaignType":"INBOUND","agentIds":"a"})", "agentIds"},
                 row{R"({"name":"x","campaignType":"INBOUND","callingWindow":{"start":"9am"}})",
                     "callingWindow"},
                 row{R"({"name":"x","campaignType":"INBOUND","callingWindow":{"start":"10:00","end":"09:00"}})",
                     "callingWindow"},
                 row{R"({"name":"x","campaignType":"INBOUND","status":"RUNNING"})", "status"}}) {
    CAPTURE(r.body);
    campaign d;
    auto res = api::read_campaign(doc(r.body).root(), d, true);
    REQUIRE_FALSE(res.ok());
    CHECK(res.err().field == r.field);
  }
}

TEST_CASE("malformed bodies say where") {
  auto r = api::parse_object("{\"a\": 1,\n \"b\": }");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(r.err().message.find("line 2") != std::string::npos);
  auto arr = api::parse_object("[1,2]");
  REQUIRE_FALSE(arr.ok());
  CHECK(arr.err().message.find("JSON object") != std::string::npos);
}

TEST_CASE("the runtime config keeps the seeds' snake_case shape") {
  agent a;
  a.id = agent_id{"agt_1"};
  a.name = "Support";
  a.metadata_json = R"({"transferNumber":"+18005551234"})";
  auto s = api::runtime_config_json(a, 1'760'635'500'000, 300);
  auto d = json::parse(s);
  REQUIRE(d.ok());
  CHECK(d->root().get("success")->as_bool());
  auto cfg = *d->root().get("config");
  CHECK(cfg.get("agent_id")->as_string() == "agt_1");
  CHECK(cfg.get("transfer_number")->as_string() == "+18005551234");
  CHECK(cfg.get("max_concurrent_calls")->as_int() == 10);
  CHECK(d->root().get("timestamp")->as_string() == "2025-10-16T17:25:00.000Z");
  CHECK(d->root().get("cached_until")->as_string() == "2025-10-16T17:30:00.000Z");
}

TEST_CASE("errors render as {error: {code, message, field}}") {
  auto s = api::error_json({errc::validation, "name: is required", "name"});
  CHECK(s == R"({"error":{"code":"validation_failed","message":"name: is required","field":"name"}})");
}
