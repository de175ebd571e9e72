#pragma once

/// The entities gobi manages, as plain values. Storage persists them, the API encodes them,
/// actors own their live state. Times are milliseconds since the Unix epoch (`millis`),
/// always passed in by the caller: the domain never reads a clock.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi {

using millis = std::int64_t; ///< milliseconds since 1970-01-01T00:00:00Z

/// A string id that cannot be mixed up with another entity's id.
template <class Tag>
struct strong_id {
  std::string value;

  strong_id() = default;
  explicit strong_id(std::string v) : value(std::move(v)) {}
  bool empty() const noexcept { return value.empty(); }
  const std::string& str() const noexcept { return value; }
  friend bool operator==(const strong_id&, const strong_id&) = default;
  friend auto operator<=>(const strong_id&, const strong_id&) = default;
};

using tenant_id = strong_id<struct tenant_tag>;
using user_id = strong_id<struct user_tag>;
using agent_id = strong_id<struct agent_tag>;
using campaign_id = strong_id<struct campaign_tag>;
using lead_list_id = strong_id<struct lead_list_tag>;
using phone_number_id = strong_id<struct phone_number_tag>;
using sip_trunk_id = strong_id<struct sip_trunk_tag>;
using call_id = strong_id<struct call_tag>;
using lead_id = std::int64_t; ///< leads are many: an integer key keeps imports fast

/// Id prefixes, so an id says what it names ("agt_..."), as Stripe-style ids do.
namespace id_prefix {
inline constexpr std::string_view tenant = "ten";
inline constexpr std::string_view user = "usr";
inline constexpr std::string_view agent = "agt";
inline constexpr std::string_view campaign = "cmp";
inline constexpr std::string_view lead_list = "lst";
inline constexpr std::string_view phone_number = "num";
inline constexpr std::string_view sip_trunk = "trk";
inline constexpr std::string_view call = "call";
} // namespace id_prefix

// --- enums, each with to_string (the API's spelling) and a parser -------------------------

enum class agent_status { inactive, active };
enum class runtime_status { running, stopped }; ///< what an agent runtime reports in heartbeats
enum class campaign_type { inbound, outbound };
enum class campaign_status { draft, running, paused, completed };
enum class dialer_type { progressive, predictive, ratio };
enum class lead_state { pending, dnc, dialing, completed, failed, exhausted };
enum class sip_transport_kind { udp, tcp };
enum class call_direction { inbound, outbound };
/// DIALING (INVITE sent / received) -> RINGING (180/183 seen or sent) -> ANSWERED (2xx) ->
/// ENDED; any state may go straight to ENDED.
enum class call_status { dialing, ringing, answered, ended };
/// How a call ended (the verdict a campaign's retry policy acts on; see sip/outcome.hpp,
/// which decides it from SIP answers).
enum class call_outcome { answered, busy, no_answer, rejected, failed, cancelled };

std::string_view to_string(agent_status) noexcept;
std::string_view to_string(runtime_status) noexcept;
std::string_view to_string(campaign_type) noexcept;
std::string_view to_string(campaign_status) noexcept;
std::string_view to_string(dialer_type) noexcept;
std::string_view to_string(lead_state) noexcept;
std::string_view to_string(sip_transport_kind) noexcept; ///< "udp", "tcp"
std::string_view to_string(call_direction) noexcept;     ///< "INBOUND", "OUTBOUND"
std::string_view to_string(call_status) noexcept;        ///< "DIALING", ... "ENDED"
std::string_view to_string(call_outcome) noexcept;       ///< "answered", "no-answer", ...

/// Parsers accept the API spelling case-insensitively ("ACTIVE", "active").
std::optional<agent_status> parse_agent_status(std::string_view) noexcept;
std::optional<runtime_status> parse_runtime_status(std::string_view) noexcept;
std::optional<campaign_type> parse_campaign_type(std::string_view) noexcept;
std::optional<campaign_status> parse_campaign_status(std::string_view) noexcept;
std::optional<dialer_type> parse_dialer_type(std::string_view) noexcept;
std::optional<lead_state> parse_lead_state(std::string_view) noexcept;
std::optional<sip_transport_kind> parse_sip_transport_kind(std::string_view) noexcept;
std::optional<call_direction> parse_call_direction(std::string_view) noexcept;
std::optional<call_status> parse_call_status(std::string_view) noexcept;
std::optional<call_outcome> parse_call_outcome(std::string_view) noexcept;

// --- entities ------------------------------------------------------------------------------

struct tenant {
  tenant_id id;
  std::string name;
  millis created_at = 0;
};

struct user {
  user_id id;
  tenant_id tenant;
  std::string email; ///< stored lower-cased; unique across tenants
  std::string name;
  std::string password_hash; ///< argon2id string from libsodium; never leaves storage/auth
  std::string role = "owner";
  millis created_at = 0;
};

struct agent {
  agent_id id;
  tenant_id tenant;
  std::string name;
  std::string description;
  std::string system_prompt;
  std::string personality;
  std::string greeting_message;
  std::string llm_provider = "scripted";
  std::string llm_model = "scripted-v1";
  double temperature = 0.7;
  std::string voice_provider = "espeak";
  std::string voice_id = "en-us";
  std::string stt_provider = "pocketsphinx";
  std::string stt_language = "en";
  int max_concurrent_calls = 10;
  /// JSON object text: transferNumber, fallbackNumber, businessHours, outboundConfig and
  /// anything else the client keeps there. Validated by the API codec, stored verbatim.
  std::string metadata_json = "{}";
  agent_status status = agent_status::inactive;
  std::optional<millis> last_heartbeat_at; ///< set once an external runtime reports in
  std::string runtime_metrics_json = "{}"; ///< the metrics of the last heartbeat
  millis created_at = 0;
  millis updated_at = 0;
};

/// One change of an agent's system prompt.
struct prompt_change {
  std::int64_t id = 0;
  agent_id agent;
  tenant_id tenant;
  std::string system_prompt;     ///< the new prompt
  std::string previous_prompt;   ///< what it replaced ("" for the first)
  user_id changed_by;
  std::string changed_by_email;
  millis changed_at = 0;
};

struct campaign_agent {
  agent_id agent;
  int priority = 1; ///< lower number = tried first
  bool active = true;
  friend bool operator==(const campaign_agent&, const campaign_agent&) = default;
};

/// The local-time window in which a lead may be called, and on which days.
struct calling_window {
  int start_minute = 8 * 60;  ///< minutes after local midnight, inclusive
  int end_minute = 21 * 60;   ///< exclusive
  std::uint8_t days = 0x7f;   ///< bit 0 = Monday ... bit 6 = Sunday
  std::string timezone;       ///< IANA zone used when a lead has none ("" = America/New_York)
  friend bool operator==(const calling_window&, const calling_window&) = default;
};

struct campaign {
  campaign_id id;
  tenant_id tenant;
  std::string name;
  std::string description;
  campaign_type type = campaign_type::outbound;
  campaign_status status = campaign_status::draft;
  std::vector<campaign_agent> agents;
  std::vector<lead_list_id> lead_lists;
  std::vector<phone_number_id> numbers;
  std::string agent_instructions; ///< prompt with placeholders ([Prospect Name], {{field}})
  std::string session_script;     ///< call script with placeholders
  dialer_type dialer = dialer_type::progressive;
  double dial_ratio = 1.0;          ///< lines per free agent slot for dialer_type::ratio
  double max_abandon_rate = 0.03;   ///< predictive dialer's target
  int max_attempts = 3;
  int retry_delay_s = 3600;
  int max_concurrent_calls = 0;     ///< 0 = bounded by agents' capacity only
  calling_window window;
  millis created_at = 0;
  millis updated_at = 0;
};

struct lead_list {
  lead_list_id id;
  tenant_id tenant;
  std::string name;
  std::string description;
  std::int64_t lead_count = 0; ///< derived by storage on read
  millis created_at = 0;
  millis updated_at = 0;
};

struct lead {
  lead_id id = 0;
  lead_list_id list;
  tenant_id tenant;
  std::string phone; ///< E.164
  std::string name;
  std::string email;
  std::string company_name;
  std::string job_title;
  std::string timezone;
  std::string resource_name;
  std::string custom_fields_json = "{}"; ///< every other CSV column, as a JSON object
  lead_state state = lead_state::pending;
  int attempts = 0;
  millis created_at = 0;
};

struct phone_number {
  phone_number_id id;
  tenant_id tenant;
  std::string number; ///< E.164, unique across tenants: a number routes to one place
  std::string label;
  std::optional<agent_id> agent;       ///< answers inbound calls to this number
  std::optional<campaign_id> campaign; ///< the INBOUND campaign this number belongs to
  millis created_at = 0;
  millis updated_at = 0;
};

struct dnc_entry {
  tenant_id tenant;
  std::string number; ///< E.164
  std::string reason;
  millis created_at = 0;
};

/// A SIP trunk outbound calls go through: a carrier's (or a PBX's) SIP address and the
/// credentials it challenges us for (RFC 7616 digest).
struct sip_trunk {
  sip_trunk_id id;
  tenant_id tenant;
  std::string name;
  std::string host; ///< IP literal or host name
  int port = 5060;
  sip_transport_kind transport = sip_transport_kind::udp;
  std::string username; ///< "" = the trunk does not challenge
  std::string password; ///< never leaves storage/the SIP layer: the API does not return it
  std::string from_number; ///< E.164 caller id used when a call names none
  int max_channels = 10;   ///< concurrent calls through this trunk
  double calls_per_second = 1.0; ///< new calls per second through this trunk
  millis created_at = 0;
  millis updated_at = 0;
};

/// A call's RTP counters, as the media layer reports them when the call's media closes.
struct call_media_stats {
  std::int64_t packets_sent = 0;     ///< RTP packets we sent
  std::int64_t packets_received = 0; ///< RTP packets from the peer
  std::int64_t packets_lost = 0;     ///< expected minus received (RFC 3550 A.3)
  double jitter_ms = 0;              ///< interarrival jitter (RFC 3550 6.4.1) at the end
  friend bool operator==(const call_media_stats&, const call_media_stats&) = default;
};

/// One call, inbound or outbound: the CDR. The CALL actor owns it while the call lives and
/// writes it through STORAGE at each status change.
struct call_record {
  call_id id;
  tenant_id tenant;
  call_direction direction = call_direction::inbound;
  call_status status = call_status::dialing;
  std::optional<agent_id> agent;
  std::optional<campaign_id> campaign;
  std::optional<lead_id> lead;
  std::optional<sip_trunk_id> trunk;
  std::optional<phone_number_id> number; ///< inbound: the number that was dialled
  std::string from; ///< caller: E.164 when it is a phone number, else the SIP user
  std::string to;   ///< callee, likewise
  std::string sip_call_id;
  int sip_status = 0;                   ///< final SIP status (0 while none)
  std::optional<call_outcome> outcome;  ///< set when ENDED
  std::string end_reason;               ///< "caller hung up", "media timeout", "503 ...", ...
  std::string codec;                    ///< "PCMU/8000", "opus/48000/2" once negotiated
  bool srtp = false;
  std::string recording_path;           ///< WAV file, "" when none
  std::string dtmf; ///< DTMF digits received (RFC 4733), in order; see append_dtmf
  std::optional<call_media_stats> media; ///< once the call's media closed; never if it had none
  millis created_at = 0;
  std::optional<millis> answered_at;
  std::optional<millis> ended_at;
  millis updated_at = 0;
};

/// Appends a DTMF digit the caller sent ('0'-'9', '*', '#', 'A'-'D') to `c.dtmf`. Returns
/// false, leaving the record as it is, for any other character and once the record holds
/// defaults::max_dtmf_digits digits (the first ones are kept: they are what an IVR acts on).
bool append_dtmf(call_record& c, char digit);

/// Which calls a list returns; unset fields do not filter.
struct call_filter {
  std::optional<call_status> status;
  std::optional<campaign_id> campaign;
  std::optional<agent_id> agent;
  std::optional<call_direction> direction;
};

/// A page of a longer list: the items and how many there are in all.
template <class T>
struct page {
  std::vector<T> items;
  std::int64_t total = 0;
};

} // namespace gobi

template <class Tag>
struct std::hash<gobi::strong_id<Tag>> {
  size_t operator()(const gobi::strong_id<Tag>& x) const noexcept {
    return std::hash<std::string>{}(x.value);
  }
};
