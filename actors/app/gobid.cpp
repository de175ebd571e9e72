/// gobid: the long-running service. Loads the config, opens and migrates the store, starts
/// the actor system (ROOT, STORAGE, AUTH, HTTP_API and one actor per entity) and the HTTP
/// server, then waits for SIGTERM/SIGINT and drains.

#include "actors/api/handlers.hpp"
#include "actors/app/config.hpp"
#include "actors/app/demo.hpp"
#include "actors/app/logging.hpp"
#include "actors/root.hpp"
#include "domain/auth.hpp"
#include "transport/http/server.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

using namespace gobi;

millis wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// JWT_SECRET, or the secret kept in the data dir (generated on first start, mode 0600).
result<std::string> jwt_secret(const app::config& cfg) {
  if (!cfg.jwt_secret.empty())
    return cfg.jwt_secret;
  auto path = std::filesystem::path{cfg.data_dir} / "jwt_secret";
  if (std::ifstream in{path}; in) {
    std::string s;
    std::getline(in, s);
    if (s.size() >= 32)
      return s;
  }
  auto s = auth::random_secret();
  {
    std::ofstream out{path, std::ios::trunc};
    if (!out)
      return error{errc::internal, "cannot write " + path.string()};
    out << s << '\n';
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read
                                       | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  return s;
}

result<actors::initial_entities> load_entities(storage::store& s) {
  actors::initial_entities out;
  auto a = s.list_all_agents();
  if (!a)
    return std::move(a).err();
  auto c = s.list_all_campaigns();
  if (!c)
    return std::move(c).err();
  auto l = s.list_all_lead_lists();
  if (!l)
    return std::move(l).err();
  out.agents = std::move(*a);
  out.campaigns = std::move(*c);
  out.lists = std::move(*l);
  return out;
}

int fatal(const std::string& what) {
  spdlog::critical("{}", what);
  std::cerr << "gobid: " << what << '\n';
  return 1;
}

int run(const app::config& cfg) {
  app::setup_logging(cfg.log_level);
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec)
    return fatal("--data-dir: cannot create " + cfg.data_dir + ": " + ec.message());
  auto secret = jwt_secret(cfg);
  if (!secret)
    return fatal(secret.err().message);

  // Storage: open and migrate on this thread, then hand the store to STORAGE.
  auto url = cfg.database_url();
  auto opened = storage::open_store(url);
  if (!opened)
    return fatal("--database: " + opened.err().message);
  std::shared_ptr<storage::store> store = std::move(*opened);
  if (auto m = store->migrate(); !m)
    return fatal("database migration failed: " + m.err().message);
  auto phones = std::make_shared<const phone::normalizer>(cfg.default_region);
  if (cfg.demo) {
    auto seeded = app::seed_demo(*store, *phones, wall_clock_ms());
    if (!seeded)
      return fatal("--demo: " + seeded.err().message);
    if (*seeded)
      spdlog::info("demo data seeded");
  }
  auto initial = load_entities(*store);
  if (!initial)
    return fatal("loading entities: " + initial.err().message);

  // Block the signals we wait for before any thread starts, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.actor_workers));
  sys_cfg.set("scheduler.policy",
              cfg.scheduler == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  sys_cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{sys_cfg};

  const std::string backend{store->backend()};
  auto counters = std::make_shared<actors::change_counters>();
  auto storage_h = sys.spawn<caf::detached>(actors::storage, store, counters);
  store.reset();
  auto auth_h = sys.spawn<caf::detached>(actors::auth_fn);
  actors::entity_env env{storage_h, wall_clock_ms, cfg.heartbeat_timeout_s, phones,
                         defaults::import_threads};
  auto root_h = sys.spawn(actors::root_fn, env, std::move(*initial));

  actors::api_config api_cfg;
  api_cfg.storage = storage_h;
  api_cfg.auth = auth_h;
  api_cfg.root = root_h;
  api_cfg.jwt_secret = *secret;
  api_cfg.now = wall_clock_ms;
  api_cfg.phones = phones;
  api_cfg.counters = counters;
  api_cfg.storage_backend = backend;
  api_cfg.throttle.free_attempts = defaults::login_free_attempts;
  api_cfg.throttle.window_s = defaults::login_window_s;
  api_cfg.throttle.max_delay_s = defaults::login_max_delay_s;
  api_cfg.address_throttle = api_cfg.throttle;
  api_cfg.address_throttle.free_attempts = defaults::login_free_attempts_per_address;
  auto api_h = sys.spawn(actors::http_api_fn, std::move(api_cfg));

  http::server_options http_opts;
  http_opts.host = cfg.http_host;
  http_opts.port = cfg.http_port;
  http_opts.body_limit = cfg.body_limit_bytes;
  http_opts.threads = cfg.http_threads;
  http::server server{http_opts, [api_h](http::request&& req, http::responder&& resp) {
                        auto x = std::make_shared<actors::http_exchange>();
                        x->req = std::move(req);
                        x->respond = std::move(resp);
                        caf::anon_send(api_h, actors::atom::http::value, std::move(x));
                      }};
  if (auto ok = server.start(); !ok) {
    caf::anon_send_exit(api_h, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(root_h, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage_h, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(auth_h, caf::exit_reason::user_shutdown);
    return fatal("--http-port: " + ok.err().message);
  }
  spdlog::info("gobid listening on http://{}:{} (storage {}, {} actor workers)", cfg.http_host,
               server.port(), backend, cfg.actor_workers);
  std::cout << "gobid ready: API at http://" << cfg.http_host << ":" << server.port()
            << "/api/v1 (health: /health)" << std::endl;
  if (cfg.demo)
    std::cout << "log in: POST /api/v1/auth/login {\"email\": \"" << app::demo_email
              << "\", \"password\": \"" << app::demo_password << "\"}" << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");

  // Drain: stop taking requests and answer those in flight (the actors still run), then stop
  // the actors top-down; storage last, so work in flight can still write.
  if (!server.drain(defaults::drain_timeout))
    spdlog::warn("drain: requests still unanswered after {} s were cut off",
                 std::chrono::duration_cast<std::chrono::seconds>(defaults::drain_timeout).count());
  caf::anon_send_exit(api_h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(root_h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(auth_h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(storage_h, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  spdlog::info("gobid stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = app::load_config(args, app::process_env());
  if (!parsed) {
    std::cerr << "gobid: " << parsed.err().message << '\n';
    return 2;
  }
  if (parsed->help) {
    std::cout << app::usage();
    return 0;
  }
  if (parsed->version) {
    std::cout << "gobid 0.1.0\n";
    return 0;
  }
  return run(parsed->cfg);
}
