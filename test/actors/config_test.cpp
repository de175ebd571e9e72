#include "actors/app/config.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace gobi;

namespace {

app::env_fn env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    if (auto i = m.find(k); i != m.end())
      return i->second;
    return std::nullopt;
  };
}

std::string write_toml(const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / "gobi-config-test.toml";
  std::ofstream{p} << text;
  return p.string();
}

} // namespace

TEST_CASE("defaults apply when nothing is given") {
  auto r = app::load_config({"--config", write_toml("")}, env_of({}));
  REQUIRE(r.ok());
  CHECK(r->cfg.http_port == 3000);
  CHECK(r->cfg.heartbeat_timeout_s == 90);
  CHECK(r->cfg.database_url() == "sqlite:./data/gobi.db");
  CHECK_FALSE(r->cfg.demo);
}

TEST_CASE("file < environment < flags") {
  auto file = write_toml("data_dir = \"/tmp/x\"\n[http]\nport = 4000\n[agents]\n"
                         "heartbeat_timeout_s = 30\n[sip]\nport = 5070\n");
  auto r = app::load_config({"--config", file}, env_of({}));
  REQUIRE(r.ok());
  CHECK(r->cfg.http_port == 4000);
  CHECK(r->cfg.heartbeat_timeout_s == 30);
  CHECK(r->cfg.sip_port == 5070);
  CHECK(r->cfg.database_url() == "sqlite:/tmp/x/gobi.db");

  r = app::load_config({"--config", file}, env_of({{"PORT", "4100"}, {"JWT_SECRET", "s3"}}));
  REQUIRE(r.ok());
  CHECK(r->cfg.http_port == 4100);
  CHECK(r->cfg.jwt_secret == "s3");

  r = app::load_config({"--config", file, "--http-port", "4200", "--demo",
                        "--rtp-ports=30000-30100", "--agent-heartbeat-timeout", "5"},
                       env_of({{"PORT", "4100"}}));
  REQUIRE(r.ok());
  CHECK(r->cfg.http_port == 4200);
  CHECK(r->cfg.demo);
  CHECK(r->cfg.rtp_port_min == 30000);
  CHECK(r->cfg.rtp_port_max == 30100);
  CHECK(r->cfg.heartbeat_timeout_s == 5);

  r = app::load_config({"--config", write_toml("[rtp]\npriority = 20\nthreads = 2\n")},
                       env_of({}));
  REQUIRE(r.ok());
  CHECK(r->cfg.media_priority == 20);
  CHECK(r->cfg.media_threads == 2);
  r = app::load_config({"--config", write_toml(""), "--media-priority", "5"},
                       env_of({{"GOBI_MEDIA_PRIORITY", "9"}}));
  REQUIRE(r.ok());
  CHECK(r->cfg.media_priority == 5);
}

TEST_CASE("a bad value names where it came from") {
  struct row {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string toml;
    std::string expect; // a substring of the message
  };
  std::vector<row> rows{
    {{"--http-port", "abc"}, {}, "", "--http-port: 'abc' is not a port"},
    {{"--http-port", "70000"}, {}, "", "--http-port: '70000'"},
    {{}, {{"PORT", "-1"}}, "", "PORT (environment): '-1'"},
    {{}, {}, "[http]\nport = \"x\"\n", "http.port: 'x' is not a port"},
    {{}, {}, "[http]\nport = [1]\n", "http.port: has the wrong type"},
    {{}, {}, "[http\n", "gobi-config-test.toml"},
    {{"--database", "mysql://x"}, {}, "", "--database: 'mysql://x' is not a database URL"},
    {{"--rtp-ports", "3000"}, {}, "", "--rtp-ports: '3000' is not a port range"},
    {{"--agent-heartbeat-timeout", "0"}, {}, "", "--agent-heartbeat-timeout: '0'"},
    {{"--log-level", "loud"}, {}, "", "--log-level: 'loud' is not a log level"},
    {{"--scheduler", "fifo"}, {}, "", "--scheduler: 'fifo' is not a scheduler policy"},
    {{"--bogus"}, {}, "", "--bogus: unknown option"},
    {{"--media-priority", "100"}, {}, "", "--media-priority: '100'"},
    {{"--http-port"}, {}, "", "--http-port: needs a value"},
    {{}, {{"GOBI_DEMO", "maybe"}}, "", "GOBI_DEMO (environment): 'maybe' is not a boolean"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.expect);
    auto args = r.args;
    args.insert(args.begin(), {"--config", write_toml(r.toml)});
    auto out = app::load_config(args, env_of(r.env));
    REQUIRE_FALSE(out.ok());
    CHECK(out.err().message.find(r.expect) != std::string::npos);
  }
}

TEST_CASE("a config file that was asked for must exist") {
  auto r = app::load_config({"--config", "/nonexistent/gobi.toml"}, env_of({}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("config file not found") != std::string::npos);
}
