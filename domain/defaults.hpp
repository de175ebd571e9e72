#pragma once

/// Every tunable of gobi, in one place, with its unit in its name. The config loader
/// (actors/app/config.cpp) starts from these; flags, the TOML file and the environment
/// override them.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gobi::defaults {

using namespace std::chrono_literals;

// --- service -----------------------------------------------------------------------------
inline constexpr std::uint16_t http_port = 3000;
inline constexpr const char* http_host = "127.0.0.1";
inline constexpr const char* data_dir = "./data";
inline constexpr const char* config_file = "config/gobi.toml";
inline constexpr unsigned http_threads = 1;
inline constexpr unsigned actor_workers = 2;      ///< CAF scheduler threads (set, never auto)
/// CAF's scheduler policy. "sharing" (one queue, workers sleep on a condition variable)
/// beat "stealing" (workers spin-poll before sleeping, taking CPU from the transport thread)
/// on the API bench: 31.6-35.7k vs 31.1-32.0k requests/s on 2 cores. Re-measure for media.
inline constexpr const char* actor_scheduler = "sharing";
inline constexpr std::size_t http_body_limit_bytes = 10u << 20; ///< 413 above
inline constexpr const char* default_region = "US"; ///< for numbers without a country code
inline constexpr std::uint16_t sip_port = 5060;
inline constexpr const char* sip_host = "127.0.0.1";
inline constexpr std::uint16_t rtp_port_min = 20000;
inline constexpr std::uint16_t rtp_port_max = 29999;

// --- calls -------------------------------------------------------------------------------
inline constexpr std::int64_t max_calls = 2000;       ///< live calls per process (503 above)
inline constexpr std::int64_t media_timeout_s = 30;   ///< no RTP for this long ends a call
inline constexpr std::int64_t ring_timeout_s = 60;    ///< outbound: CANCEL after (no-answer)
inline constexpr std::int64_t max_call_duration_s = 3600;
inline constexpr std::int64_t answer_wait_ms = 2000;  ///< inbound: answer at most this late
inline constexpr std::size_t max_dtmf_digits = 64;    ///< DTMF digits kept in a call record
inline constexpr const char* srtp_policy = "optional"; ///< off | optional | required
inline constexpr unsigned media_threads = 1;          ///< RTP transport threads (media clocks)
/// SCHED_FIFO priority of the RTP threads (0: normal scheduling). Off by default: it needs
/// CAP_SYS_NICE or an rtprio limit, and an operator's decision to let media preempt the box.
inline constexpr int media_priority = 0;
inline constexpr unsigned sip_threads = 1;            ///< SIP transport threads
inline constexpr std::int64_t busy_retry_after_s = 5; ///< Retry-After on 486/503 for capacity

// --- agents ------------------------------------------------------------------------------
inline constexpr std::int64_t agent_heartbeat_timeout_s = 90;
inline constexpr std::int64_t runtime_config_cache_ttl_s = 300; ///< seeds' CONFIG_CACHE_TTL

// --- auth --------------------------------------------------------------------------------
inline constexpr std::int64_t jwt_ttl_s = 24 * 3600;
inline constexpr int login_free_attempts = 5;              ///< per account, then 429
inline constexpr int login_free_attempts_per_address = 20; ///< per client address (NAT-friendly)
inline constexpr std::int64_t login_window_s = 900;
inline constexpr std::int64_t login_max_delay_s = 900;
inline constexpr std::size_t password_min_length = 8;

// --- actors ------------------------------------------------------------------------------
inline constexpr auto storage_timeout = 30s;   ///< a storage job (imports are big)
inline constexpr auto actor_request_timeout = 10s;
inline constexpr auto auth_timeout = 10s;
inline constexpr auto import_timeout = 120s;   ///< a CSV upload, parse to commit
inline constexpr auto drain_timeout = 10s;     ///< SIGTERM: how long to wait for work to end

// --- API ---------------------------------------------------------------------------------
inline constexpr std::int64_t page_limit_default = 50;
inline constexpr std::int64_t page_limit_max = 1000;
inline constexpr std::int64_t preview_limit_default = 10;
/// Recording downloads read at once, each on its own short-lived thread; 503 above.
inline constexpr int recording_readers_max = 4;

// --- lead import -------------------------------------------------------------------------
/// Phone normalisation threads per parse_csv call. 1: libphonenumber serialises its regex
/// cache behind one mutex, so a second thread only adds contention (measured: 5.3 s CPU with
/// one thread vs 6.0-6.6 s with two for a million rows).
inline constexpr unsigned import_threads = 1;
/// Rows per insert transaction. Measured on the 1M-row bench (SQLite): 50,000 -> 11.0 s,
/// 200,000 -> 8.9 s (fewer commits and WAL checkpoints); two chunks in flight are ~160 MB.
inline constexpr std::size_t import_chunk_rows = 200000;
inline constexpr int import_max_inflight_chunks = 2;    ///< parsed chunks ahead of storage

} // namespace gobi::defaults
