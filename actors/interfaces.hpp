#pragma once

/// Every actor interface of gobid, with one comment line per message (as in Tenzir/VAST).
/// Actors are named as a triple: `X_actor` (the handle type), `X_state`, `X(self, ...)`.
///
///   ROOT ── STORAGE (detached thread)      AUTH (detached thread: argon2id)
///        ├─ HTTP_API (fed by the Beast server's transport threads)
///        ├─ AGENT ×N      (status, heartbeats, heartbeat timeout)
///        ├─ CAMPAIGN ×N   (status; pacing comes with the dialer)
///        └─ LEAD_LIST ×N  (CSV import, dedupe)

#include "actors/fwd.hpp"
#include "domain/model.hpp"
#include "domain/result.hpp"
#include "domain/sip/message.hpp"
#include "domain/sip/transaction.hpp"
#include "transport/rtp/call_media.hpp"
#include "transport/sip/transport.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gobi::actors {

// --- atoms (CAF 0.17: at most 10 characters) -------------------------------------------------
namespace atom {
using exec = caf::atom_constant<caf::atom("exec")>;
using deploy = caf::atom_constant<caf::atom("deploy")>;
using heartbeat = caf::atom_constant<caf::atom("heartbeat")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using get = caf::atom_constant<caf::atom("get")>;
using start = caf::atom_constant<caf::atom("start")>;
using pause = caf::atom_constant<caf::atom("pause")>;
using upload = caf::atom_constant<caf::atom("upload")>;
using hash = caf::atom_constant<caf::atom("hash")>;
using verify = caf::atom_constant<caf::atom("verify")>;
using spawn = caf::atom_constant<caf::atom("spawn")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using update = caf::atom_constant<caf::atom("update")>;
using drain = caf::atom_constant<caf::atom("drain")>;
using http = caf::atom_constant<caf::atom("http")>;
using status = caf::atom_constant<caf::atom("status")>;
using originate = caf::atom_constant<caf::atom("originate")>;
using hangup = caf::atom_constant<caf::atom("hangup")>;
using sip_in = caf::atom_constant<caf::atom("sip_in")>;
using senderr = caf::atom_constant<caf::atom("senderr")>;
using sip_req = caf::atom_constant<caf::atom("sip_req")>;
using sip_ack = caf::atom_constant<caf::atom("sip_ack")>;
using sip_resp = caf::atom_constant<caf::atom("sip_resp")>;
using sip_fail = caf::atom_constant<caf::atom("sip_fail")>;
using cancel = caf::atom_constant<caf::atom("cancel")>;
using media = caf::atom_constant<caf::atom("media")>;
using closed = caf::atom_constant<caf::atom("closed")>;
using speak = caf::atom_constant<caf::atom("speak")>;
using timeout = caf::atom_constant<caf::atom("timeout")>;
using respond = caf::atom_constant<caf::atom("respond")>;
using request = caf::atom_constant<caf::atom("request")>;
using cancelsent = caf::atom_constant<caf::atom("cancelsent")>;
using send = caf::atom_constant<caf::atom("send")>;
using bind = caf::atom_constant<caf::atom("bind")>;
using unbind = caf::atom_constant<caf::atom("unbind")>;
using invite = caf::atom_constant<caf::atom("invite")>;
} // namespace atom

// --- message payloads ---------------------------------------------------------------------------

/// What an agent runtime reports: `POST /agents/:id/heartbeat {status, metrics}`.
struct heartbeat_report {
  runtime_status status = runtime_status::running;
  std::string metrics_json = "{}";
};

/// The outcome of one CSV upload, as the API answers it.
struct import_report {
  std::int64_t imported = 0;
  std::int64_t duplicates = 0;
  std::int64_t dnc = 0;  ///< imported, but marked DNC
  std::int64_t rows = 0; ///< data rows in the file
  std::vector<std::pair<std::int64_t, std::string>> invalid; ///< (line, reason)
};

/// An upload body handed to a LEAD_LIST actor (shared: CSVs can be 10 MiB and more).
using csv_text = std::shared_ptr<const std::string>;

/// A unit of storage work: a closure run on the STORAGE thread (see storage_actor.hpp).
using store_job_ptr = std::shared_ptr<store_job>;

/// An HTTP request with its responder, from the transport threads to HTTP_API.
using http_exchange_ptr = std::shared_ptr<http_exchange>;

/// `POST /calls`: an outbound call to place. The API has validated the fields (E.164 `to`,
/// the agent and trunk exist in the tenant); CALL_SUPERVISOR checks capacity.
struct originate_request {
  agent_id agent;
  std::string to;   ///< E.164
  std::string from; ///< E.164 caller id; "" = the trunk's fromNumber
  sip_trunk_id trunk;
  std::optional<campaign_id> campaign;
  std::optional<lead_id> lead;
};

/// A SIP message and the peer it came from (transport -> SIP_ENDPOINT -> CALL).
struct sip_packet {
  sip::message msg;
  sip::peer from;
};

/// 16 kHz mono PCM, shared (a cached greeting goes to many calls).
using pcm_ptr = std::shared_ptr<const std::vector<std::int16_t>>;

/// A CALL's own timers: which one, and the generation it was armed with (older ones are
/// ignored when they fire).
enum class call_timer : std::uint8_t { answer, ring, max_duration, media_close };
struct call_timer_msg {
  call_timer which = call_timer::ring;
  std::uint64_t generation = 0;
};

// --- interfaces -----------------------------------------------------------------------------

/// STORAGE: owns the database connection, runs on its own thread.
using storage_actor = caf::typed_actor<
  // Runs a job against the store and answers it back with its result filled in.
  caf::replies_to<atom::exec, store_job_ptr>::with<store_job_ptr>>;

/// AUTH: password hashing, off the event loops (argon2id takes tens of ms and 64 MiB).
using auth_actor = caf::typed_actor<
  // Hashes a password.
  caf::replies_to<atom::hash, std::string>::with<std::string>,
  // Checks a password against a stored hash (stored hash, password).
  caf::replies_to<atom::verify, std::string, std::string>::with<bool>>;

/// AGENT: one per agent; owns its status, heartbeats and the heartbeat timeout.
using agent_actor = caf::typed_actor<
  // Marks the agent ACTIVE (POST /agents/:id/deploy); answers the stored agent.
  caf::replies_to<atom::deploy, tenant_id>::with<agent>,
  // A runtime's heartbeat; STOPPED makes the agent INACTIVE; answers the stored agent.
  caf::replies_to<atom::heartbeat, tenant_id, heartbeat_report>::with<agent>,
  // The heartbeat deadline passed (self-sent; carries the generation it was armed with).
  caf::reacts_to<atom::tick, std::uint64_t>,
  // The agent record changed in storage (PUT): refresh what the actor keeps.
  caf::reacts_to<atom::update, agent>>;

/// CAMPAIGN: one per campaign; owns its status.
using campaign_actor = caf::typed_actor<
  // DRAFT/PAUSED -> RUNNING, after checking agents are ACTIVE and leads exist.
  caf::replies_to<atom::start, tenant_id>::with<campaign>,
  // RUNNING -> PAUSED.
  caf::replies_to<atom::pause, tenant_id>::with<campaign>,
  // The campaign record changed in storage (PUT).
  caf::reacts_to<atom::update, campaign>>;

/// LEAD_LIST: one per list; owns import and dedupe (the set of phones in the list).
using lead_list_actor = caf::typed_actor<
  // Imports a CSV: parse, normalise, dedupe against the list, mark DNC, store.
  caf::replies_to<atom::upload, tenant_id, csv_text>::with<import_report>>;

/// ROOT: supervisor and directory of the per-entity actors; routes to them.
using root_actor = caf::typed_actor<
  // Spawns (or refreshes) the actor for a created or updated entity.
  caf::reacts_to<atom::spawn, agent>,
  caf::reacts_to<atom::spawn, campaign>,
  caf::reacts_to<atom::spawn, lead_list>,
  // Stops an entity's actor (it was deleted).
  caf::reacts_to<atom::stop, agent_id>,
  caf::reacts_to<atom::stop, campaign_id>,
  caf::reacts_to<atom::stop, lead_list_id>,
  // Routed to the entity's actor (answers not_found when there is none).
  caf::replies_to<atom::deploy, tenant_id, agent_id>::with<agent>,
  caf::replies_to<atom::heartbeat, tenant_id, agent_id, heartbeat_report>::with<agent>,
  caf::replies_to<atom::start, tenant_id, campaign_id>::with<campaign>,
  caf::replies_to<atom::pause, tenant_id, campaign_id>::with<campaign>,
  caf::replies_to<atom::upload, tenant_id, lead_list_id, csv_text>::with<import_report>,
  // How many entity actors run: (agents, campaigns, lead lists).
  caf::replies_to<atom::status>::with<std::int64_t, std::int64_t, std::int64_t>>;

/// CALL: one per call; owns its SIP dialog, media (an rtp::call_media) and record (CDR).
using call_actor = caf::typed_actor<
  // A request for this call (its first INVITE, or one in its dialog) and the key of the
  // server transaction to answer it through.
  caf::reacts_to<atom::sip_req, std::string, sip_packet>,
  // The ACK for our 2xx.
  caf::reacts_to<atom::sip_ack, sip_packet>,
  // A response on a client transaction of this call (key; "" = a stray 2xx retransmission).
  caf::reacts_to<atom::sip_resp, std::string, sip::message>,
  // A transaction of this call ended without a final response or ACK (key, method, why).
  caf::reacts_to<atom::sip_fail, std::string, std::string, sip::termination>,
  // The caller cancelled our pending INVITE answer (the 487 went out already).
  caf::reacts_to<atom::cancel>,
  // A coarse event from the call's media (transport thread -> actor).
  caf::reacts_to<atom::media, rtp::call_media_event>,
  // The media closed (recording finished); its counters.
  caf::reacts_to<atom::closed, rtp::call_media_summary>,
  // One of the call's timers fired.
  caf::reacts_to<atom::timeout, call_timer_msg>,
  // Hang up (BYE, CANCEL or a final response, as the state needs); answers the record.
  caf::replies_to<atom::hangup>::with<call_record>,
  // The record as it is now.
  caf::replies_to<atom::get>::with<call_record>>;

/// SIP_ENDPOINT: the SIP transport's messages in, the transaction layer, dialog routing
/// (Call-ID -> CALL). New INVITEs go to CALL_SUPERVISOR.
using sip_endpoint_actor = caf::typed_actor<
  // A message from the transport.
  caf::reacts_to<atom::sip_in, sip_packet>,
  // The transport could not send to this peer.
  caf::reacts_to<atom::senderr, sip::peer, std::string>,
  // Timer tick (self-sent while timers are armed).
  caf::reacts_to<atom::tick>,
  // A TU answers the server transaction `key`.
  caf::reacts_to<atom::respond, std::string, sip::message>,
  // A CALL starts a client transaction for this request to the peer; its responses and
  // failure come back to the CALL (keyed by sip::client_key_for_request).
  caf::reacts_to<atom::request, sip::message, sip::peer, call_actor>,
  // The CALL sent a CANCEL for its client INVITE `key`.
  caf::reacts_to<atom::cancelsent, std::string>,
  // Sends outside a transaction (the ACK for a 2xx).
  caf::reacts_to<atom::send, sip::message, sip::peer>,
  // Routes the dialog with this Call-ID to the CALL / stops routing it.
  caf::reacts_to<atom::bind, std::string, call_actor>,
  caf::reacts_to<atom::unbind, std::string>,
  // Shutting down: new INVITEs get 503.
  caf::reacts_to<atom::drain>>;

/// TTS: speech synthesis off the event loops (espeak-ng), with a cache.
using tts_actor = caf::typed_actor<
  // Text and voice -> 16 kHz mono PCM.
  caf::replies_to<atom::speak, std::string, std::string>::with<pcm_ptr>>;

/// CALL_SUPERVISOR: admission control; spawns, monitors and finds the CALLs.
using call_supervisor_actor = caf::typed_actor<
  // A new INVITE from SIP_ENDPOINT (server transaction key): routed by the dialled number
  // to a new CALL, or refused (404 unknown number, 486/503 no capacity).
  caf::reacts_to<atom::invite, std::string, sip_packet>,
  // Shutting down: refuse new calls, hang up the live ones.
  caf::reacts_to<atom::drain>,
  // The SIP endpoint to answer and place calls through (set once at start-up).
  caf::reacts_to<atom::bind, sip_endpoint_actor>,
  // Places an outbound call: answers its record (DIALING) once the INVITE is on its way;
  // errc::unavailable (with retry_after_s) when the trunk, agent or process is at capacity.
  caf::replies_to<atom::originate, tenant_id, originate_request>::with<call_record>,
  // Hangs up a live call of the tenant (BYE, or CANCEL while ringing): answers its record.
  // not_found for an unknown call, conflict for one that has ended already.
  caf::replies_to<atom::hangup, tenant_id, call_id>::with<call_record>,
  // Live calls now.
  caf::replies_to<atom::status>::with<std::int64_t>>;

/// HTTP_API: routes, authenticates and answers HTTP requests.
using http_api_actor = caf::typed_actor<
  // One request from the Beast server, with the responder to answer it through.
  caf::reacts_to<atom::http, http_exchange_ptr>>;

// --- errors across actors ---------------------------------------------------------------------

/// gobi::error <-> caf::error, so replies carry our codes, messages and fields.
caf::error to_caf(const error& e);
error from_caf(const caf::error& e);

} // namespace gobi::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::tenant_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::agent_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::campaign_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::lead_list_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::agent)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::campaign)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::lead_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::call_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::sip_trunk_id)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::call_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::originate_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::sip_packet)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::pcm_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::call_timer_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::sip::message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::sip::peer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::sip::termination)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::rtp::call_media_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::rtp::call_media_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::heartbeat_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::import_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::csv_text)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::store_job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gobi::actors::http_exchange_ptr)
