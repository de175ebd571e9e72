#pragma once

/// The API's wire format: entities to camelCase JSON and request bodies to entities, with
/// validation that names the offending field (errc::validation, field in camelCase).
/// Pure functions on values; used by HTTP_API's handlers.

#include "actors/interfaces.hpp"
#include "domain/model.hpp"
#include "domain/phone.hpp"
#include "domain/result.hpp"
#include "transport/json/json.hpp"

#include <string>
#include <vector>

namespace gobi::api {

// --- encoding -------------------------------------------------------------------------------
void write(json::writer& w, const agent& a);
void write(json::writer& w, const campaign& c);
void write(json::writer& w, const lead_list& l);
void write(json::writer& w, const lead& l);
void write(json::writer& w, const phone_number& n);
void write(json::writer& w, const dnc_entry& d);
void write(json::writer& w, const prompt_change& p);
void write(json::writer& w, const user& u, const tenant* t);
void write(json::writer& w, const actors::import_report& r);
/// Never writes the password: `hasPassword` says whether one is set.
void write(json::writer& w, const sip_trunk& t);
/// Unset optionals (and sipStatus 0, an empty endReason or codec) are null; durationMs is
/// answered to ended, null unless both are set.
void write(json::writer& w, const call_record& c);

/// One entity as a JSON document.
template <class T>
std::string to_json(const T& x) {
  json::writer w;
  write(w, x);
  return w.take();
}

/// `{"items": [...], "total": N}`.
template <class T>
std::string to_json_list(const std::vector<T>& items, std::int64_t total) {
  json::writer w;
  w.begin_object().key("items").begin_array();
  for (const auto& x : items)
    write(w, x);
  w.end_array().field("total", total).end_object();
  return w.take();
}

/// The seeds' runtime-config document (snake_case, as core_voice_worker reads it).
std::string runtime_config_json(const agent& a, millis now, std::int64_t ttl_s);

/// `{"error": {"code", "message", "field"?}}`.
std::string error_json(const error& e);

// --- decoding -------------------------------------------------------------------------------

/// The body as a JSON object: 400 for malformed JSON (saying where) or a non-object.
result<json::document> parse_object(std::string_view body);

/// Applies the fields present in `in` onto `a`. With `create`, `name` is required.
/// Phone numbers in metadata (transferNumber, fallbackNumber) are normalised to E.164.
status read_agent(const json::value& in, agent& a, bool create, const phone::normalizer& pn);

/// Applies the fields present onto `c`. With `create`, name and campaignType are required.
/// Reference checks (agents exist and are ACTIVE, lists exist) need storage: see
/// check_campaign_refs.
status read_campaign(const json::value& in, campaign& c, bool create);

status read_lead_list(const json::value& in, lead_list& l, bool create);
status read_phone_number(const json::value& in, phone_number& n, bool create,
                         const phone::normalizer& pn);

/// Applies the fields present onto `t`. With `create`, name and host are required.
/// transport is "udp" or "tcp" (any case); fromNumber is normalised to E.164 ("" clears it);
/// an omitted password keeps the stored one, "" clears it.
status read_sip_trunk(const json::value& in, sip_trunk& t, bool create,
                      const phone::normalizer& pn);

/// `POST /calls`: {agentId, to, trunkId, from?, campaignId?, leadId?}; to and from normalised
/// to E.164. Whether the agent, trunk and campaign exist needs storage (the handler checks).
result<actors::originate_request> read_originate(const json::value& in,
                                                 const phone::normalizer& pn);

/// The `GET /calls` filters from their query parameters ("" = not given): status and
/// direction in any case; errc::invalid_argument (400) naming the parameter otherwise.
result<call_filter> read_call_filter(std::string_view status, std::string_view campaign,
                                     std::string_view agent, std::string_view direction);

struct registration {
  std::string email, password, name, tenant_name;
};
result<registration> read_registration(const json::value& in);

struct login {
  std::string email, password;
};
result<login> read_login(const json::value& in);

result<actors::heartbeat_report> read_heartbeat(const json::value& in);

/// DNC additions: `{"numbers": [...], "reason"?}` or `{"number": "...", "reason"?}`. Every
/// number must be valid (422 lists the bad ones); they come back in E.164, deduplicated.
result<std::vector<std::string>> read_dnc_numbers(const json::value& in,
                                                  const phone::normalizer& pn,
                                                  std::string& reason);

/// "08:00" -> 480; nullopt for anything else.
std::optional<int> parse_hhmm(std::string_view s) noexcept;
std::string format_hhmm(int minutes);

} // namespace gobi::api
