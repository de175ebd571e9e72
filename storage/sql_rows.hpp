#pragma once

/// How the shared SQL store maps entities to rows and back: the column lists every query
/// selects, one reader per entity (in column-list order), and the parameter lists writes
/// bind. Internal to storage/ (included by sql_store.cpp and sql_rows.cpp only).

#include "storage/sql_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gobi::storage::detail {

// Column lists, in the order the row readers below expect them. Macros so that each
// statement stays one string literal (statements are cached by their text).
#define GOBI_TENANT_COLUMNS "id, name, created_at"
#define GOBI_USER_COLUMNS "id, tenant_id, email, name, password_hash, role, created_at"
#define GOBI_AGENT_COLUMNS                                                                         \
  "id, tenant_id, name, description, system_prompt, personality, greeting_message, "               \
  "llm_provider, llm_model, temperature, voice_provider, voice_id, stt_provider, "                 \
  "stt_language, max_concurrent_calls, metadata_json, status, last_heartbeat_at, "                 \
  "runtime_metrics_json, created_at, updated_at"
#define GOBI_PROMPT_COLUMNS                                                                        \
  "id, agent_id, tenant_id, system_prompt, previous_prompt, changed_by, changed_by_email, "        \
  "changed_at"
#define GOBI_CAMPAIGN_COLUMNS                                                                      \
  "id, tenant_id, name, description, type, status, agent_instructions, session_script, "           \
  "dialer, dial_ratio, max_abandon_rate, max_attempts, retry_delay_s, max_concurrent_calls, "      \
  "window_start_minute, window_end_minute, window_days, window_timezone, created_at, "             \
  "updated_at"
#define GOBI_LEAD_LIST_COLUMNS                                                                     \
  "id, tenant_id, name, description, lead_count, created_at, updated_at"
#define GOBI_LEAD_COLUMNS                                                                          \
  "id, tenant_id, list_id, phone, name, email, company_name, job_title, timezone, "                \
  "resource_name, custom_fields_json, state, attempts, created_at"
#define GOBI_NUMBER_COLUMNS                                                                        \
  "id, tenant_id, number, label, agent_id, campaign_id, created_at, updated_at"
#define GOBI_DNC_COLUMNS "tenant_id, number, reason, created_at"
#define GOBI_TRUNK_COLUMNS                                                                         \
  "id, tenant_id, name, host, port, transport, username, password, from_number, max_channels, "    \
  "calls_per_second, created_at, updated_at"
#define GOBI_CALL_COLUMNS                                                                          \
  "id, tenant_id, direction, status, agent_id, campaign_id, lead_id, trunk_id, number_id, "        \
  "caller, callee, sip_call_id, sip_status, outcome, end_reason, codec, srtp, recording_path, "    \
  "dtmf, packets_sent, packets_received, packets_lost, jitter_ms, created_at, answered_at, "       \
  "ended_at, updated_at"

// --- reading rows: each answers errc::storage for a value the domain cannot parse ----------

result<tenant> read_tenant(const sql_row& r);
result<user> read_user(const sql_row& r);
result<agent> read_agent(const sql_row& r);
result<prompt_change> read_prompt_change(const sql_row& r);
result<campaign> read_campaign(const sql_row& r);
result<lead_list> read_lead_list(const sql_row& r);
result<lead> read_lead(const sql_row& r);
result<phone_number> read_phone_number(const sql_row& r);
result<dnc_entry> read_dnc(const sql_row& r);
result<sip_trunk> read_sip_trunk(const sql_row& r);
result<call_record> read_call(const sql_row& r);
/// The first column as text.
result<std::string> read_text(const sql_row& r);

// --- writing rows --------------------------------------------------------------------------

inline sql_param i64(std::int64_t v) {
  return v;
}

inline sql_param opt(const std::optional<millis>& v) {
  if (v) return *v;
  return nullptr;
}

template <class Id> sql_param opt_id(const std::optional<Id>& v) {
  if (v) return std::string_view{v->str()};
  return nullptr;
}

/// The agent's fields after id and tenant, in GOBI_AGENT_COLUMNS order, up to but without
/// created_at and updated_at.
void add_agent_fields(std::vector<sql_param>& p, const agent& a);

/// The trunk's fields after id and tenant, in GOBI_TRUNK_COLUMNS order, up to but without
/// created_at and updated_at.
void add_sip_trunk_fields(std::vector<sql_param>& p, const sip_trunk& t);

/// The call's fields after id and tenant, in GOBI_CALL_COLUMNS order, up to but without
/// created_at; updated_at is left out too, so that writes can bind it where they need it.
void add_call_fields(std::vector<sql_param>& p, const call_record& c);

/// The campaign's fields after id and tenant, in GOBI_CAMPAIGN_COLUMNS order, up to but
/// without created_at and updated_at.
void add_campaign_fields(std::vector<sql_param>& p, const campaign& c);

} // namespace gobi::storage::detail
