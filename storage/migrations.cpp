#include "storage/migrations.hpp"

#include <array>
#include <cassert>

namespace gobi::storage {

namespace {

// Conventions: ids are TEXT ("agt_..."), times are BIGINT milliseconds since the epoch set
// by the caller, enums are their to_string() text, JSON is TEXT. Every table of a tenant's
// data carries tenant_id; links between a tenant's rows use (tenant_id, id) foreign keys,
// so the database itself refuses a link to another tenant's row.

constexpr std::string_view v1_tenants_users = R"sql(
CREATE TABLE tenants (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email         TEXT NOT NULL,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL,
  created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_tenant ON users (tenant_id);
)sql";

constexpr std::string_view v2_agents = R"sql(
CREATE TABLE agents (
  id                   TEXT PRIMARY KEY,
  tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  description          TEXT NOT NULL,
  system_prompt        TEXT NOT NULL,
  personality          TEXT NOT NULL,
  greeting_message     TEXT NOT NULL,
  llm_provider         TEXT NOT NULL,
  llm_model            TEXT NOT NULL,
  temperature          {double} NOT NULL,
  voice_provider       TEXT NOT NULL,
  voice_id             TEXT NOT NULL,
  stt_provider         TEXT NOT NULL,
  stt_language         TEXT NOT NULL,
  max_concurrent_calls INTEGER NOT NULL,
  metadata_json        TEXT NOT NULL,
  status               TEXT NOT NULL,
  last_heartbeat_at    BIGINT,
  runtime_metrics_json TEXT NOT NULL,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX agents_tenant_created ON agents (tenant_id, created_at);
CREATE TABLE agent_prompt_history (
  id               {serial_pk},
  tenant_id        TEXT NOT NULL,
  agent_id         TEXT NOT NULL,
  system_prompt    TEXT NOT NULL,
  previous_prompt  TEXT NOT NULL,
  changed_by       TEXT NOT NULL,
  changed_by_email TEXT NOT NULL,
  changed_at       BIGINT NOT NULL,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_prompt_history_agent ON agent_prompt_history (tenant_id, agent_id, id);
)sql";

// lead_count is maintained by insert_leads in the transaction that inserts the rows, so
// listing lists never counts a million rows.
constexpr std::string_view v3_leads = R"sql(
CREATE TABLE lead_lists (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  lead_count  BIGINT NOT NULL DEFAULT 0,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX lead_lists_tenant_created ON lead_lists (tenant_id, created_at);
CREATE TABLE leads (
  id                 {serial_pk},
  tenant_id          TEXT NOT NULL,
  list_id            TEXT NOT NULL,
  phone              TEXT NOT NULL,
  name               TEXT NOT NULL,
  email              TEXT NOT NULL,
  company_name       TEXT NOT NULL,
  job_title          TEXT NOT NULL,
  timezone           TEXT NOT NULL,
  resource_name      TEXT NOT NULL,
  custom_fields_json TEXT NOT NULL,
  state              TEXT NOT NULL,
  attempts           INTEGER NOT NULL,
  created_at         BIGINT NOT NULL,
  FOREIGN KEY (tenant_id, list_id) REFERENCES lead_lists (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX leads_list ON leads (list_id, id);
CREATE INDEX leads_tenant_phone ON leads (tenant_id, phone);
)sql";

constexpr std::string_view v4_campaigns = R"sql(
CREATE TABLE campaigns (
  id                   TEXT PRIMARY KEY,
  tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  description          TEXT NOT NULL,
  type                 TEXT NOT NULL,
  status               TEXT NOT NULL,
  agent_instructions   TEXT NOT NULL,
  session_script       TEXT NOT NULL,
  dialer               TEXT NOT NULL,
  dial_ratio           {double} NOT NULL,
  max_abandon_rate     {double} NOT NULL,
  max_attempts         INTEGER NOT NULL,
  retry_delay_s        INTEGER NOT NULL,
  max_concurrent_calls INTEGER NOT NULL,
  window_start_minute  INTEGER NOT NULL,
  window_end_minute    INTEGER NOT NULL,
  window_days          INTEGER NOT NULL,
  window_timezone      TEXT NOT NULL,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX campaigns_tenant_created ON campaigns (tenant_id, created_at);
CREATE TABLE campaign_agents (
  tenant_id   TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  agent_id    TEXT NOT NULL,
  ordinal     INTEGER NOT NULL,
  priority    INTEGER NOT NULL,
  active      {bool} NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id, agent_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_agents_agent ON campaign_agents (tenant_id, agent_id);
CREATE TABLE campaign_lead_lists (
  tenant_id   TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  list_id     TEXT NOT NULL,
  ordinal     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id, list_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, list_id) REFERENCES lead_lists (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_lead_lists_list ON campaign_lead_lists (tenant_id, list_id);
)sql";

// A number's agent and inbound campaign are optional and outlive neither: deleting either
// clears the reference (a composite key cannot, since SET NULL would clear tenant_id too,
// so the store checks their tenant on write instead).
constexpr std::string_view v5_numbers_dnc = R"sql(
CREATE TABLE phone_numbers (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  number      TEXT NOT NULL,
  label       TEXT NOT NULL,
  agent_id    TEXT REFERENCES agents (id) ON DELETE SET NULL,
  campaign_id TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX phone_numbers_number ON phone_numbers (number);
CREATE INDEX phone_numbers_tenant_created ON phone_numbers (tenant_id, created_at);
CREATE INDEX phone_numbers_agent ON phone_numbers (agent_id);
CREATE INDEX phone_numbers_campaign ON phone_numbers (campaign_id);
CREATE TABLE campaign_numbers (
  tenant_id   TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  number_id   TEXT NOT NULL,
  ordinal     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id, number_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, number_id) REFERENCES phone_numbers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_numbers_number ON campaign_numbers (tenant_id, number_id);
CREATE TABLE dnc_numbers (
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  number     TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, number)
);
CREATE INDEX dnc_numbers_tenant_created ON dnc_numbers (tenant_id, created_at, number);
)sql";

// SIP trunks belong to a tenant like numbers do. Calls are the CDRs: history that outlives
// what it names, so agent, campaign, lead, trunk and number are plain columns without
// foreign keys (deleting an agent keeps its calls, and the API's list still finds them by
// the old id); only the tenant cascades. "from" and "to" are reserved words: the columns
// are caller and callee. calls_unfinished holds only live calls: start-up's
// end_unfinished_calls finds them without reading the whole history.
constexpr std::string_view v6_trunks_calls = R"sql(
CREATE TABLE sip_trunks (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  host             TEXT NOT NULL,
  port             INTEGER NOT NULL,
  transport        TEXT NOT NULL,
  username         TEXT NOT NULL,
  password         TEXT NOT NULL,
  from_number      TEXT NOT NULL,
  max_channels     INTEGER NOT NULL,
  calls_per_second {double} NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX sip_trunks_tenant_created ON sip_trunks (tenant_id, created_at);
CREATE TABLE calls (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  direction      TEXT NOT NULL,
  status         TEXT NOT NULL,
  agent_id       TEXT,
  campaign_id    TEXT,
  lead_id        BIGINT,
  trunk_id       TEXT,
  number_id      TEXT,
  caller         TEXT NOT NULL,
  callee         TEXT NOT NULL,
  sip_call_id    TEXT NOT NULL,
  sip_status     INTEGER NOT NULL,
  outcome        TEXT,
  end_reason     TEXT NOT NULL,
  codec          TEXT NOT NULL,
  srtp           {bool} NOT NULL,
  recording_path TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  answered_at    BIGINT,
  ended_at       BIGINT,
  updated_at     BIGINT NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX calls_tenant_created ON calls (tenant_id, created_at, id);
CREATE INDEX calls_tenant_status ON calls (tenant_id, status, created_at);
CREATE INDEX calls_campaign ON calls (campaign_id, created_at);
CREATE INDEX calls_agent ON calls (agent_id, created_at);
CREATE INDEX calls_sip_call_id ON calls (sip_call_id);
CREATE INDEX calls_unfinished ON calls (id) WHERE status <> 'ENDED';
)sql";

// What a call's media did: the DTMF digits received (at most defaults::max_dtmf_digits,
// capped by the CALL; '' when none) and the RTP counters of its end. The counters are NULL
// for calls whose media never ran (refused, unanswered) and for calls written before this
// step; they are all set or all NULL.
constexpr std::string_view v7_call_media = R"sql(
ALTER TABLE calls ADD COLUMN dtmf TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN packets_sent BIGINT;
ALTER TABLE calls ADD COLUMN packets_received BIGINT;
ALTER TABLE calls ADD COLUMN packets_lost BIGINT;
ALTER TABLE calls ADD COLUMN jitter_ms {double};
)sql";

constexpr std::array<migration, 7> all_migrations{{
    {1, "tenants and users", v1_tenants_users},
    {2, "agents and prompt history", v2_agents},
    {3, "lead lists and leads", v3_leads},
    {4, "campaigns with their agents and lead lists", v4_campaigns},
    {5, "phone numbers, campaign numbers, do-not-call", v5_numbers_dnc},
    {6, "SIP trunks and calls", v6_trunks_calls},
    {7, "calls: DTMF digits and media counters", v7_call_media},
}};

struct type_spelling {
  std::string_view placeholder;
  std::string_view sqlite;
  std::string_view postgresql;
};

constexpr std::array<type_spelling, 4> spellings{{
    {"{serial_pk}", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"},
    {"{double}", "REAL", "DOUBLE PRECISION"},
    {"{bool}", "INTEGER", "BOOLEAN"},
    {"{blob}", "BLOB", "BYTEA"},
}};

} // namespace

std::span<const migration> migrations() noexcept {
  return all_migrations;
}

int latest_schema_version() noexcept {
  return all_migrations.back().version;
}

std::string render_migration(const migration& m, sql_dialect d) {
  std::string out;
  out.reserve(m.sql.size() + 256);
  std::string_view rest = m.sql;
  while (!rest.empty()) {
    auto open = rest.find('{');
    out.append(rest.substr(0, open));
    if (open == std::string_view::npos) break;
    rest.remove_prefix(open);
    bool replaced = false;
    for (const auto& s : spellings) {
      if (rest.starts_with(s.placeholder)) {
        out.append(d == sql_dialect::sqlite ? s.sqlite : s.postgresql);
        rest.remove_prefix(s.placeholder.size());
        replaced = true;
        break;
      }
    }
    if (!replaced) { // not a placeholder: keep the brace
      assert(!"unknown placeholder in a migration");
      out.push_back('{');
      rest.remove_prefix(1);
    }
  }
  return out;
}

std::string_view schema_migrations_ddl() noexcept {
  return "CREATE TABLE IF NOT EXISTS schema_migrations ("
         " version INTEGER PRIMARY KEY,"
         " applied_at BIGINT NOT NULL)";
}

} // namespace gobi::storage
