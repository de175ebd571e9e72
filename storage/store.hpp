#pragma once

/// The one store interface gobi persists through, with two backends behind it: SQLite
/// (embedded default, `sqlite:<path>`, WAL) and PostgreSQL (`postgresql://...`, libpq).
/// Both share one schema and one list of versioned migrations (storage/migrations.cpp).
///
/// Threading: a store is used by one thread at a time (the STORAGE actor, which runs
/// detached on its own thread). Calls block; never call a store from an event-based actor.
///
/// Tenancy: every read and write of a tenant's data takes the tenant id and filters by it,
/// so an id from another tenant answers errc::not_found, never another tenant's row.
/// The `list_all_*` calls are for start-up (spawning one actor per entity) and are the only
/// cross-tenant reads besides `find_user_by_email` and `find_phone_number`.
///
/// Errors: errc::not_found (also for a reference to a missing or another tenant's row: a
/// campaign's agent, list or number, a number's agent or campaign, a lead's list),
/// errc::conflict (unique constraint: user email, phone number, an id reused),
/// errc::invalid_argument (text holding a NUL byte, which PostgreSQL cannot store; negative
/// paging), errc::storage (the database failed; the message says how).
///
/// Writes keep what they are given: times come from the caller, `created_at` is never
/// changed by an update, and lists come in creation order (created_at, then id; the
/// list_all_* calls group by tenant first).

#include "domain/model.hpp"
#include "domain/result.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::storage {

class store {
public:
  virtual ~store() = default;

  /// "sqlite" or "postgresql".
  virtual std::string_view backend() const noexcept = 0;

  /// Applies every migration not applied yet, each in its own transaction; idempotent.
  virtual status migrate() = 0;

  /// The highest migration applied.
  virtual result<int> schema_version() = 0;

  // --- tenants and users -------------------------------------------------------------------
  /// Inserts; fills `id` (when empty) with a fresh prefixed id.
  virtual result<tenant> create_tenant(tenant t) = 0;
  virtual result<tenant> get_tenant(const tenant_id& id) = 0;
  /// Inserts; `email` is lower-cased; errc::conflict when the email exists.
  virtual result<user> create_user(user u) = 0;
  /// Case-insensitive; across tenants (login does not know the tenant).
  virtual result<user> find_user_by_email(std::string_view email) = 0;
  virtual result<user> get_user(const tenant_id& t, const user_id& id) = 0;

  // --- agents --------------------------------------------------------------------------------
  virtual result<agent> create_agent(agent a) = 0;
  virtual result<agent> get_agent(const tenant_id& t, const agent_id& id) = 0;
  virtual result<std::vector<agent>> list_agents(const tenant_id& t) = 0; ///< by created_at
  virtual result<std::vector<agent>> list_all_agents() = 0;
  /// Replaces the stored record (matched by tenant and id; not_found otherwise), runtime
  /// fields included. When `change` is given, appends it to the prompt history in the same
  /// transaction, filed under this agent and tenant. Answers the stored record.
  virtual result<agent> update_agent(const agent& a, const prompt_change* change) = 0;
  /// Deletes the agent, its prompt history and its campaign assignments.
  virtual status delete_agent(const tenant_id& t, const agent_id& id) = 0;
  /// Writes the runtime-owned fields only (status, heartbeat, metrics); by id alone because
  /// the AGENT actor that owns them already knows its tenant.
  virtual status set_agent_runtime(const agent_id& id, agent_status s,
                                   std::optional<millis> last_heartbeat_at,
                                   const std::string& metrics_json, millis now) = 0;
  /// Oldest first.
  virtual result<std::vector<prompt_change>> prompt_history(const tenant_id& t,
                                                            const agent_id& id) = 0;

  // --- campaigns (with their agents, lead lists and numbers) ----------------------------------
  virtual result<campaign> create_campaign(campaign c) = 0;
  virtual result<campaign> get_campaign(const tenant_id& t, const campaign_id& id) = 0;
  virtual result<std::vector<campaign>> list_campaigns(const tenant_id& t) = 0;
  virtual result<std::vector<campaign>> list_all_campaigns() = 0;
  /// Replaces the record and its three link sets.
  virtual result<campaign> update_campaign(const campaign& c) = 0;
  virtual status set_campaign_status(const tenant_id& t, const campaign_id& id, campaign_status s,
                                     millis now) = 0;
  virtual status delete_campaign(const tenant_id& t, const campaign_id& id) = 0;
  /// The campaigns (of tenant t) that list the agent.
  virtual result<std::vector<campaign_id>> campaigns_with_agent(const tenant_id& t,
                                                                const agent_id& a) = 0;

  // --- lead lists and leads --------------------------------------------------------------------
  virtual result<lead_list> create_lead_list(lead_list l) = 0;
  virtual result<lead_list> get_lead_list(const tenant_id& t, const lead_list_id& id) = 0;
  virtual result<std::vector<lead_list>> list_lead_lists(const tenant_id& t) = 0;
  virtual result<std::vector<lead_list>> list_all_lead_lists() = 0;
  virtual result<lead_list> update_lead_list(const lead_list& l) = 0; ///< name, description
  /// Deletes the list, its leads and its campaign links.
  virtual status delete_lead_list(const tenant_id& t, const lead_list_id& id) = 0;
  /// Inserts all rows in one transaction (fast path: prepared statement / COPY), and fills
  /// each lead's `id`. Every lead must carry `list` and `tenant`. Answers how many.
  virtual result<std::size_t> insert_leads(std::vector<lead>& leads) = 0;
  /// By id, i.e. in insertion order; `total` is the list's lead_count.
  virtual result<page<lead>> list_leads(const tenant_id& t, const lead_list_id& list,
                                        std::int64_t offset, std::int64_t limit) = 0;
  /// Every phone in the list, for the LEAD_LIST actor's dedupe set.
  virtual result<std::vector<std::string>> lead_phones(const lead_list_id& list) = 0;
  /// Marks the tenant's PENDING leads with this number as DNC; answers how many changed.
  virtual result<std::size_t> mark_leads_dnc(const tenant_id& t, const std::string& e164) = 0;

  // --- phone numbers ------------------------------------------------------------------------
  /// errc::conflict when the number exists (in any tenant).
  virtual result<phone_number> create_phone_number(phone_number n) = 0;
  virtual result<phone_number> get_phone_number(const tenant_id& t, const phone_number_id& id) = 0;
  virtual result<std::vector<phone_number>> list_phone_numbers(const tenant_id& t) = 0;
  virtual result<phone_number> update_phone_number(const phone_number& n) = 0;
  virtual status delete_phone_number(const tenant_id& t, const phone_number_id& id) = 0;
  /// Across tenants, by E.164 number: how an inbound call finds its tenant.
  virtual result<phone_number> find_phone_number(std::string_view e164) = 0;

  // --- SIP trunks -----------------------------------------------------------------------------
  virtual result<sip_trunk> create_sip_trunk(sip_trunk t) = 0;
  virtual result<sip_trunk> get_sip_trunk(const tenant_id& t, const sip_trunk_id& id) = 0;
  virtual result<std::vector<sip_trunk>> list_sip_trunks(const tenant_id& t) = 0;
  virtual result<sip_trunk> update_sip_trunk(const sip_trunk& t) = 0;
  virtual status delete_sip_trunk(const tenant_id& t, const sip_trunk_id& id) = 0;

  // --- calls (CDRs) -------------------------------------------------------------------------
  /// Inserts; fills `id` (when empty) with a fresh "call_" id.
  virtual result<call_record> create_call(call_record c) = 0;
  /// Replaces the stored record (matched by tenant and id; not_found otherwise).
  virtual status update_call(const call_record& c) = 0;
  virtual result<call_record> get_call(const tenant_id& t, const call_id& id) = 0;
  /// Newest first (created_at descending, then id); `total` counts every match.
  virtual result<page<call_record>> list_calls(const tenant_id& t, const call_filter& f,
                                               std::int64_t offset, std::int64_t limit) = 0;
  /// Start-up: every call not ENDED (left over by a crash or kill) becomes ENDED with
  /// outcome failed and `reason`, at `now`. Answers how many.
  virtual result<std::size_t> end_unfinished_calls(millis now, const std::string& reason) = 0;

  // --- do-not-call ---------------------------------------------------------------------------
  /// Adds the entries, skipping numbers already listed; answers how many were new.
  virtual result<std::size_t> add_dnc(const std::vector<dnc_entry>& entries) = 0;
  virtual status remove_dnc(const tenant_id& t, std::string_view e164) = 0; ///< not_found
  virtual result<page<dnc_entry>> list_dnc(const tenant_id& t, std::int64_t offset,
                                           std::int64_t limit) = 0; ///< oldest first
  /// All of a tenant's DNC numbers (for the import-time check).
  virtual result<std::vector<std::string>> dnc_numbers(const tenant_id& t) = 0;
  /// Whether the tenant lists `e164` (one indexed lookup: the check before a call is placed).
  virtual result<bool> is_dnc(const tenant_id& t, std::string_view e164) = 0;
};

/// Opens the store a URL names: `sqlite:<path>` (the file and its folder are created) or
/// `postgresql://...`/`postgres://...`. Does not migrate: call migrate() next.
result<std::unique_ptr<store>> open_store(std::string_view url);

/// A fresh random id with the given prefix: "agt_" followed by 20 base32 characters.
std::string new_id(std::string_view prefix);

} // namespace gobi::storage
