#pragma once

/// gobid's configuration: embedded defaults (domain/defaults.hpp), then the TOML file, then
/// the environment, then command-line flags; later sources win. A bad value stops start-up
/// with a message naming where it came from ("--http-port: 'x' is not a port 1-65535",
/// "PORT (environment): ...", "config/gobi.toml: http.port: ...").

#include "domain/defaults.hpp"
#include "domain/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gobi::app {

struct config {
  std::string config_file = defaults::config_file;
  std::string data_dir = defaults::data_dir;
  std::string database; ///< "" = sqlite:<data_dir>/gobi.db
  std::string http_host = defaults::http_host;
  std::uint16_t http_port = defaults::http_port;
  unsigned http_threads = defaults::http_threads;
  std::size_t body_limit_bytes = defaults::http_body_limit_bytes;
  std::string sip_host = defaults::sip_host;
  std::uint16_t sip_port = defaults::sip_port;
  std::uint16_t rtp_port_min = defaults::rtp_port_min;
  std::uint16_t rtp_port_max = defaults::rtp_port_max;
  std::string srtp = defaults::srtp_policy; ///< off | optional | required
  unsigned media_threads = defaults::media_threads;
  int media_priority = defaults::media_priority; ///< SCHED_FIFO of the RTP threads; 0 = off
  std::int64_t max_calls = defaults::max_calls;
  std::int64_t media_timeout_s = defaults::media_timeout_s;
  std::int64_t ring_timeout_s = defaults::ring_timeout_s;
  std::int64_t heartbeat_timeout_s = defaults::agent_heartbeat_timeout_s;
  unsigned actor_workers = defaults::actor_workers;
  std::string scheduler = defaults::actor_scheduler; ///< "sharing" or "stealing"
  std::string default_region = defaults::default_region;
  std::string log_level = "info";
  bool demo = false;
  std::string jwt_secret; ///< JWT_SECRET; "" = generated once and kept in the data dir

  /// The database URL in effect.
  std::string database_url() const;
};

/// What a lookup of an environment variable yields; injected for tests.
using env_fn = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
env_fn process_env();

/// Parses everything. `--help` and `--version` come back as errc::ok-free special cases:
/// see `wants_help`/`wants_version`.
struct parse_outcome {
  config cfg;
  bool help = false;
  bool version = false;
};
result<parse_outcome> load_config(const std::vector<std::string>& args, const env_fn& env);

/// The --help text.
std::string usage();

} // namespace gobi::app
