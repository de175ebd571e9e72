#include "actors/api/codec.hpp"

#include "domain/defaults.hpp"
#include "domain/lead_import.hpp"
#include "domain/time.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <set>

namespace gobi::api {

namespace {

void opt_time(json::writer& w, std::string_view key, const std::optional<millis>& t) {
  w.key(key);
  if (t)
    w.string(format_iso8601(*t));
  else
    w.null();
}

template <class Id>
void opt_id(json::writer& w, std::string_view key, const std::optional<Id>& id) {
  w.key(key);
  if (id)
    w.string(id->value);
  else
    w.null();
}

/// Raw JSON text from storage; "{}" when empty (older rows, or never set).
std::string_view obj_or_empty(const std::string& s) {
  return s.empty() ? std::string_view{"{}"} : std::string_view{s};
}

constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};

/// Reads optional fields of a JSON object, stopping at the first invalid one: each method
/// returns false and leaves a 422 naming the field once something is wrong.
class fields {
public:
  explicit fields(const json::value& v) : v_(v) {}

  bool failed() const noexcept { return err_.has_value(); }
  /// The first error (call only when failed()).
  error first_error() const { return err_ ? *err_ : error{errc::internal, "no error"}; }
  status result() const {
    if (err_)
      return *err_;
    return unit;
  }

  bool fail(std::string_view field, std::string why) {
    if (!err_)
      err_ = error{errc::validation, std::string{field} + ": " + why, std::string{field}};
    return false;
  }

  std::optional<json::value> get(std::string_view k) const {
    auto x = v_.get(k);
    if (x && x->is_null())
      return std::nullopt; // null means "not given"
    return x;
  }

  bool present(std::string_view k) const { return get(k).has_value(); }

  bool str(std::string_view k, std::string& out, std::size_t max_len = 100000,
           bool required = false) {
    auto x = get(k);
    if (!x)
      return required ? fail(k, "is required") : true;
    if (!x->is_string())
      return fail(k, "must be a string");
    if (x->as_string().size() > max_len)
      return fail(k, "is longer than " + std::to_string(max_len) + " characters");
    // Storage refuses NUL in text (PostgreSQL cannot store it); say which field here.
    if (x->as_string().find('\0') != std::string_view::npos)
      return fail(k, "must not contain a NUL character");
    out = std::string{x->as_string()};
    if (required && out.find_first_not_of(" \t\r\n") == std::string::npos)
      return fail(k, "must not be empty");
    return true;
  }

  bool num(std::string_view k, double& out, double lo, double hi) {
    auto x = get(k);
    if (!x)
      return true;
    if (!x->is_number())
      return fail(k, "must be a number");
    auto d = x->as_double();
    if (!std::isfinite(d) || d < lo || d > hi)
      return fail(k, "must be between " + fmt(lo) + " and " + fmt(hi));
    out = d;
    return true;
  }

  bool integer(std::string_view k, int& out, int lo, int hi) {
    auto x = get(k);
    if (!x)
      return true;
    auto i = x->as_int();
    if (!x->is_number() || !i)
      return fail(k, "must be an integer");
    if (*i < lo || *i > hi)
      return fail(k, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = static_cast<int>(*i);
    return true;
  }

  bool boolean(std::string_view k, bool& out) {
    auto x = get(k);
    if (!x)
      return true;
    if (!x->is_bool())
      return fail(k, "must be true or false");
    out = x->as_bool();
    return true;
  }

  bool object(std::string_view k, std::optional<json::value>& out) {
    auto x = get(k);
    if (!x)
      return true;
    if (!x->is_object())
      return fail(k, "must be an object");
    out = x;
    return true;
  }

  /// An array of strings (ids).
  bool strings(std::string_view k, std::optional<std::vector<std::string>>& out) {
    auto x = get(k);
    if (!x)
      return true;
    if (!x->is_array())
      return fail(k, "must be an array of strings");
    std::vector<std::string> v;
    for (const auto& e : x->elements()) {
      if (!e.is_string() || e.as_string().empty())
        return fail(k, "must be an array of non-empty strings");
      v.emplace_back(e.as_string());
    }
    out = std::move(v);
    return true;
  }

  template <class Enum, class Parse>
  bool enumeration(std::string_view k, Enum& out, Parse parse, std::string_view allowed,
                   bool required = false) {
    auto x = get(k);
    if (!x)
      return required ? fail(k, "is required (one of " + std::string{allowed} + ")") : true;
    std::optional<Enum> e;
    if (x->is_string())
      e = parse(x->as_string());
    if (!e)
      return fail(k, "must be one of " + std::string{allowed});
    out = *e;
    return true;
  }

private:
  static std::string fmt(double d) {
    auto s = std::to_string(d);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.')
      s.pop_back();
    return s;
  }

  json::value v_;
  std::optional<error> err_;
};

template <class Id>
std::vector<Id> to_ids(const std::vector<std::string>& v) {
  std::vector<Id> out;
  std::set<std::string> seen;
  for (const auto& s : v)
    if (seen.insert(s).second)
      out.emplace_back(s);
  return out;
}

} // namespace

// --- encoding -------------------------------------------------------------------------------

void write(json::writer& w, const agent& a) {
  w.begin_object()
    .field("id", a.id.value)
    .field("tenantId", a.tenant.value)
    .field("name", a.name)
    .field("description", a.description)
    .field("systemPrompt", a.system_prompt)
    .field("personality", a.personality)
    .field("greetingMessage", a.greeting_message)
    .field("llmProvider", a.llm_provider)
    .field("llmModel", a.llm_model)
    .field("temperature", a.temperature)
    .field("voiceProvider", a.voice_provider)
    .field("voiceId", a.voice_id)
    .field("sttProvider", a.stt_provider)
    .field("sttLanguage", a.stt_language)
    .field("maxConcurrentCalls", a.max_concurrent_calls);
  w.key("metadata").raw(obj_or_empty(a.metadata_json));
  w.field("status", to_string(a.status));
  opt_time(w, "lastHeartbeatAt", a.last_heartbeat_at);
  w.key("runtimeMetrics").raw(obj_or_empty(a.runtime_metrics_json));
  w.field("createdAt", format_iso8601(a.created_at))
    .field("updatedAt", format_iso8601(a.updated_at))
    .end_object();
}

void write(json::writer& w, const campaign& c) {
  w.begin_object()
    .field("id", c.id.value)
    .field("tenantId", c.tenant.value)
    .field("name", c.name)
    .field("description", c.description)
    .field("campaignType", to_string(c.type))
    .field("status", to_string(c.status));
  w.key("agents").begin_array();
  for (const auto& a : c.agents)
    w.begin_object()
      .field("agentId", a.agent.value)
      .field("priority", a.priority)
      .field("active", a.active)
      .end_object();
  w.end_array();
  w.key("agentIds").begin_array();
  for (const auto& a : c.agents)
    w.string(a.agent.value);
  w.end_array();
  w.key("leadListIds").begin_array();
  for (const auto& l : c.lead_lists)
    w.string(l.value);
  w.end_array();
  w.key("numberIds").begin_array();
  for (const auto& n : c.numbers)
    w.string(n.value);
  w.end_array();
  w.field("agentInstructions", c.agent_instructions)
    .field("sessionScript", c.session_script)
    .field("dialerType", to_string(c.dialer))
    .field("dialRatio", c.dial_ratio)
    .field("maxAbandonRate", c.max_abandon_rate)
    .field("maxAttempts", c.max_attempts)
    .field("retryDelaySeconds", c.retry_delay_s)
    .field("maxConcurrentCalls", c.max_concurrent_calls);
  w.key("callingWindow")
    .begin_object()
    .field("start", format_hhmm(c.window.start_minute))
    .field("end", format_hhmm(c.window.end_minute));
  w.key("days").begin_array();
  for (std::size_t i = 0; i < day_names.size(); ++i)
    if (c.window.days & (1u << i))
      w.string(day_names[i]);
  w.end_array();
  w.field("timezone", c.window.timezone.empty() ? std::string{"America/New_York"}
                                                : c.window.timezone)
    .end_object();
  w.field("createdAt", format_iso8601(c.created_at))
    .field("updatedAt", format_iso8601(c.updated_at))
    .end_object();
}

void write(json::writer& w, const lead_list& l) {
  w.begin_object()
    .field("id", l.id.value)
    .field("tenantId", l.tenant.value)
    .field("name", l.name)
    .field("description", l.description)
    .field("leadCount", l.lead_count)
    .field("createdAt", format_iso8601(l.created_at))
    .field("updatedAt", format_iso8601(l.updated_at))
    .end_object();
}

void write(json::writer& w, const lead& l) {
  w.begin_object()
    .field("id", l.id)
    .field("listId", l.list.value)
    .field("phoneNumber", l.phone)
    .field("name", l.name)
    .field("email", l.email)
    .field("companyName", l.company_name)
    .field("jobTitle", l.job_title)
    .field("timezone", l.timezone)
    .field("resourceName", l.resource_name);
  w.key("customFields").raw(obj_or_empty(l.custom_fields_json));
  w.field("state", to_string(l.state))
    .field("attempts", l.attempts)
    .field("createdAt", format_iso8601(l.created_at))
    .end_object();
}

void write(json::writer& w, const phone_number& n) {
  w.begin_object()
    .field("id", n.id.value)
    .field("tenantId", n.tenant.value)
    .field("number", n.number)
    .field("label", n.label);
  opt_id(w, "agentId", n.agent);
  opt_id(w, "campaignId", n.campaign);
  w.field("createdAt", format_iso8601(n.created_at))
    .field("updatedAt", format_iso8601(n.updated_at))
    .end_object();
}

void write(json::writer& w, const dnc_entry& d) {
  w.begin_object()
    .field("number", d.number)
    .field("reason", d.reason)
    .field("createdAt", format_iso8601(d.created_at))
    .end_object();
}

void write(json::writer& w, const prompt_change& p) {
  w.begin_object()
    .field("id", p.id)
    .field("agentId", p.agent.value)
    .field("systemPrompt", p.system_prompt)
    .field("previousPrompt", p.previous_prompt)
    .field("changedBy", p.changed_by.value)
    .field("changedByEmail", p.changed_by_email)
    .field("changedAt", format_iso8601(p.changed_at))
    .end_object();
}

void write(json::writer& w, const user& u, const tenant* t) {
  w.begin_object()
    .field("id", u.id.value)
    .field("email", u.email)
    .field("name", u.name)
    .field("role", u.role)
    .field("tenantId", u.tenant.value);
  if (t)
    w.field("tenantName", t->name);
  w.field("createdAt", format_iso8601(u.created_at)).end_object();
}

void write(json::writer& w, const actors::import_report& r) {
  w.begin_object()
    .field("imported", r.imported)
    .field("duplicates", r.duplicates)
    .field("dnc", r.dnc)
    .field("rows", r.rows);
  w.key("invalid").begin_array();
  for (const auto& [line, reason] : r.invalid)
    w.begin_object().field("line", line).field("reason", reason).end_object();
  w.end_array().end_object();
}

void write(json::writer& w, const sip_trunk& t) {
  w.begin_object()
      .field("id", t.id.value)
      .field("tenantId", t.tenant.value)
      .field("name", t.name)
      .field("host", t.host)
      .field("port", t.port)
      .field("transport", to_string(t.transport))
      .field("username", t.username)
      .field("hasPassword", !t.password.empty())
      .field("fromNumber", t.from_number)
      .field("maxChannels", t.max_channels)
      .field("callsPerSecond", t.calls_per_second)
      .field("createdAt", format_iso8601(t.created_at))
      .field("updatedAt", format_iso8601(t.updated_at))
      .end_object();
}

void write(json::writer& w, const call_record& c) {
  auto text_or_null = [&](std::string_view key, const std::string& v) {
    if (v.empty())
      w.key(key).null();
    else
      w.field(key, v);
  };
  w.begin_object()
      .field("id", c.id.value)
      .field("tenantId", c.tenant.value)
      .field("direction", to_string(c.direction))
      .field("status", to_string(c.status));
  opt_id(w, "agentId", c.agent);
  opt_id(w, "campaignId", c.campaign);
  w.key("leadId");
  if (c.lead)
    w.number(*c.lead);
  else
    w.null();
  opt_id(w, "trunkId", c.trunk);
  opt_id(w, "numberId", c.number);
  w.field("from", c.from).field("to", c.to).field("sipCallId", c.sip_call_id);
  w.key("sipStatus");
  if (c.sip_status != 0)
    w.number(std::int64_t{c.sip_status});
  else
    w.null();
  w.key("outcome");
  if (c.outcome)
    w.string(to_string(*c.outcome));
  else
    w.null();
  text_or_null("endReason", c.end_reason);
  text_or_null("codec", c.codec);
  w.field("srtp", c.srtp).field("hasRecording", !c.recording_path.empty()).field("dtmf", c.dtmf);
  w.key("media");
  if (c.media)
    w.begin_object()
        .field("packetsSent", c.media->packets_sent)
        .field("packetsReceived", c.media->packets_received)
        .field("packetsLost", c.media->packets_lost)
        .field("jitterMs", c.media->jitter_ms)
        .end_object();
  else
    w.null();
  w.field("createdAt", format_iso8601(c.created_at));
  opt_time(w, "answeredAt", c.answered_at);
  opt_time(w, "endedAt", c.ended_at);
  w.key("durationMs");
  if (c.answered_at && c.ended_at)
    w.number(std::max<std::int64_t>(0, *c.ended_at - *c.answered_at));
  else
    w.null();
  w.field("updatedAt", format_iso8601(c.updated_at)).end_object();
}

std::string runtime_config_json(const agent& a, millis now, std::int64_t ttl_s) {
  auto meta = json::parse(obj_or_empty(a.metadata_json));
  auto meta_str = [&](std::string_view k) -> std::string {
    if (meta)
      if (auto v = meta->root().get(k); v && v->is_string())
        return std::string{v->as_string()};
    return {};
  };
  json::writer w;
  w.begin_object().field("success", true).key("config").begin_object()
    .field("agent_id", a.id.value)
    .field("name", a.name)
    .field("system_prompt", a.system_prompt)
    .field("personality", a.personality)
    .field("greeting_message", a.greeting_message)
    .field("llm_provider", a.llm_provider)
    .field("llm_model", a.llm_model)
    .field("temperature", a.temperature)
    .field("voice_id", a.voice_id)
    .field("tts_provider", a.voice_provider)
    .field("tts_voice_id", a.voice_id)
    .field("stt_provider", a.stt_provider)
    .field("stt_language", a.stt_language)
    .field("transfer_number", meta_str("transferNumber"))
    .field("fallback_number", meta_str("fallbackNumber"))
    .field("status", to_string(a.status))
    .field("max_concurrent_calls", a.max_concurrent_calls);
  w.key("metadata").raw(obj_or_empty(a.metadata_json));
  w.end_object()
    .field("cached_until", format_iso8601(now + ttl_s * 1000))
    .field("timestamp", format_iso8601(now))
    .end_object();
  return w.take();
}

std::string error_json(const error& e) {
  json::writer w;
  w.begin_object().key("error").begin_object()
    .field("code", to_string(e.code))
    .field("message", e.message);
  if (!e.field.empty())
    w.field("field", e.field);
  w.end_object().end_object();
  return w.take();
}

// --- decoding -------------------------------------------------------------------------------

result<json::document> parse_object(std::string_view body) {
  auto doc = json::parse(body);
  if (!doc)
    return std::move(doc).err();
  if (!doc->root().is_object())
    return error{errc::invalid_argument, "the body must be a JSON object"};
  return doc;
}

std::optional<int> parse_hhmm(std::string_view s) noexcept {
  if (s.size() != 5 || s[2] != ':')
    return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4]))
    return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0))
    return std::nullopt;
  return h * 60 + m;
}

std::string format_hhmm(int minutes) {
  std::string out(5, '0');
  auto h = (minutes / 60) % 100;
  auto m = minutes % 60;
  out[0] = static_cast<char>('0' + h / 10);
  out[1] = static_cast<char>('0' + h % 10);
  out[2] = ':';
  out[3] = static_cast<char>('0' + m / 10);
  out[4] = static_cast<char>('0' + m % 10);
  return out;
}

status read_agent(const json::value& in, agent& a, bool create, const phone::normalizer& pn) {
  fields f{in};
  f.str("name", a.name, 200, create || f.present("name"))
    && f.str("description", a.description, 2000)
    && f.str("systemPrompt", a.system_prompt, 100000)
    && f.str("personality", a.personality, 5000)
    && f.str("greetingMessage", a.greeting_message, 5000)
    && f.str("llmProvider", a.llm_provider, 100)
    && f.str("llmModel", a.llm_model, 200)
    && f.num("temperature", a.temperature, 0.0, 2.0)
    && f.str("voiceProvider", a.voice_provider, 100)
    && f.str("voiceId", a.voice_id, 200)
    && f.str("sttProvider", a.stt_provider, 100)
    && f.str("sttLanguage", a.stt_language, 35)
    && f.integer("maxConcurrentCalls", a.max_concurrent_calls, 1, 100000);
  if (f.failed())
    return f.result();
  std::optional<json::value> meta;
  if (!f.object("metadata", meta))
    return f.result();
  if (!meta)
    return unit;
  // Normalise the numbers a transfer will dial; check the shapes others will read.
  json::writer w;
  w.begin_object();
  for (const auto& [k, v] : meta->members()) {
    std::string field = "metadata." + std::string{k};
    if (k == "transferNumber" || k == "fallbackNumber") {
      if (v.is_null() || (v.is_string() && v.as_string().empty())) {
        w.key(k).null();
        continue;
      }
      if (!v.is_string())
        return error{errc::validation, field + ": must be a phone number string", field};
      auto e164 = pn.to_e164(v.as_string());
      if (!e164)
        return error{errc::validation, field + ": " + e164.err().message, field};
      w.key(k).string(*e164);
    } else if (k == "businessHours" || k == "outboundConfig") {
      if (!v.is_object() && !v.is_null())
        return error{errc::validation, field + ": must be an object", field};
      w.key(k).raw(v.to_json());
    } else {
      w.key(k).raw(v.to_json());
    }
  }
  w.end_object();
  a.metadata_json = w.take();
  return unit;
}

status read_campaign(const json::value& in, campaign& c, bool create) {
  fields f{in};
  f.str("name", c.name, 200, create || f.present("name"))
    && f.str("description", c.description, 2000)
    && f.enumeration("campaignType", c.type, parse_campaign_type, "INBOUND, OUTBOUND", create)
    && f.str("agentInstructions", c.agent_instructions, 100000)
    && f.str("sessionScript", c.session_script, 100000)
    && f.enumeration("dialerType", c.dialer, parse_dialer_type,
                     "progressive, predictive, ratio")
    && f.num("dialRatio", c.dial_ratio, 1.0, 10.0)
    && f.num("maxAbandonRate", c.max_abandon_rate, 0.0, 0.5)
    && f.integer("maxAttempts", c.max_attempts, 1, 100)
    && f.integer("retryDelaySeconds", c.retry_delay_s, 0, 30 * 86400)
    && f.integer("maxConcurrentCalls", c.max_concurrent_calls, 0, 100000);
  if (f.failed())
    return f.result();
  // `status` may be sent back as read (GET -> PUT round trips); changing it is start/pause.
  campaign_status sent = c.status;
  if (!f.enumeration("status", sent, parse_campaign_status, "DRAFT, RUNNING, PAUSED, COMPLETED"))
    return f.result();
  if (sent != c.status)
    return error{errc::validation,
                 "status: is changed with POST /campaigns/:id/start and /pause", "status"};

  // Agents: "agents": [{agentId, priority, active}] or "agentIds": [...] (priority by order).
  if (auto agents = f.get("agents")) {
    if (!agents->is_array())
      return error{errc::validation, "agents: must be an array", "agents"};
    std::vector<campaign_agent> out;
    std::set<std::string> seen;
    int i = 0;
    for (const auto& e : agents->elements()) {
      ++i;
      auto id = e.get("agentId");
      if (!e.is_object() || !id || !id->is_string() || id->as_string().empty())
        return error{errc::validation, "agents: each entry needs an agentId string", "agents"};
      campaign_agent ca{agent_id{std::string{id->as_string()}}, i, true};
      fields ef{e};
      if (!ef.integer("priority", ca.priority, 0, 1000) || !ef.boolean("active", ca.active))
        return error{errc::validation, "agents: " + ef.first_error().message, "agents"};
      if (seen.insert(ca.agent.value).second)
        out.push_back(std::move(ca));
    }
    c.agents = std::move(out);
  } else {
    std::optional<std::vector<std::string>> ids;
    if (!f.strings("agentIds", ids))
      return f.result();
    if (ids) {
      c.agents.clear();
      int prio = 1;
      for (auto& id : to_ids<agent_id>(*ids))
        c.agents.push_back({std::move(id), prio++, true});
    }
  }
  std::optional<std::vector<std::string>> lists, numbers;
  if (!f.strings("leadListIds", lists) || !f.strings("numberIds", numbers))
    return f.result();
  if (lists)
    c.lead_lists = to_ids<lead_list_id>(*lists);
  if (numbers)
    c.numbers = to_ids<phone_number_id>(*numbers);

  std::optional<json::value> win;
  if (!f.object("callingWindow", win))
    return f.result();
  if (win) {
    auto bad = [](std::string what) {
      return error{errc::validation, "callingWindow." + what, "callingWindow"};
    };
    fields wf{*win};
    std::string start = format_hhmm(c.window.start_minute);
    std::string end = format_hhmm(c.window.end_minute);
    if (!wf.str("start", start, 5) || !wf.str("end", end, 5)
        || !wf.str("timezone", c.window.timezone, 64))
      return bad(wf.first_error().message);
    if (!c.window.timezone.empty() && !leads::is_plausible_timezone(c.window.timezone))
      return bad("timezone: must be an IANA time zone like America/New_York, or UTC");
    auto s = parse_hhmm(start);
    auto e = parse_hhmm(end);
    if (!s)
      return bad("start: must be HH:MM");
    if (!e)
      return bad("end: must be HH:MM");
    if (*s >= *e)
      return bad("start: must be before end");
    c.window.start_minute = *s;
    c.window.end_minute = *e;
    if (auto days = wf.get("days")) {
      if (!days->is_array())
        return bad("days: must be an array like [\"mon\", \"tue\"]");
      std::uint8_t mask = 0;
      for (const auto& d : days->elements()) {
        auto it = std::find(day_names.begin(), day_names.end(),
                            d.is_string() ? d.as_string() : std::string_view{});
        if (it == day_names.end())
          return bad("days: each must be one of mon, tue, wed, thu, fri, sat, sun");
        mask |= static_cast<std::uint8_t>(1u << (it - day_names.begin()));
      }
      if (mask == 0)
        return bad("days: must name at least one day");
      c.window.days = mask;
    }
  }
  return unit;
}

status read_lead_list(const json::value& in, lead_list& l, bool create) {
  fields f{in};
  f.str("name", l.name, 200, create || f.present("name"))
    && f.str("description", l.description, 2000);
  return f.result();
}

status read_phone_number(const json::value& in, phone_number& n, bool create,
                         const phone::normalizer& pn) {
  fields f{in};
  std::string number;
  if (!f.str("number", number, 64, create) || !f.str("label", n.label, 200))
    return f.result();
  if (f.present("number") && number.empty())
    return error{errc::validation, "number: must not be empty", "number"};
  if (!f.present("label") && f.present("friendlyName") && !f.str("friendlyName", n.label, 200))
    return f.result();
  if (!number.empty()) {
    auto e164 = pn.to_e164(number);
    if (!e164)
      return error{errc::validation, "number: " + e164.err().message, "number"};
    n.number = *e164;
  }
  if (f.present("agentId")) {
    std::string a;
    if (!f.str("agentId", a, 64))
      return f.result();
    n.agent = agent_id{a};
  } else if (auto v = in.get("agentId"); v && v->is_null()) {
    n.agent.reset();
  }
  if (f.present("campaignId")) {
    std::string c;
    if (!f.str("campaignId", c, 64))
      return f.result();
    n.campaign = campaign_id{c};
  } else if (auto v = in.get("campaignId"); v && v->is_null()) {
    n.campaign.reset();
  }
  return unit;
}

namespace {

status check_email(const std::string& email) {
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos
      || email.find('.', at) == std::string::npos || email.back() == '.'
      || email.find_first_of(" \t\r\n") != std::string::npos)
    return error{errc::validation, "email: is not a valid e-mail address", "email"};
  return unit;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace

result<registration> read_registration(const json::value& in) {
  registration r;
  fields f{in};
  if (!f.str("email", r.email, 254, true) || !f.str("password", r.password, 1024, true)
      || !f.str("name", r.name, 200) || !f.str("tenantName", r.tenant_name, 200, true))
    return f.first_error();
  r.email = lower(r.email);
  if (auto ok = check_email(r.email); !ok)
    return std::move(ok).err();
  if (r.password.size() < defaults::password_min_length)
    return error{errc::validation,
                 "password: must be at least " + std::to_string(defaults::password_min_length)
                   + " characters",
                 "password"};
  return r;
}

result<login> read_login(const json::value& in) {
  login l;
  fields f{in};
  if (!f.str("email", l.email, 254, true) || !f.str("password", l.password, 1024, true))
    return f.first_error();
  l.email = lower(l.email);
  return l;
}

result<actors::heartbeat_report> read_heartbeat(const json::value& in) {
  actors::heartbeat_report r;
  fields f{in};
  std::optional<json::value> metrics;
  if (!f.enumeration("status", r.status, parse_runtime_status, "RUNNING, STOPPED")
      || !f.object("metrics", metrics))
    return f.first_error();
  if (metrics)
    r.metrics_json = metrics->to_json();
  return r;
}

result<std::vector<std::string>> read_dnc_numbers(const json::value& in,
                                                  const phone::normalizer& pn,
                                                  std::string& reason) {
  fields f{in};
  std::optional<std::vector<std::string>> many;
  std::string one;
  if (!f.strings("numbers", many) || !f.str("number", one, 64) || !f.str("reason", reason, 500))
    return f.first_error();
  std::vector<std::string> raw = many ? *many : std::vector<std::string>{};
  if (!one.empty())
    raw.push_back(one);
  if (raw.empty())
    return error{errc::validation, "numbers: give \"numbers\": [...] or \"number\"", "numbers"};
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::string bad;
  for (const auto& r : raw) {
    auto e = pn.to_e164(r);
    if (!e) {
      bad += (bad.empty() ? "" : "; ") + r + " (" + e.err().message + ")";
      continue;
    }
    if (seen.insert(*e).second)
      out.push_back(std::move(*e));
  }
  if (!bad.empty())
    return error{errc::validation, "numbers: invalid: " + bad, "numbers"};
  return out;
}

namespace {

/// A host name, an IPv4 literal or an IPv6 literal (bare or bracketed): letters, digits and
/// ".-", or hex digits and ":" between optional brackets. "sip:host" and "host:port" have
/// one colon, which no IPv6 literal has.
bool plausible_host(std::string_view h) {
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || h.size() > 253) return false;
  auto colons = std::count(h.begin(), h.end(), ':');
  if (colons == 1) return false;
  for (unsigned char ch : h)
    if (!std::isalnum(ch) && ch != '.' && ch != '-' && !(ch == ':' && colons > 1)) return false;
  return true;
}

/// A phone number field normalised to E.164; "" stays "".
status e164_field(const phone::normalizer& pn, std::string_view field, std::string& v) {
  if (v.empty()) return unit;
  auto e = pn.to_e164(v);
  if (!e)
    return error{errc::validation, std::string{field} + ": " + e.err().message, std::string{field}};
  v = std::move(*e);
  return unit;
}

} // namespace

status read_sip_trunk(const json::value& in, sip_trunk& t, bool create,
                      const phone::normalizer& pn) {
  fields f{in};
  std::string from = t.from_number;
  if (!f.str("name", t.name, 200, create || f.present("name")) ||
      !f.str("host", t.host, 253, create || f.present("host")) ||
      !f.integer("port", t.port, 1, 65535) ||
      !f.enumeration("transport", t.transport, parse_sip_transport_kind, "udp, tcp") ||
      !f.str("username", t.username, 256) || !f.str("password", t.password, 256) ||
      !f.str("fromNumber", from, 64) || !f.integer("maxChannels", t.max_channels, 1, 100000) ||
      !f.num("callsPerSecond", t.calls_per_second, 0, 10000))
    return f.result();
  if (!plausible_host(t.host))
    return error{errc::validation,
                 "host: must be a host name or an IP address (no scheme, port or spaces)", "host"};
  if (!(t.calls_per_second > 0))
    return error{errc::validation, "callsPerSecond: must be greater than 0", "callsPerSecond"};
  if (auto ok = e164_field(pn, "fromNumber", from); !ok) return ok;
  t.from_number = std::move(from);
  return unit;
}

result<actors::originate_request> read_originate(const json::value& in,
                                                 const phone::normalizer& pn) {
  actors::originate_request r;
  fields f{in};
  std::string agent, trunk, campaign;
  if (!f.str("agentId", agent, 64, true) || !f.str("to", r.to, 64, true) ||
      !f.str("trunkId", trunk, 64, true) || !f.str("from", r.from, 64) ||
      !f.str("campaignId", campaign, 64))
    return f.first_error();
  if (auto ok = e164_field(pn, "to", r.to); !ok) return std::move(ok).err();
  if (auto ok = e164_field(pn, "from", r.from); !ok) return std::move(ok).err();
  if (auto lead = f.get("leadId")) {
    auto id = lead->as_int();
    if (!lead->is_number() || !id || *id < 1)
      return error{errc::validation, "leadId: must be a positive integer", "leadId"};
    r.lead = *id;
  }
  r.agent = agent_id{agent};
  r.trunk = sip_trunk_id{trunk};
  if (!campaign.empty()) r.campaign = campaign_id{campaign};
  return r;
}

result<call_filter> read_call_filter(std::string_view status, std::string_view campaign_id_,
                                     std::string_view agent_id_, std::string_view direction) {
  call_filter f;
  if (!status.empty()) {
    f.status = parse_call_status(status);
    if (!f.status)
      return error{errc::invalid_argument,
                   "status: must be one of DIALING, RINGING, ANSWERED, ENDED", "status"};
  }
  if (!direction.empty()) {
    f.direction = parse_call_direction(direction);
    if (!f.direction)
      return error{errc::invalid_argument, "direction: must be INBOUND or OUTBOUND", "direction"};
  }
  if (!campaign_id_.empty()) f.campaign = campaign_id{std::string{campaign_id_}};
  if (!agent_id_.empty()) f.agent = agent_id{std::string{agent_id_}};
  return f;
}

} // namespace gobi::api
