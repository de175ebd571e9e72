#pragma once

/// The store logic both backends share: every query, every row mapping, transactions and
/// the migration runner, written once against a handful of primitives each backend supplies
/// (run a statement, run a script, begin/commit/rollback, bulk-insert leads).
///
/// SQL here is the dialect SQLite and PostgreSQL share (RETURNING, ON CONFLICT DO NOTHING,
/// LIMIT/OFFSET) with PostgreSQL-style `$1, $2, ...` parameters; the SQLite backend
/// rewrites them to `?1, ?2, ...` once, when it prepares the statement. Values are always
/// bound, never spliced into the text.
///
/// Internal to storage/: include it from the backends only.

#include "storage/migrations.hpp"
#include "storage/store.hpp"

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <span>
#include <variant>

namespace gobi::storage::detail {

/// A value bound to a statement parameter. Strings are borrowed for the call only.
using sql_param = std::variant<std::nullptr_t, std::int64_t, double, bool, std::string_view>;

/// One row of a result, readable only inside the row handler that receives it.
class sql_row {
public:
  virtual ~sql_row() = default;
  virtual bool is_null(int col) const = 0;
  virtual std::string_view text(int col) const = 0;
  virtual std::int64_t int64(int col) const = 0;
  virtual double real(int col) const = 0;
  virtual bool boolean(int col) const = 0;
};

/// Called once per row; an error stops the statement and is returned by run().
using row_handler = std::function<status(const sql_row&)>;

/// A store over a SQL connection. Owned by whoever opened it (open_store); used by one
/// thread at a time. Subclasses supply the primitives below and nothing else.
class sql_store : public store {
public:
  status migrate() override;
  result<int> schema_version() override;

  result<tenant> create_tenant(tenant t) override;
  result<tenant> get_tenant(const tenant_id& id) override;
  result<user> create_user(user u) override;
  result<user> find_user_by_email(std::string_view email) override;
  result<user> get_user(const tenant_id& t, const user_id& id) override;

  result<agent> create_agent(agent a) override;
  result<agent> get_agent(const tenant_id& t, const agent_id& id) override;
  result<std::vector<agent>> list_agents(const tenant_id& t) override;
  result<std::vector<agent>> list_all_agents() override;
  result<agent> update_agent(const agent& a, const prompt_change* change) override;
  status delete_agent(const tenant_id& t, const agent_id& id) override;
  status set_agent_runtime(const agent_id& id, agent_status s,
                           std::optional<millis> last_heartbeat_at, const std::string& metrics_json,
                           millis now) override;
  result<std::vector<prompt_change>> prompt_history(const tenant_id& t,
                                                    const agent_id& id) override;

  result<campaign> create_campaign(campaign c) override;
  result<campaign> get_campaign(const tenant_id& t, const campaign_id& id) override;
  result<std::vector<campaign>> list_campaigns(const tenant_id& t) override;
  result<std::vector<campaign>> list_all_campaigns() override;
  result<campaign> update_campaign(const campaign& c) override;
  status set_campaign_status(const tenant_id& t, const campaign_id& id, campaign_status s,
                             millis now) override;
  status delete_campaign(const tenant_id& t, const campaign_id& id) override;
  result<std::vector<campaign_id>> campaigns_with_agent(const tenant_id& t,
                                                        const agent_id& a) override;

  result<lead_list> create_lead_list(lead_list l) override;
  result<lead_list> get_lead_list(const tenant_id& t, const lead_list_id& id) override;
  result<std::vector<lead_list>> list_lead_lists(const tenant_id& t) override;
  result<std::vector<lead_list>> list_all_lead_lists() override;
  result<lead_list> update_lead_list(const lead_list& l) override;
  status delete_lead_list(const tenant_id& t, const lead_list_id& id) override;
  result<std::size_t> insert_leads(std::vector<lead>& leads) override;
  result<page<lead>> list_leads(const tenant_id& t, const lead_list_id& list, std::int64_t offset,
                                std::int64_t limit) override;
  result<std::vector<std::string>> lead_phones(const lead_list_id& list) override;
  result<std::size_t> mark_leads_dnc(const tenant_id& t, const std::string& e164) override;

  result<phone_number> create_phone_number(phone_number n) override;
  result<phone_number> get_phone_number(const tenant_id& t, const phone_number_id& id) override;
  result<std::vector<phone_number>> list_phone_numbers(const tenant_id& t) override;
  result<phone_number> update_phone_number(const phone_number& n) override;
  status delete_phone_number(const tenant_id& t, const phone_number_id& id) override;
  result<phone_number> find_phone_number(std::string_view e164) override;

  result<sip_trunk> create_sip_trunk(sip_trunk t) override;
  result<sip_trunk> get_sip_trunk(const tenant_id& t, const sip_trunk_id& id) override;
  result<std::vector<sip_trunk>> list_sip_trunks(const tenant_id& t) override;
  result<sip_trunk> update_sip_trunk(const sip_trunk& t) override;
  status delete_sip_trunk(const tenant_id& t, const sip_trunk_id& id) override;

  result<call_record> create_call(call_record c) override;
  status update_call(const call_record& c) override;
  result<call_record> get_call(const tenant_id& t, const call_id& id) override;
  result<page<call_record>> list_calls(const tenant_id& t, const call_filter& f,
                                       std::int64_t offset, std::int64_t limit) override;
  result<std::size_t> end_unfinished_calls(millis now, const std::string& reason) override;

  result<std::size_t> add_dnc(const std::vector<dnc_entry>& entries) override;
  status remove_dnc(const tenant_id& t, std::string_view e164) override;
  result<page<dnc_entry>> list_dnc(const tenant_id& t, std::int64_t offset,
                                   std::int64_t limit) override;
  result<std::vector<std::string>> dnc_numbers(const tenant_id& t) override;
  result<bool> is_dnc(const tenant_id& t, std::string_view e164) override;

protected:
  explicit sql_store(sql_dialect d)
      : dialect_(d) {}

  // --- primitives each backend supplies ----------------------------------------------------

  /// Runs one statement with bound parameters, handing each result row to on_row (which may
  /// be empty). Answers how many rows the statement returned, or, when it returned none,
  /// how many it changed. Unique violations answer errc::conflict, foreign-key violations
  /// errc::not_found, anything else errc::storage with the database's message. Called by
  /// run(), which has already refused text holding a NUL byte.
  virtual result<std::int64_t> execute(std::string_view sql, std::span<const sql_param> params,
                                       const row_handler& on_row) = 0;
  /// Runs a parameterless script of several statements (a migration).
  virtual status exec_script(std::string_view sql) = 0;
  /// Opens a transaction that takes the write lock up front.
  virtual status begin() = 0;
  virtual status commit() = 0;
  virtual status rollback() = 0;
  /// Inside migrate()'s transactions: keeps concurrent migrators apart (when begin() alone
  /// does not).
  virtual status lock_for_migration() { return unit; }
  /// After migrate() changed the schema: drop anything prepared against the old one.
  virtual void schema_changed() {}
  /// Inside insert_leads()'s transaction: writes the rows the fastest way the backend has
  /// and fills each lead's id. Lists and tenants are already checked.
  virtual status insert_lead_rows(std::vector<lead>& leads) = 0;

  /// execute(), after checking that no text parameter holds a NUL byte: PostgreSQL cannot
  /// store one, so neither backend accepts one (errc::invalid_argument).
  result<std::int64_t> run(std::string_view sql, std::span<const sql_param> params,
                           const row_handler& on_row = {});
  result<std::int64_t> run(std::string_view sql, std::initializer_list<sql_param> params,
                           const row_handler& on_row = {}) {
    return run(sql, std::span<const sql_param>{params.begin(), params.size()}, on_row);
  }

private:
  class transaction;

  template <class T, class Read>
  result<std::vector<T>> select_all(std::string_view sql, std::initializer_list<sql_param> params,
                                    Read read);
  template <class T, class Read>
  result<T> select_one(std::string_view sql, std::initializer_list<sql_param> params, Read read,
                       std::string_view what, std::string_view id);

  enum class link_scope { one, tenant, all };
  status load_links(std::vector<campaign>& cs, link_scope scope, const tenant_id& t,
                    const campaign_id& c);
  status write_links(const campaign& c);
  status check_number_refs(const phone_number& n);
  result<std::int64_t> exec_checked(std::string_view sql, std::initializer_list<sql_param> params,
                                    std::string_view what, std::string_view id);

  sql_dialect dialect_;
};

} // namespace gobi::storage::detail
