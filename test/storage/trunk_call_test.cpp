// SIP trunks and calls (CDRs).

#include "test/storage/fixture.hpp"

#include "domain/defaults.hpp"
#include "storage/migrations.hpp"

#include <algorithm>
#include <utility>

using namespace gobi;
using namespace gobi::storage;
using namespace gobi::storage::test;

namespace {

sip_trunk make_trunk(const tenant_id& t, std::string name, millis at = 7000) {
  sip_trunk x;
  x.tenant = t;
  x.name = std::move(name);
  x.host = "sip.carrier.example";
  x.port = 5080;
  x.transport = sip_transport_kind::tcp;
  x.username = "acme";
  x.password = "s3cret";
  x.from_number = "+15550100000";
  x.max_channels = 30;
  x.calls_per_second = 2.5;
  x.created_at = at;
  x.updated_at = at + 1;
  return x;
}

call_record make_call(const tenant_id& t, millis at, call_status st = call_status::dialing) {
  call_record c;
  c.tenant = t;
  c.direction = call_direction::outbound;
  c.status = st;
  c.from = "+15550100000";
  c.to = "+15550111111";
  c.sip_call_id = "cid-" + std::to_string(at) + "@gobi";
  c.created_at = at;
  c.updated_at = at;
  return c;
}

std::vector<call_id> ids_of(const page<call_record>& p) {
  std::vector<call_id> out;
  for (const auto& c : p.items)
    out.push_back(c.id);
  return out;
}

} // namespace

TEST_CASE("sip trunks: create, get, list, update, delete, tenant isolation") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));

    auto created = MUST(s.create_sip_trunk(make_trunk(t.id, "main", 7000)));
    CHECK(created.id.str().starts_with("trk_"));
    auto got = MUST(s.get_sip_trunk(t.id, created.id));
    CHECK(got.tenant == t.id);
    CHECK(got.name == "main");
    CHECK(got.host == "sip.carrier.example");
    CHECK(got.port == 5080);
    CHECK(got.transport == sip_transport_kind::tcp);
    CHECK(got.username == "acme");
    CHECK(got.password == "s3cret");
    CHECK(got.from_number == "+15550100000");
    CHECK(got.max_channels == 30);
    CHECK(got.calls_per_second == doctest::Approx(2.5));
    CHECK(got.created_at == 7000);
    CHECK(got.updated_at == 7001);

    auto older = MUST(s.create_sip_trunk(make_trunk(t.id, "backup", 100)));
    auto listed = MUST(s.list_sip_trunks(t.id));
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == older.id); // creation order
    CHECK(listed[1].id == created.id);
    CHECK(MUST(s.list_sip_trunks(other.id)).empty());

    auto u = got;
    u.name = "primary";
    u.transport = sip_transport_kind::udp;
    u.port = 5060;
    u.password = "";
    u.calls_per_second = 0.5;
    u.updated_at = 8000;
    u.created_at = 1; // kept
    auto updated = MUST(s.update_sip_trunk(u));
    CHECK(updated.name == "primary");
    CHECK(updated.transport == sip_transport_kind::udp);
    CHECK(updated.port == 5060);
    CHECK(updated.password.empty());
    CHECK(updated.calls_per_second == doctest::Approx(0.5));
    CHECK(updated.created_at == 7000);
    CHECK(updated.updated_at == 8000);

    // Another tenant sees none of it.
    CHECK(code_of(s.get_sip_trunk(other.id, created.id)) == errc::not_found);
    auto foreign = updated;
    foreign.tenant = other.id;
    CHECK(code_of(s.update_sip_trunk(foreign)) == errc::not_found);
    CHECK(code_of(s.delete_sip_trunk(other.id, created.id)) == errc::not_found);
    CHECK(code_of(s.create_sip_trunk(make_trunk(tenant_id{"ten_missing"}, "x"))) ==
          errc::not_found);

    MUST(s.delete_sip_trunk(t.id, created.id));
    CHECK(code_of(s.get_sip_trunk(t.id, created.id)) == errc::not_found);
    CHECK(code_of(s.delete_sip_trunk(t.id, created.id)) == errc::not_found);
    CHECK(MUST(s.list_sip_trunks(t.id)).size() == 1);
  });
}

TEST_CASE("calls: create, get, update round-trip every field; tenant isolation") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));

    // A bare inbound call: every optional unset.
    auto bare = make_call(t.id, 100);
    bare.direction = call_direction::inbound;
    auto b = MUST(s.create_call(bare));
    CHECK(b.id.str().starts_with("call_"));
    auto gb = MUST(s.get_call(t.id, b.id));
    CHECK(gb.direction == call_direction::inbound);
    CHECK(gb.status == call_status::dialing);
    CHECK(!gb.agent);
    CHECK(!gb.campaign);
    CHECK(!gb.lead);
    CHECK(!gb.trunk);
    CHECK(!gb.number);
    CHECK(!gb.outcome);
    CHECK(!gb.answered_at);
    CHECK(!gb.ended_at);
    CHECK(gb.sip_status == 0);
    CHECK(!gb.srtp);
    CHECK(gb.recording_path.empty());
    CHECK(gb.dtmf.empty());
    CHECK(!gb.media);

    // Ids it names need not exist: a CDR outlives its agent, campaign and trunk.
    auto c = make_call(t.id, 200);
    c.agent = agent_id{"agt_x"};
    c.campaign = campaign_id{"cmp_x"};
    c.lead = 42;
    c.trunk = sip_trunk_id{"trk_x"};
    c.number = phone_number_id{"num_x"};
    auto created = MUST(s.create_call(c));
    auto got = MUST(s.get_call(t.id, created.id));
    CHECK(got.direction == call_direction::outbound);
    CHECK(got.agent == std::optional<agent_id>{agent_id{"agt_x"}});
    CHECK(got.campaign == std::optional<campaign_id>{campaign_id{"cmp_x"}});
    CHECK(got.lead == std::optional<lead_id>{42});
    CHECK(got.trunk == std::optional<sip_trunk_id>{sip_trunk_id{"trk_x"}});
    CHECK(got.number == std::optional<phone_number_id>{phone_number_id{"num_x"}});
    CHECK(got.from == "+15550100000");
    CHECK(got.to == "+15550111111");
    CHECK(got.sip_call_id == "cid-200@gobi");
    CHECK(got.created_at == 200);

    got.status = call_status::ended;
    got.sip_status = 200;
    got.outcome = call_outcome::no_answer;
    got.end_reason = "callee hung up";
    got.codec = "opus/48000/2";
    got.srtp = true;
    got.recording_path = "/data/recordings/x.wav";
    got.dtmf = "159*#";
    got.media = call_media_stats{1500, 1480, 20, 2.75};
    got.answered_at = 250;
    got.ended_at = 900;
    got.updated_at = 900;
    got.created_at = 1; // kept
    MUST(s.update_call(got));
    auto ended = MUST(s.get_call(t.id, created.id));
    CHECK(ended.status == call_status::ended);
    CHECK(ended.sip_status == 200);
    CHECK(ended.outcome == std::optional<call_outcome>{call_outcome::no_answer});
    CHECK(ended.end_reason == "callee hung up");
    CHECK(ended.codec == "opus/48000/2");
    CHECK(ended.srtp);
    CHECK(ended.recording_path == "/data/recordings/x.wav");
    CHECK(ended.dtmf == "159*#");
    CHECK(ended.media == std::optional<call_media_stats>{call_media_stats{1500, 1480, 20, 2.75}});
    CHECK(ended.answered_at == std::optional<millis>{250});
    CHECK(ended.ended_at == std::optional<millis>{900});
    CHECK(ended.updated_at == 900);
    CHECK(ended.created_at == 200);

    // Another tenant: not found for reads and writes alike.
    CHECK(code_of(s.get_call(other.id, created.id)) == errc::not_found);
    auto foreign = ended;
    foreign.tenant = other.id;
    CHECK(code_of(s.update_call(foreign)) == errc::not_found);
    auto missing = ended;
    missing.id = call_id{"call_missing"};
    CHECK(code_of(s.update_call(missing)) == errc::not_found);
    CHECK(MUST(s.list_calls(other.id, {}, 0, 10)).total == 0);
    // An id reused is a conflict; an unknown tenant is not found.
    CHECK(code_of(s.create_call(ended)) == errc::conflict);
    CHECK(code_of(s.create_call(make_call(tenant_id{"ten_missing"}, 1))) == errc::not_found);
  });
}

TEST_CASE("calls: list filters, paging, total, newest first") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    agent_id ava{"agt_ava"};
    agent_id bob{"agt_bob"};
    campaign_id q3{"cmp_q3"};

    // 10 calls at times 1000..1009: even ones by ava in q3, odd ones by bob; every third
    // ended; the last two inbound.
    std::vector<call_id> ids;
    for (int i = 0; i < 10; ++i) {
      auto c = make_call(t.id, 1000 + i, i % 3 == 0 ? call_status::ended : call_status::ringing);
      c.agent = i % 2 == 0 ? ava : bob;
      if (i % 2 == 0) c.campaign = q3;
      if (i >= 8) c.direction = call_direction::inbound;
      ids.push_back(MUST(s.create_call(c)).id);
    }
    // Same time twice: ties fall back to id, descending.
    auto tie1 = MUST(s.create_call(make_call(other.id, 5000)));
    auto tie2 = MUST(s.create_call(make_call(other.id, 5000)));

    auto all = MUST(s.list_calls(t.id, {}, 0, 100));
    CHECK(all.total == 10);
    REQUIRE(all.items.size() == 10);
    for (int i = 0; i < 10; ++i)
      CHECK(all.items[static_cast<std::size_t>(i)].id == ids[static_cast<std::size_t>(9 - i)]);

    auto p1 = MUST(s.list_calls(t.id, {}, 0, 4));
    CHECK(p1.total == 10);
    CHECK(ids_of(p1) == std::vector<call_id>{ids[9], ids[8], ids[7], ids[6]});
    auto p3 = MUST(s.list_calls(t.id, {}, 8, 4));
    CHECK(p3.total == 10);
    CHECK(ids_of(p3) == std::vector<call_id>{ids[1], ids[0]});
    auto past = MUST(s.list_calls(t.id, {}, 20, 4));
    CHECK(past.total == 10);
    CHECK(past.items.empty());

    call_filter ended;
    ended.status = call_status::ended;
    auto e = MUST(s.list_calls(t.id, ended, 0, 100));
    CHECK(e.total == 4);
    CHECK(ids_of(e) == std::vector<call_id>{ids[9], ids[6], ids[3], ids[0]});
    auto e2 = MUST(s.list_calls(t.id, ended, 1, 2));
    CHECK(e2.total == 4);
    CHECK(ids_of(e2) == std::vector<call_id>{ids[6], ids[3]});

    call_filter by_campaign;
    by_campaign.campaign = q3;
    CHECK(ids_of(MUST(s.list_calls(t.id, by_campaign, 0, 100))) ==
          std::vector<call_id>{ids[8], ids[6], ids[4], ids[2], ids[0]});

    call_filter by_agent;
    by_agent.agent = bob;
    auto b = MUST(s.list_calls(t.id, by_agent, 0, 2));
    CHECK(b.total == 5);
    CHECK(ids_of(b) == std::vector<call_id>{ids[9], ids[7]});

    call_filter inbound;
    inbound.direction = call_direction::inbound;
    CHECK(ids_of(MUST(s.list_calls(t.id, inbound, 0, 100))) ==
          std::vector<call_id>{ids[9], ids[8]});

    call_filter combined; // ava's ended outbound calls in q3
    combined.agent = ava;
    combined.campaign = q3;
    combined.status = call_status::ended;
    combined.direction = call_direction::outbound;
    auto cmb = MUST(s.list_calls(t.id, combined, 0, 100));
    CHECK(cmb.total == 2);
    CHECK(ids_of(cmb) == std::vector<call_id>{ids[6], ids[0]});

    call_filter nobody;
    nobody.agent = agent_id{"agt_nobody"};
    auto none = MUST(s.list_calls(t.id, nobody, 0, 100));
    CHECK(none.total == 0);
    CHECK(none.items.empty());

    auto ties = MUST(s.list_calls(other.id, {}, 0, 10));
    REQUIRE(ties.items.size() == 2);
    auto hi = std::max(tie1.id.str(), tie2.id.str());
    CHECK(ties.items[0].id.str() == hi);

    CHECK(code_of(s.list_calls(t.id, {}, -1, 10)) == errc::invalid_argument);
    CHECK(code_of(s.list_calls(t.id, {}, 0, -1)) == errc::invalid_argument);
  });
}

TEST_CASE("calls: end_unfinished_calls ends every live call of every tenant") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    auto other = MUST(s.create_tenant(make_tenant("other")));
    auto dialing = MUST(s.create_call(make_call(t.id, 100, call_status::dialing)));
    auto answered_rec = make_call(other.id, 200, call_status::answered);
    answered_rec.answered_at = 250;
    auto answered = MUST(s.create_call(answered_rec));
    auto done_rec = make_call(t.id, 300, call_status::ended);
    done_rec.outcome = call_outcome::answered;
    done_rec.end_reason = "caller hung up";
    done_rec.ended_at = 400;
    done_rec.updated_at = 400;
    auto done = MUST(s.create_call(done_rec));

    CHECK(MUST(s.end_unfinished_calls(9000, "gobid restarted")) == 2);
    for (auto [tn, id] : {std::pair{t.id, dialing.id}, std::pair{other.id, answered.id}}) {
      auto c = MUST(s.get_call(tn, id));
      CHECK(c.status == call_status::ended);
      CHECK(c.outcome == std::optional<call_outcome>{call_outcome::failed});
      CHECK(c.end_reason == "gobid restarted");
      CHECK(c.ended_at == std::optional<millis>{9000});
      CHECK(c.updated_at == 9000);
    }
    CHECK(MUST(s.get_call(other.id, answered.id)).answered_at == std::optional<millis>{250});
    // An ended call keeps its verdict.
    auto d = MUST(s.get_call(t.id, done.id));
    CHECK(d.outcome == std::optional<call_outcome>{call_outcome::answered});
    CHECK(d.end_reason == "caller hung up");
    CHECK(d.ended_at == std::optional<millis>{400});
    // Nothing left to end.
    CHECK(MUST(s.end_unfinished_calls(9500, "again")) == 0);
    call_filter live;
    live.status = call_status::dialing;
    CHECK(MUST(s.list_calls(t.id, live, 0, 10)).total == 0);
  });
}

TEST_CASE("calls: DTMF digits and media counters; the longest record the CALL keeps") {
  for_each_backend([](store& s) {
    auto t = MUST(s.create_tenant(make_tenant("acme")));
    // Created with them (a CALL writes its first record before any media, but the store
    // does not care).
    auto c = make_call(t.id, 100, call_status::ended);
    c.dtmf = std::string(defaults::max_dtmf_digits, '#');
    c.media = call_media_stats{0, 0, 0, 0.0};
    auto created = MUST(s.create_call(c));
    auto got = MUST(s.get_call(t.id, created.id));
    CHECK(got.dtmf == c.dtmf);
    REQUIRE(got.media);
    CHECK(*got.media == call_media_stats{}); // zeros are not NULL
    // Large counters and a fractional jitter survive; the list reads the same columns.
    got.media = call_media_stats{std::int64_t{1} << 40, (std::int64_t{1} << 40) - 7, 7, 0.125};
    MUST(s.update_call(got));
    auto p = MUST(s.list_calls(t.id, {}, 0, 10));
    REQUIRE(p.items.size() == 1);
    CHECK(p.items[0].media == got.media);
    CHECK(p.items[0].dtmf == got.dtmf);
    // Cleared again: back to NULL.
    got.media.reset();
    got.dtmf.clear();
    MUST(s.update_call(got));
    auto cleared = MUST(s.get_call(t.id, created.id));
    CHECK(!cleared.media);
    CHECK(cleared.dtmf.empty());
  });
}

TEST_CASE("calls: a database from before migration 7 keeps its calls, with no DTMF or media") {
  for (const auto& b : backends()) {
    INFO("backend: " << b);
    test_db db{b, false};
    // The schema as migrations 1-6 left it, and a call written then.
    std::string sql{schema_migrations_ddl()};
    sql += ";\n";
    for (const auto& m : migrations()) {
      if (m.version > 6) break;
      sql += render_migration(m, b == "sqlite" ? sql_dialect::sqlite : sql_dialect::postgresql);
      sql += "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
             std::to_string(m.version) + ", 0);\n";
    }
    sql += "INSERT INTO tenants (id, name, created_at) VALUES ('ten_old', 'old', 1);\n"
           "INSERT INTO calls (id, tenant_id, direction, status, agent_id, campaign_id, lead_id, "
           "trunk_id, number_id, caller, callee, sip_call_id, sip_status, outcome, end_reason, "
           "codec, srtp, recording_path, created_at, answered_at, ended_at, updated_at) VALUES "
           "('call_old', 'ten_old', 'INBOUND', 'ENDED', NULL, NULL, NULL, NULL, NULL, '+1', '+2', "
           "'x@y', 200, 'answered', 'remote hung up', 'PCMU/8000', " +
           std::string{b == "sqlite" ? "0" : "false"} + ", '', 10, 20, 30, 30);\n";
    db.exec(sql);
    CHECK(MUST(db->schema_version()) == 6);
    MUST(db->migrate());
    CHECK(MUST(db->schema_version()) == latest_schema_version());
    auto old = MUST(db->get_call(tenant_id{"ten_old"}, call_id{"call_old"}));
    CHECK(old.end_reason == "remote hung up");
    CHECK(old.dtmf.empty());
    CHECK(!old.media);
    old.dtmf = "7";
    old.media = call_media_stats{10, 9, 1, 0.5};
    MUST(db->update_call(old));
    CHECK(MUST(db->get_call(old.tenant, old.id)).media == old.media);
  }
}
