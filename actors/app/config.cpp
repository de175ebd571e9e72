#include "actors/app/config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace gobi::app {

std::string config::database_url() const {
  if (!database.empty())
    return database;
  return "sqlite:" + (std::filesystem::path{data_dir} / "gobi.db").string();
}

env_fn process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str()))
      return std::string{v};
    return std::nullopt;
  };
}

namespace {

error bad(const std::string& where, const std::string& what) {
  return error{errc::invalid_argument, where + ": " + what, where};
}

template <class Int>
result<Int> parse_int(const std::string& where, std::string_view s, Int lo, Int hi,
                      std::string_view what) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi)
    return bad(where, "'" + std::string{s} + "' is not " + std::string{what} + " ("
                        + std::to_string(lo) + "-" + std::to_string(hi) + ")");
  return v;
}

result<bool> parse_bool(const std::string& where, std::string_view s) {
  if (s == "1" || s == "true" || s == "yes" || s == "on")
    return true;
  if (s == "0" || s == "false" || s == "no" || s == "off" || s.empty())
    return false;
  return bad(where, "'" + std::string{s} + "' is not a boolean (true/false)");
}

/// One setting: how to apply a textual value from any source.
struct setting {
  std::string flag;     ///< "--http-port"
  std::string env;      ///< "PORT" ("" = none)
  std::string toml;     ///< "http.port" ("" = none)
  std::function<status(config&, const std::string& where, const std::string& value)> apply;
  bool is_switch = false; ///< a flag without a value (--demo)
};

status set_port(std::uint16_t& out, const std::string& where, const std::string& v) {
  auto p = parse_int<unsigned>(where, v, 1, 65535, "a port");
  if (!p)
    return std::move(p).err();
  out = static_cast<std::uint16_t>(*p);
  return unit;
}

std::vector<setting> settings() {
  using S = setting;
  return {
    S{"--data-dir", "GOBI_DATA_DIR", "data_dir",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v.empty())
          return bad(w, "must not be empty");
        c.data_dir = v;
        return unit;
      }},
    S{"--database", "DATABASE_URL", "database",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (!v.empty() && v.rfind("sqlite:", 0) != 0 && v.rfind("postgresql://", 0) != 0
            && v.rfind("postgres://", 0) != 0)
          return bad(w, "'" + v + "' is not a database URL (sqlite:<path> or postgresql://...)");
        c.database = v;
        return unit;
      }},
    S{"--http-host", "GOBI_HTTP_HOST", "http.host",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v.empty())
          return bad(w, "must not be empty");
        c.http_host = v;
        return unit;
      }},
    S{"--http-port", "PORT", "http.port",
      [](config& c, const std::string& w, const std::string& v) {
        return set_port(c.http_port, w, v);
      }},
    S{"--http-threads", "GOBI_HTTP_THREADS", "http.threads",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<unsigned>(w, v, 1, 64, "a thread count");
        if (!n)
          return std::move(n).err();
        c.http_threads = *n;
        return unit;
      }},
    S{"--body-limit", "GOBI_BODY_LIMIT", "http.body_limit_bytes",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<std::size_t>(w, v, 1024, std::size_t{1} << 34, "a size in bytes");
        if (!n)
          return std::move(n).err();
        c.body_limit_bytes = *n;
        return unit;
      }},
    S{"--sip-host", "GOBI_SIP_HOST", "sip.host",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v.empty())
          return bad(w, "must not be empty");
        c.sip_host = v;
        return unit;
      }},
    S{"--sip-port", "GOBI_SIP_PORT", "sip.port",
      [](config& c, const std::string& w, const std::string& v) {
        return set_port(c.sip_port, w, v);
      }},
    S{"--rtp-ports", "GOBI_RTP_PORTS", "rtp.ports",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto dash = v.find('-');
        if (dash == std::string::npos)
          return bad(w, "'" + v + "' is not a port range like 20000-29999");
        auto lo = parse_int<unsigned>(w, std::string_view{v}.substr(0, dash), 1024, 65535,
                                      "a port");
        auto hi = parse_int<unsigned>(w, std::string_view{v}.substr(dash + 1), 1024, 65535,
                                      "a port");
        if (!lo)
          return std::move(lo).err();
        if (!hi)
          return std::move(hi).err();
        if (*lo >= *hi)
          return bad(w, "'" + v + "': the first port must be below the second");
        c.rtp_port_min = static_cast<std::uint16_t>(*lo);
        c.rtp_port_max = static_cast<std::uint16_t>(*hi);
        return unit;
      }},
    S{"--srtp", "GOBI_SRTP", "rtp.srtp",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v != "off" && v != "optional" && v != "required")
          return bad(w, "'" + v + "' is not an SRTP policy (off, optional or required)");
        c.srtp = v;
        return unit;
      }},
    S{"--media-threads", "GOBI_MEDIA_THREADS", "rtp.threads",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<unsigned>(w, v, 1, 64, "a thread count");
        if (!n)
          return std::move(n).err();
        c.media_threads = *n;
        return unit;
      }},
    S{"--media-priority", "GOBI_MEDIA_PRIORITY", "rtp.priority",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<int>(w, v, 0, 99, "a SCHED_FIFO priority (0 = off, 1-99)");
        if (!n)
          return std::move(n).err();
        c.media_priority = *n;
        return unit;
      }},
    S{"--max-calls", "GOBI_MAX_CALLS", "calls.max",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<std::int64_t>(w, v, 1, 1000000, "a number of calls");
        if (!n)
          return std::move(n).err();
        c.max_calls = *n;
        return unit;
      }},
    S{"--media-timeout", "GOBI_MEDIA_TIMEOUT", "calls.media_timeout_s",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<std::int64_t>(w, v, 1, 86400, "a number of seconds");
        if (!n)
          return std::move(n).err();
        c.media_timeout_s = *n;
        return unit;
      }},
    S{"--ring-timeout", "GOBI_RING_TIMEOUT", "calls.ring_timeout_s",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<std::int64_t>(w, v, 1, 3600, "a number of seconds");
        if (!n)
          return std::move(n).err();
        c.ring_timeout_s = *n;
        return unit;
      }},
    S{"--agent-heartbeat-timeout", "GOBI_AGENT_HEARTBEAT_TIMEOUT", "agents.heartbeat_timeout_s",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<std::int64_t>(w, v, 1, 86400, "a number of seconds");
        if (!n)
          return std::move(n).err();
        c.heartbeat_timeout_s = *n;
        return unit;
      }},
    S{"--workers", "GOBI_WORKERS", "actors.workers",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto n = parse_int<unsigned>(w, v, 1, 256, "a worker count");
        if (!n)
          return std::move(n).err();
        c.actor_workers = *n;
        return unit;
      }},
    S{"--scheduler", "GOBI_SCHEDULER", "actors.scheduler",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v != "sharing" && v != "stealing")
          return bad(w, "'" + v + "' is not a scheduler policy (sharing or stealing)");
        c.scheduler = v;
        return unit;
      }},
    S{"--default-region", "GOBI_DEFAULT_REGION", "leads.default_region",
      [](config& c, const std::string& w, const std::string& v) -> status {
        if (v.size() != 2 || !std::isupper(static_cast<unsigned char>(v[0]))
            || !std::isupper(static_cast<unsigned char>(v[1])))
          return bad(w, "'" + v + "' is not a two-letter region code like US or GB");
        c.default_region = v;
        return unit;
      }},
    S{"--log-level", "GOBI_LOG_LEVEL", "log.level",
      [](config& c, const std::string& w, const std::string& v) -> status {
        for (auto l : {"trace", "debug", "info", "warn", "error", "critical", "off"})
          if (v == l) {
            c.log_level = v;
            return unit;
          }
        return bad(w, "'" + v + "' is not a log level (trace, debug, info, warn, error, off)");
      }},
    S{"--demo", "GOBI_DEMO", "demo",
      [](config& c, const std::string& w, const std::string& v) -> status {
        auto b = parse_bool(w, v);
        if (!b)
          return std::move(b).err();
        c.demo = *b;
        return unit;
      },
      true},
  };
}

/// A TOML node as the text a flag would carry.
std::optional<std::string> toml_text(const toml::node& n) {
  if (auto s = n.value<std::string>())
    return *s;
  if (n.is_integer())
    return std::to_string(*n.value<std::int64_t>());
  if (n.is_boolean())
    return *n.value<bool>() ? "true" : "false";
  return std::nullopt;
}

} // namespace

result<parse_outcome> load_config(const std::vector<std::string>& args, const env_fn& env) {
  parse_outcome out;
  auto table = settings();

  // Which config file: --config, else GOBI_CONFIG, else the default (which may be absent).
  std::string file;
  bool explicit_file = false;
  if (auto e = env("GOBI_CONFIG")) {
    file = *e;
    explicit_file = true;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size())
        return bad("--config", "needs a file");
      file = args[i + 1];
      explicit_file = true;
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
      explicit_file = true;
    }
  }
  if (file.empty())
    file = defaults::config_file;
  out.cfg.config_file = file;

  // 1. the TOML file
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    toml::table doc;
    try {
      doc = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << e.description() << " (line " << e.source().begin.line << ")";
      return bad(file, os.str());
    }
    for (const auto& s : table) {
      auto node = doc.at_path(s.toml);
      if (!node)
        continue;
      auto text = toml_text(*node.node());
      auto where = file + ": " + s.toml;
      if (!text)
        return bad(where, "has the wrong type");
      if (auto ok = s.apply(out.cfg, where, *text); !ok)
        return std::move(ok).err();
    }
  } else if (explicit_file) {
    return bad(file, "config file not found");
  }

  // 2. the environment
  for (const auto& s : table) {
    if (s.env.empty())
      continue;
    if (auto v = env(s.env))
      if (auto ok = s.apply(out.cfg, s.env + " (environment)", *v); !ok)
        return std::move(ok).err();
  }
  if (auto secret = env("JWT_SECRET"))
    out.cfg.jwt_secret = *secret;

  // 3. flags
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (arg == "--version") {
      out.version = true;
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "--config") {
      if (!inline_value)
        ++i;
      continue;
    }
    const setting* s = nullptr;
    for (const auto& candidate : table)
      if (candidate.flag == arg)
        s = &candidate;
    if (!s)
      return bad(arg, "unknown option (see --help)");
    std::string value;
    if (inline_value)
      value = *inline_value;
    else if (s->is_switch)
      value = "true";
    else if (i + 1 < args.size())
      value = args[++i];
    else
      return bad(arg, "needs a value");
    if (auto ok = s->apply(out.cfg, arg, value); !ok)
      return std::move(ok).err();
  }
  return out;
}

std::string usage() {
  return R"(gobid: the gobi voice-agent calling service

Usage: gobid [options]

Options (each also from the TOML config and the environment; flags win):
  --config FILE                 TOML config file              GOBI_CONFIG    [config/gobi.toml]
  --data-dir DIR                database, secrets, recordings GOBI_DATA_DIR  [./data]
  --database URL                sqlite:<path> | postgresql://...  DATABASE_URL
                                                              [sqlite:<data-dir>/gobi.db]
  --http-host ADDR              HTTP listen address           GOBI_HTTP_HOST [127.0.0.1]
  --http-port N                 HTTP port                     PORT           [3000]
  --http-threads N              HTTP transport threads        GOBI_HTTP_THREADS [1]
  --body-limit BYTES            largest request body (413)    GOBI_BODY_LIMIT [10485760]
  --sip-host ADDR               SIP listen address            GOBI_SIP_HOST  [127.0.0.1]
  --sip-port N                  SIP port                      GOBI_SIP_PORT  [5060]
  --rtp-ports A-B               RTP port range                GOBI_RTP_PORTS [20000-29999]
  --srtp off|optional|required  SRTP (SDES) on calls           GOBI_SRTP      [optional]
  --media-threads N             RTP threads (media clocks)    GOBI_MEDIA_THREADS [1]
  --media-priority N            RTP threads SCHED_FIFO 1-99, 0 off GOBI_MEDIA_PRIORITY [0]
  --max-calls N                 live calls; 503 above         GOBI_MAX_CALLS [2000]
  --media-timeout S             end a call after S s without RTP GOBI_MEDIA_TIMEOUT [30]
  --ring-timeout S              outbound: no answer after S s GOBI_RING_TIMEOUT [60]
  --agent-heartbeat-timeout S   INACTIVE after S s without a heartbeat
                                                GOBI_AGENT_HEARTBEAT_TIMEOUT [90]
  --workers N                   actor scheduler threads       GOBI_WORKERS   [2]
  --scheduler sharing|stealing  CAF scheduler policy          GOBI_SCHEDULER [sharing]
  --default-region CC           region for numbers without +CC GOBI_DEFAULT_REGION [US]
  --log-level LEVEL             trace|debug|info|warn|error|off GOBI_LOG_LEVEL [info]
  --demo                        seed a demo tenant, user, agent, list and campaign
  --help, --version
Environment only: JWT_SECRET (token signing key; generated into the data dir when unset).
)";
}

} // namespace gobi::app
