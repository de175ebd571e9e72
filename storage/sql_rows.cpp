#include "storage/sql_rows.hpp"

namespace gobi::storage::detail {

namespace {

/// Reads typed columns off a row and remembers the first value it could not decode (an enum
/// spelling the domain does not know means the database holds something it should not).
class decoder {
public:
  explicit decoder(const sql_row& r)
      : r_(r) {}

  std::string str(int c) const { return std::string{r_.text(c)}; }
  std::int64_t i64(int c) const { return r_.int64(c); }
  int i32(int c) const { return static_cast<int>(r_.int64(c)); }
  double f64(int c) const { return r_.real(c); }
  bool flag(int c) const { return r_.boolean(c); }
  std::optional<std::int64_t> opt_i64(int c) const {
    if (r_.is_null(c)) return std::nullopt;
    return r_.int64(c);
  }
  template <class Id> std::optional<Id> opt_id(int c) const {
    if (r_.is_null(c)) return std::nullopt;
    return Id{str(c)};
  }

  template <class E>
  E enumerated(int c, std::optional<E> (*parse)(std::string_view) noexcept,
               std::string_view column) {
    auto text = r_.text(c);
    if (auto v = parse(text)) return *v;
    if (!error_)
      error_ = error{errc::storage, "unexpected value '" + std::string{text} + "' in column " +
                                        std::string{column}};
    return E{};
  }

  /// The value read, or the first decoding error.
  template <class T> result<T> finish(T value) {
    if (error_) return *error_;
    return value;
  }

private:
  const sql_row& r_;
  std::optional<error> error_;
};

} // namespace

// --- reading rows --------------------------------------------------------------------------

result<tenant> read_tenant(const sql_row& r) {
  decoder d{r};
  return d.finish(tenant{tenant_id{d.str(0)}, d.str(1), d.i64(2)});
}

result<user> read_user(const sql_row& r) {
  decoder d{r};
  user u;
  u.id = user_id{d.str(0)};
  u.tenant = tenant_id{d.str(1)};
  u.email = d.str(2);
  u.name = d.str(3);
  u.password_hash = d.str(4);
  u.role = d.str(5);
  u.created_at = d.i64(6);
  return d.finish(std::move(u));
}

result<agent> read_agent(const sql_row& r) {
  decoder d{r};
  agent a;
  a.id = agent_id{d.str(0)};
  a.tenant = tenant_id{d.str(1)};
  a.name = d.str(2);
  a.description = d.str(3);
  a.system_prompt = d.str(4);
  a.personality = d.str(5);
  a.greeting_message = d.str(6);
  a.llm_provider = d.str(7);
  a.llm_model = d.str(8);
  a.temperature = d.f64(9);
  a.voice_provider = d.str(10);
  a.voice_id = d.str(11);
  a.stt_provider = d.str(12);
  a.stt_language = d.str(13);
  a.max_concurrent_calls = d.i32(14);
  a.metadata_json = d.str(15);
  a.status = d.enumerated(16, parse_agent_status, "agents.status");
  a.last_heartbeat_at = d.opt_i64(17);
  a.runtime_metrics_json = d.str(18);
  a.created_at = d.i64(19);
  a.updated_at = d.i64(20);
  return d.finish(std::move(a));
}

result<prompt_change> read_prompt_change(const sql_row& r) {
  decoder d{r};
  prompt_change p;
  p.id = d.i64(0);
  p.agent = agent_id{d.str(1)};
  p.tenant = tenant_id{d.str(2)};
  p.system_prompt = d.str(3);
  p.previous_prompt = d.str(4);
  p.changed_by = user_id{d.str(5)};
  p.changed_by_email = d.str(6);
  p.changed_at = d.i64(7);
  return d.finish(std::move(p));
}

result<campaign> read_campaign(const sql_row& r) {
  decoder d{r};
  campaign c;
  c.id = campaign_id{d.str(0)};
  c.tenant = tenant_id{d.str(1)};
  c.name = d.str(2);
  c.description = d.str(3);
  c.type = d.enumerated(4, parse_campaign_type, "campaigns.type");
  c.status = d.enumerated(5, parse_campaign_status, "campaigns.status");
  c.agent_instructions = d.str(6);
  c.session_script = d.str(7);
  c.dialer = d.enumerated(8, parse_dialer_type, "campaigns.dialer");
  c.dial_ratio = d.f64(9);
  c.max_abandon_rate = d.f64(10);
  c.max_attempts = d.i32(11);
  c.retry_delay_s = d.i32(12);
  c.max_concurrent_calls = d.i32(13);
  c.window.start_minute = d.i32(14);
  c.window.end_minute = d.i32(15);
  c.window.days = static_cast<std::uint8_t>(d.i32(16));
  c.window.timezone = d.str(17);
  c.created_at = d.i64(18);
  c.updated_at = d.i64(19);
  return d.finish(std::move(c));
}

result<lead_list> read_lead_list(const sql_row& r) {
  decoder d{r};
  lead_list l;
  l.id = lead_list_id{d.str(0)};
  l.tenant = tenant_id{d.str(1)};
  l.name = d.str(2);
  l.description = d.str(3);
  l.lead_count = d.i64(4);
  l.created_at = d.i64(5);
  l.updated_at = d.i64(6);
  return d.finish(std::move(l));
}

result<lead> read_lead(const sql_row& r) {
  decoder d{r};
  lead l;
  l.id = d.i64(0);
  l.tenant = tenant_id{d.str(1)};
  l.list = lead_list_id{d.str(2)};
  l.phone = d.str(3);
  l.name = d.str(4);
  l.email = d.str(5);
  l.company_name = d.str(6);
  l.job_title = d.str(7);
  l.timezone = d.str(8);
  l.resource_name = d.str(9);
  l.custom_fields_json = d.str(10);
  l.state = d.enumerated(11, parse_lead_state, "leads.state");
  l.attempts = d.i32(12);
  l.created_at = d.i64(13);
  return d.finish(std::move(l));
}

result<phone_number> read_phone_number(const sql_row& r) {
  decoder d{r};
  phone_number n;
  n.id = phone_number_id{d.str(0)};
  n.tenant = tenant_id{d.str(1)};
  n.number = d.str(2);
  n.label = d.str(3);
  n.agent = d.opt_id<agent_id>(4);
  n.campaign = d.opt_id<campaign_id>(5);
  n.created_at = d.i64(6);
  n.updated_at = d.i64(7);
  return d.finish(std::move(n));
}

result<dnc_entry> read_dnc(const sql_row& r) {
  decoder d{r};
  return d.finish(dnc_entry{tenant_id{d.str(0)}, d.str(1), d.str(2), d.i64(3)});
}

result<sip_trunk> read_sip_trunk(const sql_row& r) {
  decoder d{r};
  sip_trunk t;
  t.id = sip_trunk_id{d.str(0)};
  t.tenant = tenant_id{d.str(1)};
  t.name = d.str(2);
  t.host = d.str(3);
  t.port = d.i32(4);
  t.transport = d.enumerated(5, parse_sip_transport_kind, "sip_trunks.transport");
  t.username = d.str(6);
  t.password = d.str(7);
  t.from_number = d.str(8);
  t.max_channels = d.i32(9);
  t.calls_per_second = d.f64(10);
  t.created_at = d.i64(11);
  t.updated_at = d.i64(12);
  return d.finish(std::move(t));
}

result<call_record> read_call(const sql_row& r) {
  decoder d{r};
  call_record c;
  c.id = call_id{d.str(0)};
  c.tenant = tenant_id{d.str(1)};
  c.direction = d.enumerated(2, parse_call_direction, "calls.direction");
  c.status = d.enumerated(3, parse_call_status, "calls.status");
  c.agent = d.opt_id<agent_id>(4);
  c.campaign = d.opt_id<campaign_id>(5);
  c.lead = d.opt_i64(6);
  c.trunk = d.opt_id<sip_trunk_id>(7);
  c.number = d.opt_id<phone_number_id>(8);
  c.from = d.str(9);
  c.to = d.str(10);
  c.sip_call_id = d.str(11);
  c.sip_status = d.i32(12);
  if (!r.is_null(13)) c.outcome = d.enumerated(13, parse_call_outcome, "calls.outcome");
  c.end_reason = d.str(14);
  c.codec = d.str(15);
  c.srtp = d.flag(16);
  c.recording_path = d.str(17);
  c.dtmf = d.str(18);
  if (!r.is_null(19)) {
    call_media_stats m;
    m.packets_sent = d.i64(19);
    m.packets_received = d.i64(20);
    m.packets_lost = d.i64(21);
    m.jitter_ms = d.f64(22);
    c.media = m;
  }
  c.created_at = d.i64(23);
  c.answered_at = d.opt_i64(24);
  c.ended_at = d.opt_i64(25);
  c.updated_at = d.i64(26);
  return d.finish(std::move(c));
}

result<std::string> read_text(const sql_row& r) {
  return std::string{r.text(0)};
}

// --- writing rows --------------------------------------------------------------------------

void add_agent_fields(std::vector<sql_param>& p, const agent& a) {
  p.insert(p.end(), {a.name, a.description, a.system_prompt, a.personality, a.greeting_message,
                     a.llm_provider, a.llm_model, a.temperature, a.voice_provider, a.voice_id,
                     a.stt_provider, a.stt_language, i64(a.max_concurrent_calls), a.metadata_json,
                     to_string(a.status), opt(a.last_heartbeat_at), a.runtime_metrics_json});
}

void add_campaign_fields(std::vector<sql_param>& p, const campaign& c) {
  p.insert(p.end(), {c.name, c.description, to_string(c.type), to_string(c.status),
                     c.agent_instructions, c.session_script, to_string(c.dialer), c.dial_ratio,
                     c.max_abandon_rate, i64(c.max_attempts), i64(c.retry_delay_s),
                     i64(c.max_concurrent_calls), i64(c.window.start_minute),
                     i64(c.window.end_minute), i64(c.window.days), c.window.timezone});
}

void add_sip_trunk_fields(std::vector<sql_param>& p, const sip_trunk& t) {
  p.insert(p.end(), {t.name, t.host, i64(t.port), to_string(t.transport), t.username, t.password,
                     t.from_number, i64(t.max_channels), t.calls_per_second});
}

void add_call_fields(std::vector<sql_param>& p, const call_record& c) {
  sql_param outcome = nullptr;
  if (c.outcome) outcome = to_string(*c.outcome);
  sql_param lead = nullptr;
  if (c.lead) lead = *c.lead;
  p.insert(p.end(),
           {to_string(c.direction), to_string(c.status), opt_id(c.agent), opt_id(c.campaign), lead,
            opt_id(c.trunk), opt_id(c.number), c.from, c.to, c.sip_call_id, i64(c.sip_status),
            outcome, c.end_reason, c.codec, c.srtp, c.recording_path, c.dtmf});
  if (c.media)
    p.insert(p.end(), {c.media->packets_sent, c.media->packets_received, c.media->packets_lost,
                       c.media->jitter_ms});
  else
    p.insert(p.end(), {nullptr, nullptr, nullptr, nullptr});
}

} // namespace gobi::storage::detail
