#include "storage/sql_store.hpp"

#include "storage/defaults.hpp"
#include "storage/sql_rows.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <unordered_map>
#include <utility>

namespace gobi::storage::detail {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

error not_found(std::string_view what, std::string_view id) {
  return error{errc::not_found, std::string{what} + " " + std::string{id} + " not found"};
}

status check_paging(std::int64_t offset, std::int64_t limit) {
  if (offset < 0 || limit < 0)
    return error{errc::invalid_argument, "offset and limit must not be negative"};
  return unit;
}

millis wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

// --- plumbing ------------------------------------------------------------------------------

namespace {

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

error nul_error() {
  return error{errc::invalid_argument, "text must not contain a NUL byte"};
}

} // namespace

result<std::int64_t> sql_store::run(std::string_view sql, std::span<const sql_param> params,
                                    const row_handler& on_row) {
  for (const auto& p : params)
    if (const auto* text = std::get_if<std::string_view>(&p); text != nullptr && has_nul(*text))
      return nul_error();
  return execute(sql, params, on_row);
}

/// Rolls back on scope exit unless committed.
class sql_store::transaction {
public:
  explicit transaction(sql_store& s)
      : s_(s) {}
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (open_) (void)s_.rollback();
  }

  status begin() {
    auto r = s_.begin();
    open_ = r.ok();
    return r;
  }

  /// On failure the transaction stays open, and the destructor rolls it back.
  status commit() {
    auto r = s_.commit();
    if (r) open_ = false;
    return r;
  }

private:
  sql_store& s_;
  bool open_ = false;
};

template <class T, class Read>
result<std::vector<T>> sql_store::select_all(std::string_view sql,
                                             std::initializer_list<sql_param> params, Read read) {
  std::vector<T> out;
  auto r = run(sql, params, [&](const sql_row& row) -> status {
    auto x = read(row);
    if (!x) return std::move(x).err();
    out.push_back(std::move(x).value());
    return unit;
  });
  if (!r) return std::move(r).err();
  return out;
}

template <class T, class Read>
result<T> sql_store::select_one(std::string_view sql, std::initializer_list<sql_param> params,
                                Read read, std::string_view what, std::string_view id) {
  auto all = select_all<T>(sql, params, read);
  if (!all) return std::move(all).err();
  if (all->empty()) return not_found(what, id);
  return std::move(all->front());
}

result<std::int64_t> sql_store::exec_checked(std::string_view sql,
                                             std::initializer_list<sql_param> params,
                                             std::string_view what, std::string_view id) {
  auto r = run(sql, params);
  if (r && *r == 0) return not_found(what, id);
  return r;
}

// --- migrations ----------------------------------------------------------------------------

status sql_store::migrate() {
  {
    transaction tx{*this};
    if (auto r = tx.begin(); !r) return r;
    if (auto r = lock_for_migration(); !r) return r;
    if (auto r = exec_script(schema_migrations_ddl()); !r) return r;
    if (auto r = tx.commit(); !r) return r;
  }
  bool changed = false;
  for (const auto& m : migrations()) {
    transaction tx{*this};
    if (auto r = tx.begin(); !r) return r;
    if (auto r = lock_for_migration(); !r) return r;
    // Checked inside the transaction: another process may have applied it meanwhile.
    auto applied =
        run("SELECT version FROM schema_migrations WHERE version = $1", {i64(m.version)});
    if (!applied) return std::move(applied).err();
    if (*applied > 0) continue;
    if (auto r = exec_script(render_migration(m, dialect_)); !r)
      return error{r.err().code, "migration " + std::to_string(m.version) + " (" +
                                     std::string{m.name} + "): " + r.err().message};
    auto rec = run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                   {i64(m.version), wall_clock_ms()});
    if (!rec) return std::move(rec).err();
    if (auto r = tx.commit(); !r) return r;
    changed = true;
  }
  if (changed) schema_changed();
  return unit;
}

result<int> sql_store::schema_version() {
  // A database never migrated has no schema_migrations table: that is version 0.
  std::string_view exists_sql =
      dialect_ == sql_dialect::sqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
          : "SELECT tablename FROM pg_catalog.pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'schema_migrations'";
  auto exists = run(exists_sql, {});
  if (!exists) return std::move(exists).err();
  if (*exists == 0) return 0;
  std::int64_t version = 0;
  auto r = run("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {},
               [&](const sql_row& row) -> status {
                 version = row.int64(0);
                 return unit;
               });
  if (!r) return std::move(r).err();
  return static_cast<int>(version);
}

// --- tenants and users ---------------------------------------------------------------------

result<tenant> sql_store::create_tenant(tenant t) {
  if (t.id.empty()) t.id = tenant_id{new_id(id_prefix::tenant)};
  auto r = run("INSERT INTO tenants (" GOBI_TENANT_COLUMNS ") VALUES ($1, $2, $3)",
               {t.id.str(), t.name, t.created_at});
  if (!r) return std::move(r).err();
  return t;
}

result<tenant> sql_store::get_tenant(const tenant_id& id) {
  return select_one<tenant>("SELECT " GOBI_TENANT_COLUMNS " FROM tenants WHERE id = $1", {id.str()},
                            read_tenant, "tenant", id.str());
}

result<user> sql_store::create_user(user u) {
  if (u.id.empty()) u.id = user_id{new_id(id_prefix::user)};
  u.email = lower_ascii(u.email);
  auto r =
      run("INSERT INTO users (" GOBI_USER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {u.id.str(), u.tenant.str(), u.email, u.name, u.password_hash, u.role, u.created_at});
  if (!r) return std::move(r).err();
  return u;
}

result<user> sql_store::find_user_by_email(std::string_view email) {
  auto lowered = lower_ascii(email);
  return select_one<user>("SELECT " GOBI_USER_COLUMNS " FROM users WHERE email = $1", {lowered},
                          read_user, "user", lowered);
}

result<user> sql_store::get_user(const tenant_id& t, const user_id& id) {
  return select_one<user>("SELECT " GOBI_USER_COLUMNS
                          " FROM users WHERE tenant_id = $1 AND id = $2",
                          {t.str(), id.str()}, read_user, "user", id.str());
}

// --- agents --------------------------------------------------------------------------------

result<agent> sql_store::create_agent(agent a) {
  if (a.id.empty()) a.id = agent_id{new_id(id_prefix::agent)};
  std::vector<sql_param> p{a.id.str(), a.tenant.str()};
  add_agent_fields(p, a);
  p.insert(p.end(), {a.created_at, a.updated_at});
  auto r = run("INSERT INTO agents (" GOBI_AGENT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, "
               "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
               p, {});
  if (!r) return std::move(r).err();
  return a;
}

result<agent> sql_store::get_agent(const tenant_id& t, const agent_id& id) {
  return select_one<agent>("SELECT " GOBI_AGENT_COLUMNS
                           " FROM agents WHERE tenant_id = $1 AND id = $2",
                           {t.str(), id.str()}, read_agent, "agent", id.str());
}

result<std::vector<agent>> sql_store::list_agents(const tenant_id& t) {
  return select_all<agent>("SELECT " GOBI_AGENT_COLUMNS
                           " FROM agents WHERE tenant_id = $1 ORDER BY created_at, id",
                           {t.str()}, read_agent);
}

result<std::vector<agent>> sql_store::list_all_agents() {
  return select_all<agent>("SELECT " GOBI_AGENT_COLUMNS
                           " FROM agents ORDER BY tenant_id, created_at, id",
                           {}, read_agent);
}

result<agent> sql_store::update_agent(const agent& a, const prompt_change* change) {
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  std::vector<sql_param> p{a.id.str(), a.tenant.str()};
  add_agent_fields(p, a);
  p.push_back(a.updated_at);
  auto r = run("UPDATE agents SET name = $3, description = $4, system_prompt = $5, "
               "personality = $6, greeting_message = $7, llm_provider = $8, llm_model = $9, "
               "temperature = $10, voice_provider = $11, voice_id = $12, stt_provider = $13, "
               "stt_language = $14, max_concurrent_calls = $15, metadata_json = $16, "
               "status = $17, last_heartbeat_at = $18, runtime_metrics_json = $19, "
               "updated_at = $20 WHERE id = $1 AND tenant_id = $2",
               p, {});
  if (!r) return std::move(r).err();
  if (*r == 0) return not_found("agent", a.id.str());
  if (change != nullptr) {
    // The history row belongs to the agent updated, whatever the change says.
    auto h = run("INSERT INTO agent_prompt_history (tenant_id, agent_id, system_prompt, "
                 "previous_prompt, changed_by, changed_by_email, changed_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 {a.tenant.str(), a.id.str(), change->system_prompt, change->previous_prompt,
                  change->changed_by.str(), change->changed_by_email, change->changed_at});
    if (!h) return std::move(h).err();
  }
  auto stored = get_agent(a.tenant, a.id);
  if (!stored) return stored;
  if (auto c = tx.commit(); !c) return std::move(c).err();
  return stored;
}

status sql_store::delete_agent(const tenant_id& t, const agent_id& id) {
  // Prompt history and campaign assignments go with it (ON DELETE CASCADE); numbers that
  // answered with this agent keep their number and lose the agent (ON DELETE SET NULL).
  auto r = exec_checked("DELETE FROM agents WHERE tenant_id = $1 AND id = $2", {t.str(), id.str()},
                        "agent", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

status sql_store::set_agent_runtime(const agent_id& id, agent_status s,
                                    std::optional<millis> last_heartbeat_at,
                                    const std::string& metrics_json, millis now) {
  auto r = exec_checked("UPDATE agents SET status = $2, last_heartbeat_at = $3, "
                        "runtime_metrics_json = $4, updated_at = $5 WHERE id = $1",
                        {id.str(), to_string(s), opt(last_heartbeat_at), metrics_json, now},
                        "agent", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

result<std::vector<prompt_change>> sql_store::prompt_history(const tenant_id& t,
                                                             const agent_id& id) {
  auto exists = exec_checked("SELECT id FROM agents WHERE tenant_id = $1 AND id = $2",
                             {t.str(), id.str()}, "agent", id.str());
  if (!exists) return std::move(exists).err();
  return select_all<prompt_change>("SELECT " GOBI_PROMPT_COLUMNS " FROM agent_prompt_history"
                                   " WHERE tenant_id = $1 AND agent_id = $2 ORDER BY id",
                                   {t.str(), id.str()}, read_prompt_change);
}

// --- campaigns -----------------------------------------------------------------------------

status sql_store::load_links(std::vector<campaign>& cs, link_scope scope, const tenant_id& t,
                             const campaign_id& c) {
  if (cs.empty()) return unit;
  std::unordered_map<std::string_view, campaign*> by_id;
  for (auto& x : cs)
    by_id.emplace(x.id.str(), &x);
  auto owner = [&](const sql_row& row) -> campaign* {
    auto i = by_id.find(row.text(0));
    return i == by_id.end() ? nullptr : i->second;
  };
  auto pick = [scope](std::string_view one, std::string_view tenant, std::string_view all) {
    return scope == link_scope::one ? one : scope == link_scope::tenant ? tenant : all;
  };
  // Parameters beyond those a statement uses are not passed: PostgreSQL must infer a type
  // for every parameter it is given.
  auto params = [&]() -> std::vector<sql_param> {
    switch (scope) {
    case link_scope::one:
      return {t.str(), c.str()};
    case link_scope::tenant:
      return {t.str()};
    case link_scope::all:
      break;
    }
    return {};
  }();
  auto agents =
      run(pick("SELECT campaign_id, agent_id, priority, active FROM campaign_agents"
               " WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY ordinal",
               "SELECT campaign_id, agent_id, priority, active FROM campaign_agents"
               " WHERE tenant_id = $1 ORDER BY campaign_id, ordinal",
               "SELECT campaign_id, agent_id, priority, active FROM campaign_agents"
               " ORDER BY campaign_id, ordinal"),
          params, [&](const sql_row& row) -> status {
            if (auto* x = owner(row))
              x->agents.push_back(campaign_agent{agent_id{std::string{row.text(1)}},
                                                 static_cast<int>(row.int64(2)), row.boolean(3)});
            return unit;
          });
  if (!agents) return std::move(agents).err();
  auto lists = run(pick("SELECT campaign_id, list_id FROM campaign_lead_lists"
                        " WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY ordinal",
                        "SELECT campaign_id, list_id FROM campaign_lead_lists"
                        " WHERE tenant_id = $1 ORDER BY campaign_id, ordinal",
                        "SELECT campaign_id, list_id FROM campaign_lead_lists"
                        " ORDER BY campaign_id, ordinal"),
                   params, [&](const sql_row& row) -> status {
                     if (auto* x = owner(row)) x->lead_lists.emplace_back(std::string{row.text(1)});
                     return unit;
                   });
  if (!lists) return std::move(lists).err();
  auto numbers = run(pick("SELECT campaign_id, number_id FROM campaign_numbers"
                          " WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY ordinal",
                          "SELECT campaign_id, number_id FROM campaign_numbers"
                          " WHERE tenant_id = $1 ORDER BY campaign_id, ordinal",
                          "SELECT campaign_id, number_id FROM campaign_numbers"
                          " ORDER BY campaign_id, ordinal"),
                     params, [&](const sql_row& row) -> status {
                       if (auto* x = owner(row)) x->numbers.emplace_back(std::string{row.text(1)});
                       return unit;
                     });
  if (!numbers) return std::move(numbers).err();
  return unit;
}

status sql_store::write_links(const campaign& c) {
  // Replaces all three sets; a link to another tenant's (or no) agent, list or number fails
  // its (tenant_id, id) foreign key and answers errc::not_found.
  for (auto sql : {"DELETE FROM campaign_agents WHERE tenant_id = $1 AND campaign_id = $2",
                   "DELETE FROM campaign_lead_lists WHERE tenant_id = $1 AND campaign_id = $2",
                   "DELETE FROM campaign_numbers WHERE tenant_id = $1 AND campaign_id = $2"}) {
    if (auto r = run(sql, {c.tenant.str(), c.id.str()}); !r) return std::move(r).err();
  }
  auto link_error = [&](error e, std::string_view what, std::string_view id) {
    if (e.code == errc::not_found) return not_found(what, id);
    if (e.code == errc::conflict)
      e.message = std::string{what} + " " + std::string{id} + " is listed twice: " + e.message;
    return e;
  };
  std::int64_t ordinal = 0;
  for (const auto& a : c.agents) {
    auto r = run("INSERT INTO campaign_agents (tenant_id, campaign_id, agent_id, ordinal, "
                 "priority, active) VALUES ($1, $2, $3, $4, $5, $6)",
                 {c.tenant.str(), c.id.str(), a.agent.str(), ordinal++, i64(a.priority), a.active});
    if (!r) return link_error(std::move(r).err(), "agent", a.agent.str());
  }
  ordinal = 0;
  for (const auto& l : c.lead_lists) {
    auto r = run("INSERT INTO campaign_lead_lists (tenant_id, campaign_id, list_id, ordinal)"
                 " VALUES ($1, $2, $3, $4)",
                 {c.tenant.str(), c.id.str(), l.str(), ordinal++});
    if (!r) return link_error(std::move(r).err(), "lead list", l.str());
  }
  ordinal = 0;
  for (const auto& n : c.numbers) {
    auto r = run("INSERT INTO campaign_numbers (tenant_id, campaign_id, number_id, ordinal)"
                 " VALUES ($1, $2, $3, $4)",
                 {c.tenant.str(), c.id.str(), n.str(), ordinal++});
    if (!r) return link_error(std::move(r).err(), "phone number", n.str());
  }
  return unit;
}

result<campaign> sql_store::create_campaign(campaign c) {
  if (c.id.empty()) c.id = campaign_id{new_id(id_prefix::campaign)};
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  std::vector<sql_param> p{c.id.str(), c.tenant.str()};
  add_campaign_fields(p, c);
  p.insert(p.end(), {c.created_at, c.updated_at});
  auto r = run("INSERT INTO campaigns (" GOBI_CAMPAIGN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, "
               "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
               p, {});
  if (!r) return std::move(r).err();
  if (auto w = write_links(c); !w) return std::move(w).err();
  if (auto w = tx.commit(); !w) return std::move(w).err();
  return c;
}

result<campaign> sql_store::get_campaign(const tenant_id& t, const campaign_id& id) {
  auto c = select_all<campaign>("SELECT " GOBI_CAMPAIGN_COLUMNS
                                " FROM campaigns WHERE tenant_id = $1 AND id = $2",
                                {t.str(), id.str()}, read_campaign);
  if (!c) return std::move(c).err();
  if (c->empty()) return not_found("campaign", id.str());
  if (auto r = load_links(*c, link_scope::one, t, id); !r) return std::move(r).err();
  return std::move(c->front());
}

result<std::vector<campaign>> sql_store::list_campaigns(const tenant_id& t) {
  auto cs = select_all<campaign>("SELECT " GOBI_CAMPAIGN_COLUMNS
                                 " FROM campaigns WHERE tenant_id = $1 ORDER BY created_at, id",
                                 {t.str()}, read_campaign);
  if (!cs) return cs;
  if (auto r = load_links(*cs, link_scope::tenant, t, {}); !r) return std::move(r).err();
  return cs;
}

result<std::vector<campaign>> sql_store::list_all_campaigns() {
  auto cs = select_all<campaign>("SELECT " GOBI_CAMPAIGN_COLUMNS
                                 " FROM campaigns ORDER BY tenant_id, created_at, id",
                                 {}, read_campaign);
  if (!cs) return cs;
  if (auto r = load_links(*cs, link_scope::all, {}, {}); !r) return std::move(r).err();
  return cs;
}

result<campaign> sql_store::update_campaign(const campaign& c) {
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  std::vector<sql_param> p{c.id.str(), c.tenant.str()};
  add_campaign_fields(p, c);
  p.push_back(c.updated_at);
  auto r = run("UPDATE campaigns SET name = $3, description = $4, type = $5, status = $6, "
               "agent_instructions = $7, session_script = $8, dialer = $9, dial_ratio = $10, "
               "max_abandon_rate = $11, max_attempts = $12, retry_delay_s = $13, "
               "max_concurrent_calls = $14, window_start_minute = $15, "
               "window_end_minute = $16, window_days = $17, window_timezone = $18, "
               "updated_at = $19 WHERE id = $1 AND tenant_id = $2",
               p, {});
  if (!r) return std::move(r).err();
  if (*r == 0) return not_found("campaign", c.id.str());
  if (auto w = write_links(c); !w) return std::move(w).err();
  auto stored = get_campaign(c.tenant, c.id);
  if (!stored) return stored;
  if (auto w = tx.commit(); !w) return std::move(w).err();
  return stored;
}

status sql_store::set_campaign_status(const tenant_id& t, const campaign_id& id, campaign_status s,
                                      millis now) {
  auto r = exec_checked("UPDATE campaigns SET status = $3, updated_at = $4"
                        " WHERE tenant_id = $1 AND id = $2",
                        {t.str(), id.str(), to_string(s), now}, "campaign", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

status sql_store::delete_campaign(const tenant_id& t, const campaign_id& id) {
  auto r = exec_checked("DELETE FROM campaigns WHERE tenant_id = $1 AND id = $2",
                        {t.str(), id.str()}, "campaign", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

result<std::vector<campaign_id>> sql_store::campaigns_with_agent(const tenant_id& t,
                                                                 const agent_id& a) {
  return select_all<campaign_id>(
      "SELECT campaign_id FROM campaign_agents WHERE tenant_id = $1 AND agent_id = $2"
      " ORDER BY campaign_id",
      {t.str(), a.str()},
      [](const sql_row& r) -> result<campaign_id> { return campaign_id{std::string{r.text(0)}}; });
}

// --- lead lists and leads ------------------------------------------------------------------

result<lead_list> sql_store::create_lead_list(lead_list l) {
  if (l.id.empty()) l.id = lead_list_id{new_id(id_prefix::lead_list)};
  l.lead_count = 0;
  auto r = run("INSERT INTO lead_lists (id, tenant_id, name, description, created_at, "
               "updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
               {l.id.str(), l.tenant.str(), l.name, l.description, l.created_at, l.updated_at});
  if (!r) return std::move(r).err();
  return l;
}

result<lead_list> sql_store::get_lead_list(const tenant_id& t, const lead_list_id& id) {
  return select_one<lead_list>("SELECT " GOBI_LEAD_LIST_COLUMNS
                               " FROM lead_lists WHERE tenant_id = $1 AND id = $2",
                               {t.str(), id.str()}, read_lead_list, "lead list", id.str());
}

result<std::vector<lead_list>> sql_store::list_lead_lists(const tenant_id& t) {
  return select_all<lead_list>("SELECT " GOBI_LEAD_LIST_COLUMNS
                               " FROM lead_lists WHERE tenant_id = $1 ORDER BY created_at, id",
                               {t.str()}, read_lead_list);
}

result<std::vector<lead_list>> sql_store::list_all_lead_lists() {
  return select_all<lead_list>("SELECT " GOBI_LEAD_LIST_COLUMNS
                               " FROM lead_lists ORDER BY tenant_id, created_at, id",
                               {}, read_lead_list);
}

result<lead_list> sql_store::update_lead_list(const lead_list& l) {
  auto r = exec_checked("UPDATE lead_lists SET name = $3, description = $4, updated_at = $5"
                        " WHERE tenant_id = $1 AND id = $2",
                        {l.tenant.str(), l.id.str(), l.name, l.description, l.updated_at},
                        "lead list", l.id.str());
  if (!r) return std::move(r).err();
  return get_lead_list(l.tenant, l.id);
}

status sql_store::delete_lead_list(const tenant_id& t, const lead_list_id& id) {
  // Its leads and campaign links go with it (ON DELETE CASCADE).
  auto r = exec_checked("DELETE FROM lead_lists WHERE tenant_id = $1 AND id = $2",
                        {t.str(), id.str()}, "lead list", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

result<std::size_t> sql_store::insert_leads(std::vector<lead>& leads) {
  if (leads.empty()) return std::size_t{0};
  // How many rows go to each (tenant, list). Imports are one list at a time, so compare
  // with the previous lead before searching the (short) list of targets.
  struct target {
    const lead* first;
    std::int64_t count;
  };
  std::vector<target> targets;
  std::size_t current = 0; // index in targets of the previous lead's (tenant, list)
  for (const auto& l : leads) {
    if (l.list.empty() || l.tenant.empty())
      return error{errc::invalid_argument, "every lead needs its list and tenant"};
    for (std::string_view text : {l.phone, l.name, l.email, l.company_name, l.job_title, l.timezone,
                                  l.resource_name, l.custom_fields_json})
      if (has_nul(text)) return nul_error();
    auto same = [&](const target& x) {
      return x.first->list == l.list && x.first->tenant == l.tenant;
    };
    if (targets.empty() || !same(targets[current])) {
      auto i = std::find_if(targets.begin(), targets.end(), same);
      if (i == targets.end()) i = targets.insert(targets.end(), target{&l, 0});
      current = static_cast<std::size_t>(i - targets.begin());
    }
    ++targets[current].count;
  }
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  // The counter moves in the same transaction as the rows; the update also proves the list
  // exists in that tenant and locks it against a concurrent delete.
  for (const auto& x : targets) {
    auto r = exec_checked("UPDATE lead_lists SET lead_count = lead_count + $1"
                          " WHERE tenant_id = $2 AND id = $3",
                          {x.count, x.first->tenant.str(), x.first->list.str()}, "lead list",
                          x.first->list.str());
    if (!r) return std::move(r).err();
  }
  if (auto r = insert_lead_rows(leads); !r) return std::move(r).err();
  if (auto r = tx.commit(); !r) return std::move(r).err();
  return leads.size();
}

result<page<lead>> sql_store::list_leads(const tenant_id& t, const lead_list_id& list,
                                         std::int64_t offset, std::int64_t limit) {
  if (auto r = check_paging(offset, limit); !r) return std::move(r).err();
  auto l = get_lead_list(t, list);
  if (!l) return std::move(l).err();
  page<lead> out;
  out.total = l->lead_count;
  // The offset is walked in the (list_id, id) index alone; only the page's rows are read.
  auto items = select_all<lead>("SELECT " GOBI_LEAD_COLUMNS " FROM leads WHERE id IN"
                                " (SELECT id FROM leads WHERE list_id = $1"
                                " ORDER BY id LIMIT $2 OFFSET $3) ORDER BY id",
                                {list.str(), limit, offset}, read_lead);
  if (!items) return std::move(items).err();
  out.items = std::move(items).value();
  return out;
}

result<std::vector<std::string>> sql_store::lead_phones(const lead_list_id& list) {
  return select_all<std::string>("SELECT phone FROM leads WHERE list_id = $1 ORDER BY id",
                                 {list.str()}, read_text);
}

result<std::size_t> sql_store::mark_leads_dnc(const tenant_id& t, const std::string& e164) {
  auto r = run("UPDATE leads SET state = $3"
               " WHERE tenant_id = $1 AND phone = $2 AND state = $4",
               {t.str(), e164, to_string(lead_state::dnc), to_string(lead_state::pending)});
  if (!r) return std::move(r).err();
  return static_cast<std::size_t>(*r);
}

// --- phone numbers -------------------------------------------------------------------------

status sql_store::check_number_refs(const phone_number& n) {
  // agent_id and campaign_id reference by id alone (so that deleting either can clear
  // them): the tenant check is ours.
  if (n.agent) {
    auto r = exec_checked("SELECT id FROM agents WHERE tenant_id = $1 AND id = $2",
                          {n.tenant.str(), n.agent->str()}, "agent", n.agent->str());
    if (!r) return std::move(r).err();
  }
  if (n.campaign) {
    auto r = exec_checked("SELECT id FROM campaigns WHERE tenant_id = $1 AND id = $2",
                          {n.tenant.str(), n.campaign->str()}, "campaign", n.campaign->str());
    if (!r) return std::move(r).err();
  }
  return unit;
}

result<phone_number> sql_store::create_phone_number(phone_number n) {
  if (n.id.empty()) n.id = phone_number_id{new_id(id_prefix::phone_number)};
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  if (auto r = check_number_refs(n); !r) return std::move(r).err();
  auto r = run("INSERT INTO phone_numbers (" GOBI_NUMBER_COLUMNS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               {n.id.str(), n.tenant.str(), n.number, n.label, opt_id(n.agent), opt_id(n.campaign),
                n.created_at, n.updated_at});
  if (!r) return std::move(r).err();
  if (auto c = tx.commit(); !c) return std::move(c).err();
  return n;
}

result<phone_number> sql_store::get_phone_number(const tenant_id& t, const phone_number_id& id) {
  return select_one<phone_number>("SELECT " GOBI_NUMBER_COLUMNS
                                  " FROM phone_numbers WHERE tenant_id = $1 AND id = $2",
                                  {t.str(), id.str()}, read_phone_number, "phone number", id.str());
}

result<std::vector<phone_number>> sql_store::list_phone_numbers(const tenant_id& t) {
  return select_all<phone_number>("SELECT " GOBI_NUMBER_COLUMNS " FROM phone_numbers"
                                  " WHERE tenant_id = $1 ORDER BY created_at, id",
                                  {t.str()}, read_phone_number);
}

result<phone_number> sql_store::update_phone_number(const phone_number& n) {
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  if (auto r = check_number_refs(n); !r) return std::move(r).err();
  auto r = exec_checked("UPDATE phone_numbers SET number = $3, label = $4, agent_id = $5, "
                        "campaign_id = $6, updated_at = $7 WHERE tenant_id = $1 AND id = $2",
                        {n.tenant.str(), n.id.str(), n.number, n.label, opt_id(n.agent),
                         opt_id(n.campaign), n.updated_at},
                        "phone number", n.id.str());
  if (!r) return std::move(r).err();
  auto stored = get_phone_number(n.tenant, n.id);
  if (!stored) return stored;
  if (auto c = tx.commit(); !c) return std::move(c).err();
  return stored;
}

status sql_store::delete_phone_number(const tenant_id& t, const phone_number_id& id) {
  auto r = exec_checked("DELETE FROM phone_numbers WHERE tenant_id = $1 AND id = $2",
                        {t.str(), id.str()}, "phone number", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

result<phone_number> sql_store::find_phone_number(std::string_view e164) {
  return select_one<phone_number>("SELECT " GOBI_NUMBER_COLUMNS
                                  " FROM phone_numbers WHERE number = $1",
                                  {e164}, read_phone_number, "phone number", e164);
}

// --- SIP trunks ----------------------------------------------------------------------------

result<sip_trunk> sql_store::create_sip_trunk(sip_trunk t) {
  if (t.id.empty()) t.id = sip_trunk_id{new_id(id_prefix::sip_trunk)};
  std::vector<sql_param> p{t.id.str(), t.tenant.str()};
  add_sip_trunk_fields(p, t);
  p.insert(p.end(), {t.created_at, t.updated_at});
  auto r = run("INSERT INTO sip_trunks (" GOBI_TRUNK_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, "
               "$7, $8, $9, $10, $11, $12, $13)",
               p, {});
  if (!r) {
    if (r.err().code == errc::not_found)
      return error{errc::not_found, "tenant not found: " + r.err().message};
    return std::move(r).err();
  }
  return t;
}

result<sip_trunk> sql_store::get_sip_trunk(const tenant_id& t, const sip_trunk_id& id) {
  return select_one<sip_trunk>("SELECT " GOBI_TRUNK_COLUMNS
                               " FROM sip_trunks WHERE tenant_id = $1 AND id = $2",
                               {t.str(), id.str()}, read_sip_trunk, "SIP trunk", id.str());
}

result<std::vector<sip_trunk>> sql_store::list_sip_trunks(const tenant_id& t) {
  return select_all<sip_trunk>("SELECT " GOBI_TRUNK_COLUMNS
                               " FROM sip_trunks WHERE tenant_id = $1 ORDER BY created_at, id",
                               {t.str()}, read_sip_trunk);
}

result<sip_trunk> sql_store::update_sip_trunk(const sip_trunk& t) {
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  std::vector<sql_param> p{t.id.str(), t.tenant.str()};
  add_sip_trunk_fields(p, t);
  p.push_back(t.updated_at);
  auto r = run("UPDATE sip_trunks SET name = $3, host = $4, port = $5, transport = $6, "
               "username = $7, password = $8, from_number = $9, max_channels = $10, "
               "calls_per_second = $11, updated_at = $12 WHERE id = $1 AND tenant_id = $2",
               p, {});
  if (!r) return std::move(r).err();
  if (*r == 0) return not_found("SIP trunk", t.id.str());
  auto stored = get_sip_trunk(t.tenant, t.id);
  if (!stored) return stored;
  if (auto c = tx.commit(); !c) return std::move(c).err();
  return stored;
}

status sql_store::delete_sip_trunk(const tenant_id& t, const sip_trunk_id& id) {
  // Calls through it keep its id (CDRs have no foreign keys; see migration 6).
  auto r = exec_checked("DELETE FROM sip_trunks WHERE tenant_id = $1 AND id = $2",
                        {t.str(), id.str()}, "SIP trunk", id.str());
  if (!r) return std::move(r).err();
  return unit;
}

// --- calls ---------------------------------------------------------------------------------

result<call_record> sql_store::create_call(call_record c) {
  if (c.id.empty()) c.id = call_id{new_id(id_prefix::call)};
  std::vector<sql_param> p{c.id.str(), c.tenant.str()};
  add_call_fields(p, c);
  p.insert(p.end(), {c.created_at, opt(c.answered_at), opt(c.ended_at), c.updated_at});
  auto r = run("INSERT INTO calls (" GOBI_CALL_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
               "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, "
               "$24, $25, $26, $27)",
               p, {});
  if (!r) {
    if (r.err().code == errc::not_found)
      return error{errc::not_found, "tenant not found: " + r.err().message};
    return std::move(r).err();
  }
  return c;
}

status sql_store::update_call(const call_record& c) {
  std::vector<sql_param> p{c.id.str(), c.tenant.str()};
  add_call_fields(p, c);
  p.insert(p.end(), {opt(c.answered_at), opt(c.ended_at), c.updated_at});
  auto r = run("UPDATE calls SET direction = $3, status = $4, agent_id = $5, campaign_id = $6, "
               "lead_id = $7, trunk_id = $8, number_id = $9, caller = $10, callee = $11, "
               "sip_call_id = $12, sip_status = $13, outcome = $14, end_reason = $15, "
               "codec = $16, srtp = $17, recording_path = $18, dtmf = $19, "
               "packets_sent = $20, packets_received = $21, packets_lost = $22, jitter_ms = $23, "
               "answered_at = $24, ended_at = $25, updated_at = $26 WHERE id = $1 AND "
               "tenant_id = $2",
               p, {});
  if (!r) return std::move(r).err();
  if (*r == 0) return not_found("call", c.id.str());
  return unit;
}

result<call_record> sql_store::get_call(const tenant_id& t, const call_id& id) {
  return select_one<call_record>("SELECT " GOBI_CALL_COLUMNS
                                 " FROM calls WHERE tenant_id = $1 AND id = $2",
                                 {t.str(), id.str()}, read_call, "call", id.str());
}

result<page<call_record>> sql_store::list_calls(const tenant_id& t, const call_filter& f,
                                                std::int64_t offset, std::int64_t limit) {
  if (auto r = check_paging(offset, limit); !r) return std::move(r).err();
  // Only the filters given become conditions (each has its index; see migration 6), so at
  // most 16 statement texts exist for the statement cache.
  std::string where = " FROM calls WHERE tenant_id = $1";
  std::vector<sql_param> p{t.str()};
  auto add = [&](std::string_view column, sql_param v) {
    p.push_back(v);
    where += " AND ";
    where += column;
    where += " = $" + std::to_string(p.size());
  };
  if (f.status) add("status", to_string(*f.status));
  if (f.campaign) add("campaign_id", std::string_view{f.campaign->str()});
  if (f.agent) add("agent_id", std::string_view{f.agent->str()});
  if (f.direction) add("direction", to_string(*f.direction));
  page<call_record> out;
  auto total = run("SELECT COUNT(*)" + where, p, [&](const sql_row& row) -> status {
    out.total = row.int64(0);
    return unit;
  });
  if (!total) return std::move(total).err();
  auto n = p.size();
  p.insert(p.end(), {limit, offset});
  auto sql = "SELECT " GOBI_CALL_COLUMNS + where + " ORDER BY created_at DESC, id DESC LIMIT $" +
             std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2);
  auto items = run(sql, p, [&](const sql_row& row) -> status {
    auto c = read_call(row);
    if (!c) return std::move(c).err();
    out.items.push_back(std::move(c).value());
    return unit;
  });
  if (!items) return std::move(items).err();
  return out;
}

result<std::size_t> sql_store::end_unfinished_calls(millis now, const std::string& reason) {
  // The literal 'ENDED' (not a parameter) matches the partial index calls_unfinished, so
  // both planners read only the live calls.
  auto r = run("UPDATE calls SET status = $1, outcome = $2, end_reason = $3, ended_at = $4, "
               "updated_at = $4 WHERE status <> 'ENDED'",
               {to_string(call_status::ended), to_string(call_outcome::failed), reason, now});
  if (!r) return std::move(r).err();
  return static_cast<std::size_t>(*r);
}

// --- do-not-call ---------------------------------------------------------------------------

namespace {

/// INSERT ... ON CONFLICT DO NOTHING of `rows` DNC entries in one statement.
std::string dnc_insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO dnc_numbers (" GOBI_DNC_COLUMNS ") VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    auto p = [&](std::size_t k) { return "$" + std::to_string(i * 4 + k); };
    sql += (i == 0 ? "(" : ", (") + p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) + ")";
  }
  sql += " ON CONFLICT (tenant_id, number) DO NOTHING";
  return sql;
}

} // namespace

result<std::size_t> sql_store::add_dnc(const std::vector<dnc_entry>& entries) {
  if (entries.empty()) return std::size_t{0};
  transaction tx{*this};
  if (auto r = tx.begin(); !r) return std::move(r).err();
  // Many rows per statement (a round trip per row made a national list take minutes on
  // PostgreSQL); a few fixed batch sizes keep the statement cache small. A number listed
  // twice in one batch is skipped like one already stored.
  std::size_t added = 0;
  std::size_t next = 0;
  std::vector<sql_param> params;
  for (std::size_t batch : defaults::dnc_insert_batch_rows) {
    if (entries.size() - next < batch) continue;
    auto sql = dnc_insert_sql(batch);
    for (; entries.size() - next >= batch; next += batch) {
      params.clear();
      for (std::size_t i = next; i < next + batch; ++i) {
        const auto& e = entries[i];
        params.insert(params.end(), {e.tenant.str(), e.number, e.reason, e.created_at});
      }
      auto r = run(sql, params);
      if (!r) {
        if (r.err().code == errc::not_found)
          return error{errc::not_found, "tenant not found: " + r.err().message};
        return std::move(r).err();
      }
      added += static_cast<std::size_t>(*r);
    }
  }
  if (auto r = tx.commit(); !r) return std::move(r).err();
  return added;
}

status sql_store::remove_dnc(const tenant_id& t, std::string_view e164) {
  auto r = exec_checked("DELETE FROM dnc_numbers WHERE tenant_id = $1 AND number = $2",
                        {t.str(), e164}, "do-not-call number", e164);
  if (!r) return std::move(r).err();
  return unit;
}

result<page<dnc_entry>> sql_store::list_dnc(const tenant_id& t, std::int64_t offset,
                                            std::int64_t limit) {
  if (auto r = check_paging(offset, limit); !r) return std::move(r).err();
  page<dnc_entry> out;
  auto total = run("SELECT COUNT(*) FROM dnc_numbers WHERE tenant_id = $1", {t.str()},
                   [&](const sql_row& row) -> status {
                     out.total = row.int64(0);
                     return unit;
                   });
  if (!total) return std::move(total).err();
  auto items = select_all<dnc_entry>("SELECT " GOBI_DNC_COLUMNS " FROM dnc_numbers"
                                     " WHERE tenant_id = $1 ORDER BY created_at, number"
                                     " LIMIT $2 OFFSET $3",
                                     {t.str(), limit, offset}, read_dnc);
  if (!items) return std::move(items).err();
  out.items = std::move(items).value();
  return out;
}

result<bool> sql_store::is_dnc(const tenant_id& t, std::string_view e164) {
  auto n = run("SELECT 1 FROM dnc_numbers WHERE tenant_id = $1 AND number = $2",
               {t.str(), std::string{e164}});
  if (!n) return std::move(n).err();
  return *n > 0;
}

result<std::vector<std::string>> sql_store::dnc_numbers(const tenant_id& t) {
  return select_all<std::string>("SELECT number FROM dnc_numbers WHERE tenant_id = $1"
                                 " ORDER BY number",
                                 {t.str()}, read_text);
}

} // namespace gobi::storage::detail
