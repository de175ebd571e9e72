#pragma once

/// The telephony actors: SIP_ENDPOINT, CALL_SUPERVISOR, CALL and TTS (interfaces in
/// actors/interfaces.hpp), their shared environment, and their states.
///
///   sip::transport (Asio threads) --sip_in--> SIP_ENDPOINT (transaction layer)
///        ^                                     |  new INVITE          | in-dialog, responses
///        |  send (any thread)                  v                      v
///        +------------------------------- CALL_SUPERVISOR --spawn--> CALL ×N
///                                          (admission, routing)       | owns rtp::call_media
///   rtp::engine threads (media clocks) <------------------------------+ (events: media)
///
/// A CALL binds its Call-ID at SIP_ENDPOINT first thing, so everything of its dialog reaches
/// it in order; it writes its record (CDR) through STORAGE at each status change, in order.

#include "actors/entities.hpp"
#include "actors/interfaces.hpp"
#include "actors/sip/transaction_layer.hpp"
#include "domain/phone.hpp"
#include "domain/sdp/negotiate.hpp"
#include "domain/sip/dialog.hpp"
#include "domain/sip/outcome.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gobi::rtp {
class engine;
}

namespace gobi::actors {

/// The methods gobid's user agent handles (Allow in answers and requests).
inline constexpr const char* allow_methods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE";

/// What the telephony actors share; set up by gobid.
struct telephony_env {
  storage_actor storage;
  tts_actor tts;
  rtp::engine* media = nullptr; ///< owned by gobid's main; outlives every actor
  std::string sip_host = "127.0.0.1";
  std::uint16_t sip_port = 5060;
  sdp::srtp_policy srtp = sdp::srtp_policy::optional;
  std::filesystem::path recordings_dir; ///< <data-dir>/recordings
  clock_fn now;                         ///< wall clock, ms (records)
  std::shared_ptr<const phone::normalizer> phones;
  std::int64_t max_calls = defaults::max_calls;
  std::chrono::milliseconds media_timeout{defaults::media_timeout_s * 1000};
  std::chrono::milliseconds ring_timeout{defaults::ring_timeout_s * 1000};
  std::chrono::milliseconds max_call_duration{defaults::max_call_duration_s * 1000};
  /// An inbound call is answered once its greeting is synthesised, or after this at most.
  std::chrono::milliseconds answer_wait{defaults::answer_wait_ms};
};

// --- SIP_ENDPOINT ----------------------------------------------------------------------------

struct sip_endpoint_state {
  static inline const char* name = "sip_endpoint";
  std::shared_ptr<sip::transport> transport;
  call_supervisor_actor supervisor;
  sip_layer::transaction_layer layer;
  sip_layer::output out;                                    ///< reused between calls into the layer
  std::unordered_map<std::string, call_actor> calls;        ///< Call-ID -> CALL
  std::unordered_map<std::string, call_actor> client_owner; ///< client txn key -> CALL
  std::unordered_map<std::string, std::vector<std::string>> keys_of_call; ///< Call-ID -> keys
  std::unordered_set<std::string> cancelled_unbound; ///< CANCELs before their CALL bound
  std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();
  std::optional<sip::millis> tick_at; ///< deadline of the earliest pending tick
  bool draining = false;
};

sip_endpoint_actor::behavior_type
sip_endpoint(sip_endpoint_actor::stateful_pointer<sip_endpoint_state> self,
             std::shared_ptr<sip::transport> transport, call_supervisor_actor supervisor);

// --- CALL_SUPERVISOR -------------------------------------------------------------------------

struct live_call {
  call_actor handle;
  tenant_id tenant;
  agent_id agent;
  std::optional<sip_trunk_id> trunk;
};

struct call_supervisor_state {
  static inline const char* name = "call_supervisor";
  telephony_env env;
  sip_endpoint_actor sip;
  std::unordered_map<std::string, live_call> live;                  ///< call id -> call
  std::unordered_map<caf::actor_addr, std::string> by_addr;         ///< for down messages
  std::unordered_map<std::string, std::int64_t> per_agent;          ///< agent id -> live calls
  std::unordered_map<std::string, std::int64_t> per_trunk;          ///< trunk id -> live calls
  std::unordered_map<std::string, std::deque<millis>> trunk_starts; ///< last second's starts
  std::int64_t admitting = 0; ///< INVITEs being routed (counted against max_calls)
  bool draining = false;
};

call_supervisor_actor::behavior_type
call_supervisor(call_supervisor_actor::stateful_pointer<call_supervisor_state> self,
                telephony_env env);

/// SIP_ENDPOINT and CALL_SUPERVISOR know each other; gobid spawns the supervisor first and
/// hands it the endpoint with this message.
void connect(const call_supervisor_actor& sup, const sip_endpoint_actor& sip);

// --- CALL ------------------------------------------------------------------------------------

/// How a CALL starts: an INVITE that arrived, or an originate request.
struct inbound_start {
  std::string key; ///< server transaction of the INVITE
  sip_packet invite;
};
struct outbound_start {
  sip_trunk trunk;
};

struct call_state {
  static inline const char* name = "call";
  telephony_env env;
  sip_endpoint_actor sip;
  call_record rec;
  agent agent_info;
  std::optional<sip_trunk> trunk;

  // SIP
  std::string invite_key; ///< server (inbound) or client (outbound) INVITE transaction
  sip::message invite;    ///< the INVITE received, or the last one sent
  sip::peer peer;         ///< where the other side is (arrival peer / the trunk)
  std::string local_tag;
  std::optional<sip::dialog> dialog;
  sip::cancel_reason cancel = sip::cancel_reason::none;
  bool provisional_seen = false;
  bool answered = false;
  bool acked = false;
  bool ended = false;
  bool cancel_sent = false;
  bool invite_pending = false; ///< outbound: CANCEL sent, the INVITE's final answer not yet in
  bool media_closed = false;
  int auth_attempts = 0;

  // SDP and media
  std::shared_ptr<rtp::call_media> media;
  bool media_started = false;
  /// Inbound INVITE without SDP (RFC 3264 late offer): our offer goes in the 200, the
  /// answer comes in the ACK, and the media starts then.
  bool late_offer = false;
  /// The CSeq of the INVITE whose 2xx carried our offer: its ACK must carry the answer.
  std::optional<std::uint32_t> answer_due_in_ack;
  sdp::session_description offer;  ///< our last offer (outbound, late offer, re-INVITE w/o SDP)
  sdp::session_description answer; ///< inbound: our answer (re-sent on re-INVITE)
  std::vector<sdp::srtp_key> keys; ///< ours: one per suite offered; an answer uses keys[0]
  std::string sdp_session_id;      ///< o= session id, fixed for the call
  std::uint64_t sdp_version = 1;
  std::optional<sdp::negotiated_media> negotiated;

  // Greeting
  pcm_ptr greeting;

  std::uint64_t timer_generation = 0;
  std::vector<caf::typed_response_promise<call_record>> hangup_waiters;
};

call_actor::behavior_type call_inbound(call_actor::stateful_pointer<call_state> self,
                                       telephony_env env, sip_endpoint_actor sip, agent a,
                                       call_record rec, inbound_start start);
call_actor::behavior_type call_outbound(call_actor::stateful_pointer<call_state> self,
                                        telephony_env env, sip_endpoint_actor sip, agent a,
                                        call_record rec, outbound_start start);

// --- TTS -------------------------------------------------------------------------------------

struct tts_state {
  static inline const char* name = "tts";
  std::shared_ptr<void> engine; ///< tts::espeak_engine, type-erased to keep espeak out
  std::unordered_map<std::string, pcm_ptr> cache;
  std::deque<std::string> order; ///< cache eviction, oldest first
};

/// Spawn it detached (synthesis blocks for tens of milliseconds).
tts_actor::behavior_type tts(tts_actor::stateful_pointer<tts_state> self);

} // namespace gobi::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::inbound_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::outbound_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::telephony_env)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::sip_endpoint_actor)
