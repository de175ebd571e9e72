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

TEST_CASE("sip trunk input: fields, defaults, checks; the password is never written") {
  phone::normalizer pn{"US"};
  sip_trunk t;
  auto ok = api::read_sip_trunk(
      doc(R"({"name":"Carrier","host":"sip.carrier.example","port":5080,"transport":"TCP",
            "username":"acme","password":"s3cret","fromNumber":"(415) 555-1234",
            "maxChannels":30,"callsPerSecond":2.5})")
          .root(),
      t, true, pn);
  REQUIRE(ok.ok());
  CHECK(t.name == "Carrier");
  CHECK(t.host == "sip.carrier.example");
  CHECK(t.port == 5080);
  CHECK(t.transport == sip_transport_kind::tcp);
  CHECK(t.username == "acme");
  CHECK(t.password == "s3cret");
  CHECK(t.from_number == "+14155551234");
  CHECK(t.max_channels == 30);
  CHECK(t.calls_per_second == doctest::Approx(2.5));

  // A patch keeps what it does not name; an empty password clears it.
  auto patched = t;
  REQUIRE(
      api::read_sip_trunk(doc(R"({"port":5060,"password":null})").root(), patched, false, pn).ok());
  CHECK(patched.port == 5060);
  CHECK(patched.password == "s3cret");
  REQUIRE(api::read_sip_trunk(doc(R"({"password":""})").root(), patched, false, pn).ok());
  CHECK(patched.password.empty());

  sip_trunk defaults;
  REQUIRE(api::read_sip_trunk(doc(R"({"name":"n","host":"10.0.0.1"})").root(), defaults, true, pn)
              .ok());
  CHECK(defaults.port == 5060);
  CHECK(defaults.transport == sip_transport_kind::udp);
  CHECK(defaults.from_number.empty());

  struct row {
    const char* body;
    const char* field;
  };
  for (auto r : {row{R"({"host":"h"})", "name"}, row{R"({"name":"n"})", "host"},
                 row{R"({"name":"n","host":""})", "host"},
                 row{R"({"name":"n","host":"sip:h.example"})", "host"},
                 row{R"({"name":"n","host":"h example"})", "host"},
                 row{R"({"name":"n","host":"h.example:5060"})", "host"},
                 row{R"({"name":"n","host":"[h.example"})", "host"},
                 row{R"({"name":"n","host":"h","port":0})", "port"},
                 row{R"({"name":"n","host":"h","port":70000})", "port"},
                 row{R"({"name":"n","host":"h","transport":"tls"})", "transport"},
                 row{R"({"name":"n","host":"h","transport":5})", "transport"},
                 row{R"({"name":"n","host":"h","fromNumber":"12"})", "fromNumber"},
                 row{R"({"name":"n","host":"h","maxChannels":0})", "maxChannels"},
                 row{R"({"name":"n","host":"h","maxChannels":1.5})", "maxChannels"},
                 row{R"({"name":"n","host":"h","callsPerSecond":0})", "callsPerSecond"},
                 row{R"({"name":"n","host":"h","callsPerSecond":-1})", "callsPerSecond"},
                 row{R"({"name":"n","host":"h","password":7})", "password"}}) {
    CAPTURE(r.body);
    sip_trunk b;
    auto res = api::read_sip_trunk(doc(r.body).root(), b, true, pn);
    REQUIRE_FALSE(res.ok());
    CHECK(res.err().code == errc::validation);
    CHECK(res.err().field == r.field);
  }

  t.id = sip_trunk_id{"trk_1"};
  t.created_at = 0;
  t.updated_at = 1000;
  auto js = api::to_json(t);
  CHECK(js.find("s3cret") == std::string::npos);
  CHECK(js.find("\"password\"") == std::string::npos);
  CHECK(js.find(R"("hasPassword":true)") != std::string::npos);
  CHECK(js.find(R"("transport":"tcp")") != std::string::npos);
  CHECK(js.find(R"("fromNumber":"+14155551234")") != std::string::npos);
  CHECK(js.find(R"("maxChannels":30)") != std::string::npos);
  t.password.clear();
  CHECK(api::to_json(t).find(R"("hasPassword":false)") != std::string::npos);
}

TEST_CASE("originate input: required fields, E.164 numbers, optional references") {
  phone::normalizer pn{"US"};
  auto r = api::read_originate(
      doc(R"({"agentId":"agt_1","to":"(415) 555-1234","trunkId":"trk_1","from":"+1 650 555 0000",
            "campaignId":"cmp_1","leadId":42})")
          .root(),
      pn);
  REQUIRE(r.ok());
  CHECK(r->agent == agent_id{"agt_1"});
  CHECK(r->to == "+14155551234");
  CHECK(r->from == "+16505550000");
  CHECK(r->trunk == sip_trunk_id{"trk_1"});
  CHECK(r->campaign == std::optional<campaign_id>{campaign_id{"cmp_1"}});
  CHECK(r->lead == std::optional<lead_id>{42});

  auto bare = api::read_originate(
      doc(R"({"agentId":"agt_1","to":"+14155551234","trunkId":"trk_1"})").root(), pn);
  REQUIRE(bare.ok());
  CHECK(bare->from.empty());
  CHECK(!bare->campaign);
  CHECK(!bare->lead);

  struct row {
    const char* body;
    const char* field;
  };
  for (auto rw :
       {row{R"({"to":"+14155551234","trunkId":"t"})", "agentId"},
        row{R"({"agentId":"a","trunkId":"t"})", "to"},
        row{R"({"agentId":"a","to":"+14155551234"})", "trunkId"},
        row{R"({"agentId":"a","to":"12","trunkId":"t"})", "to"},
        row{R"({"agentId":"a","to":"not a number","trunkId":"t"})", "to"},
        row{R"({"agentId":"a","to":"+14155551234","trunkId":"t","from":"1"})", "from"},
        row{R"({"agentId":"a","to":"+14155551234","trunkId":"t","leadId":0})", "leadId"},
        row{R"({"agentId":"a","to":"+14155551234","trunkId":"t","leadId":"7"})", "leadId"},
        row{R"({"agentId":5,"to":"+14155551234","trunkId":"t"})", "agentId"}}) {
    CAPTURE(rw.body);
    auto res = api::read_originate(doc(rw.body).root(), pn);
    REQUIRE_FALSE(res.ok());
    CHECK(res.err().code == errc::validation);
    CHECK(res.err().field == rw.field);
  }
}

TEST_CASE("call filters come from query parameters, any case; bad ones are 400") {
  auto none = api::read_call_filter("", "", "", "");
  REQUIRE(none.ok());
  CHECK(!none->status);
  CHECK(!none->campaign);
  CHECK(!none->agent);
  CHECK(!none->direction);
  auto all = api::read_call_filter("ended", "cmp_1", "agt_1", "Outbound");
  REQUIRE(all.ok());
  CHECK(all->status == std::optional<call_status>{call_status::ended});
  CHECK(all->campaign == std::optional<campaign_id>{campaign_id{"cmp_1"}});
  CHECK(all->agent == std::optional<agent_id>{agent_id{"agt_1"}});
  CHECK(all->direction == std::optional<call_direction>{call_direction::outbound});
  auto bad_status = api::read_call_filter("done", "", "", "");
  REQUIRE_FALSE(bad_status.ok());
  CHECK(bad_status.err().code == errc::invalid_argument);
  CHECK(bad_status.err().field == "status");
  auto bad_dir = api::read_call_filter("", "", "", "sideways");
  REQUIRE_FALSE(bad_dir.ok());
  CHECK(bad_dir.err().field == "direction");
}

TEST_CASE("call records: camelCase, nulls for what is unset, duration from answer to end") {
  call_record c;
  c.id = call_id{"call_1"};
  c.tenant = tenant_id{"ten_1"};
  c.direction = call_direction::outbound;
  c.status = call_status::dialing;
  c.from = "+16505550000";
  c.to = "+14155551234";
  c.sip_call_id = "abc@gobi";
  c.created_at = 1000;
  c.updated_at = 1000;
  auto live = api::to_json(c);
  for (auto part : {R"("id":"call_1")",          R"("direction":"OUTBOUND")",
                    R"("status":"DIALING")",     R"("agentId":null)",
                    R"("campaignId":null)",      R"("leadId":null)",
                    R"("trunkId":null)",         R"("numberId":null)",
                    R"("from":"+16505550000")",  R"("to":"+14155551234")",
                    R"("sipCallId":"abc@gobi")", R"("sipStatus":null)",
                    R"("outcome":null)",         R"("endReason":null)",
                    R"("codec":null)",           R"("srtp":false)",
                    R"("hasRecording":false)",   R"("createdAt":"1970-01-01T00:00:01.000Z")",
                    R"("answeredAt":null)",      R"("endedAt":null)",
                    R"("durationMs":null)",      R"("dtmf":"")",
                    R"("media":null)"}) {
    CAPTURE(part);
    CHECK(live.find(part) != std::string::npos);
  }
  CHECK(live.find("recording_path") == std::string::npos);

  c.agent = agent_id{"agt_1"};
  c.campaign = campaign_id{"cmp_1"};
  c.lead = 7;
  c.trunk = sip_trunk_id{"trk_1"};
  c.status = call_status::ended;
  c.sip_status = 200;
  c.outcome = call_outcome::no_answer;
  c.end_reason = "callee hung up";
  c.codec = "PCMU/8000";
  c.srtp = true;
  c.recording_path = "/data/rec/call_1.wav";
  c.answered_at = 2000;
  c.ended_at = 62500;
  c.dtmf = "159#";
  c.media = call_media_stats{3000, 2990, 12, 1.25};
  auto ended = api::to_json(c);
  for (auto part : {R"("agentId":"agt_1")", R"("campaignId":"cmp_1")", R"("leadId":7)",
                    R"("trunkId":"trk_1")", R"("status":"ENDED")", R"("sipStatus":200)",
                    R"("outcome":"no-answer")", R"("endReason":"callee hung up")",
                    R"("codec":"PCMU/8000")", R"("srtp":true)", R"("hasRecording":true)",
                    R"("answeredAt":"1970-01-01T00:00:02.000Z")", R"("durationMs":60500)",
                    R"("dtmf":"159#")",
                    R"("media":{"packetsSent":3000,"packetsReceived":2990,"packetsLost":12,)"
                    R"("jitterMs":1.25})"}) {
    CAPTURE(part);
    CHECK(ended.find(part) != std::string::npos);
  }
  // The path stays on the server.
  CHECK(ended.find("/data/rec") == std::string::npos);
}
