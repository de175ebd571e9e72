#include "domain/model.hpp"

#include "domain/defaults.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace gobi {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

template <class Enum, size_t N>
std::optional<Enum> parse_enum(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i)
    if (iequals(s, names[i]))
      return static_cast<Enum>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, 2> agent_status_names{"INACTIVE", "ACTIVE"};
constexpr std::array<std::string_view, 2> runtime_status_names{"RUNNING", "STOPPED"};
constexpr std::array<std::string_view, 2> campaign_type_names{"INBOUND", "OUTBOUND"};
constexpr std::array<std::string_view, 4> campaign_status_names{"DRAFT", "RUNNING", "PAUSED",
                                                                "COMPLETED"};
constexpr std::array<std::string_view, 3> dialer_type_names{"progressive", "predictive",
                                                            "ratio"};
constexpr std::array<std::string_view, 6> lead_state_names{
  "PENDING", "DNC", "DIALING", "COMPLETED", "FAILED", "EXHAUSTED"};

constexpr std::array<std::string_view, 2> sip_transport_kind_names{"udp", "tcp"};
constexpr std::array<std::string_view, 2> call_direction_names{"INBOUND", "OUTBOUND"};
constexpr std::array<std::string_view, 4> call_status_names{"DIALING", "RINGING", "ANSWERED",
                                                            "ENDED"};
constexpr std::array<std::string_view, 6> call_outcome_names{
  "answered", "busy", "no-answer", "rejected", "failed", "cancelled"};

} // namespace

std::string_view to_string(agent_status x) noexcept {
  return agent_status_names[static_cast<size_t>(x)];
}
std::string_view to_string(runtime_status x) noexcept {
  return runtime_status_names[static_cast<size_t>(x)];
}
std::string_view to_string(campaign_type x) noexcept {
  return campaign_type_names[static_cast<size_t>(x)];
}
std::string_view to_string(campaign_status x) noexcept {
  return campaign_status_names[static_cast<size_t>(x)];
}
std::string_view to_string(dialer_type x) noexcept {
  return dialer_type_names[static_cast<size_t>(x)];
}
std::string_view to_string(lead_state x) noexcept {
  return lead_state_names[static_cast<size_t>(x)];
}

std::string_view to_string(sip_transport_kind x) noexcept {
  return sip_transport_kind_names[static_cast<size_t>(x)];
}
std::string_view to_string(call_direction x) noexcept {
  return call_direction_names[static_cast<size_t>(x)];
}
std::string_view to_string(call_status x) noexcept {
  return call_status_names[static_cast<size_t>(x)];
}
std::string_view to_string(call_outcome x) noexcept {
  return call_outcome_names[static_cast<size_t>(x)];
}
std::optional<sip_transport_kind> parse_sip_transport_kind(std::string_view s) noexcept {
  return parse_enum<sip_transport_kind>(s, sip_transport_kind_names);
}
std::optional<call_direction> parse_call_direction(std::string_view s) noexcept {
  return parse_enum<call_direction>(s, call_direction_names);
}
std::optional<call_status> parse_call_status(std::string_view s) noexcept {
  return parse_enum<call_status>(s, call_status_names);
}
std::optional<call_outcome> parse_call_outcome(std::string_view s) noexcept {
  return parse_enum<call_outcome>(s, call_outcome_names);
}

std::optional<agent_status> parse_agent_status(std::string_view s) noexcept {
  return parse_enum<agent_status>(s, agent_status_names);
}
std::optional<runtime_status> parse_runtime_status(std::string_view s) noexcept {
  return parse_enum<runtime_status>(s, runtime_status_names);
}
std::optional<campaign_type> parse_campaign_type(std::string_view s) noexcept {
  return parse_enum<campaign_type>(s, campaign_type_names);
}
std::optional<campaign_status> parse_campaign_status(std::string_view s) noexcept {
  return parse_enum<campaign_status>(s, campaign_status_names);
}
std::optional<dialer_type> parse_dialer_type(std::string_view s) noexcept {
  return parse_enum<dialer_type>(s, dialer_type_names);
}
std::optional<lead_state> parse_lead_state(std::string_view s) noexcept {
  return parse_enum<lead_state>(s, lead_state_names);
}

bool append_dtmf(call_record& c, char digit) {
  constexpr std::string_view digits = "0123456789*#ABCD";
  if (digit == '\0' || digits.find(digit) == std::string_view::npos) return false;
  if (c.dtmf.size() >= defaults::max_dtmf_digits) return false;
  c.dtmf.push_back(digit);
  return true;
}

} // namespace gobi
