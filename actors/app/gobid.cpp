/// gobid: the long-running service. Loads the config, opens and migrates the store, starts
/// the actor system (ROOT, STORAGE, AUTH, HTTP_API and one actor per entity) and the HTTP
/// server, then waits for SIGTERM/SIGINT and drains.

#include "actors/api/handlers.hpp"
#include "actors/app/config.hpp"
#include "actors/app/demo.hpp"
#include "actors/app/logging.hpp"
#include "actors/call/telephony.hpp"
#include "actors/root.hpp"
#include "domain/auth.hpp"
#include "transport/http/server.hpp"
#include "transport/json/json.hpp"
#include "transport/rtp/engine.hpp"
#include "transport/rtp/file_writer.hpp"
#include "transport/sip/transport.hpp"

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
#include <thread>

namespace {

using namespace gobi;

millis wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// JWT_SECRET, or the secret kept in the data dir (generated on first start, mode 0600).
result<std::string> jwt_secret(const app::config& cfg) {
  if (!cfg.jwt_secret.empty()) return cfg.jwt_secret;
  auto path = std::filesystem::path{cfg.data_dir} / "jwt_secret";
  if (std::ifstream in{path}; in) {
    std::string s;
    std::getline(in, s);
    if (s.size() >= 32) return s;
  }
  auto s = auth::random_secret();
  {
    std::ofstream out{path, std::ios::trunc};
    if (!out) return error{errc::internal, "cannot write " + path.string()};
    out << s << '\n';
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace);
  return s;
}

result<actors::initial_entities> load_entities(storage::store& s) {
  actors::initial_entities out;
  auto a = s.list_all_agents();
  if (!a) return std::move(a).err();
  auto c = s.list_all_campaigns();
  if (!c) return std::move(c).err();
  auto l = s.list_all_lead_lists();
  if (!l) return std::move(l).err();
  out.agents = std::move(*a);
  out.campaigns = std::move(*c);
  out.lists = std::move(*l);
  return out;
}

/// Hands what the SIP transport receives to SIP_ENDPOINT (on the transport's threads).
class sip_handler final : public sip::transport_handler {
public:
  /// Set once, before the transport starts.
  void set(actors::sip_endpoint_actor ep) { endpoint_ = std::move(ep); }
  void on_message(sip::message msg, sip::peer from) override {
    caf::anon_send(endpoint_, actors::atom::sip_in::value,
                   actors::sip_packet{std::move(msg), std::move(from)});
  }
  void on_send_error(sip::peer to, std::string what) override {
    caf::anon_send(endpoint_, actors::atom::senderr::value, std::move(to), std::move(what));
  }

private:
  actors::sip_endpoint_actor endpoint_;
};

/// /health's "media": each media thread's clock (how late its wake-ups came, how long its
/// ticks took) and the recording writer's queue. Counters since start; any thread.
void write_media_health(json::writer& w, rtp::engine& e) {
  using ms = std::chrono::duration<double, std::milli>;
  using us = std::chrono::duration<double, std::micro>;
  w.begin_object()
      .field("threads", static_cast<std::int64_t>(e.threads()))
      .field("openPorts", static_cast<std::int64_t>(e.open_ports()));
  w.key("clocks").begin_array();
  for (unsigned i = 0; i < e.threads(); ++i) {
    const auto c = e.clock(i).stats();
    const double mean_work =
        c.ticks ? us(c.total_tick_work).count() / static_cast<double>(c.ticks) : 0.0;
    w.begin_object()
        .field("streams", static_cast<std::int64_t>(c.streams))
        .field("wakeUps", static_cast<std::int64_t>(c.ticks))
        .field("lateWakeUps", static_cast<std::int64_t>(c.late))
        .field("skippedWakeUps", static_cast<std::int64_t>(c.skipped))
        .field("maxLatenessMs", ms(c.max_lateness).count())
        .field("meanWorkUs", mean_work)
        .field("maxWorkUs", us(c.max_tick_work).count())
        .end_object();
  }
  w.end_array();
  const auto f = e.files().stats();
  w.key("recordings")
      .begin_object()
      .field("open", static_cast<std::int64_t>(f.files_opened - f.files_closed))
      .field("bytesWritten", static_cast<std::int64_t>(f.bytes_written))
      .field("pendingBytes", static_cast<std::int64_t>(f.pending_bytes))
      .field("chunksDropped", static_cast<std::int64_t>(f.chunks_dropped))
      .field("writeErrors", static_cast<std::int64_t>(f.write_errors))
      .end_object();
  w.end_object();
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
  if (ec) return fatal("--data-dir: cannot create " + cfg.data_dir + ": " + ec.message());
  auto secret = jwt_secret(cfg);
  if (!secret) return fatal(secret.err().message);

  // Storage: open and migrate on this thread, then hand the store to STORAGE.
  auto url = cfg.database_url();
  auto opened = storage::open_store(url);
  if (!opened) return fatal("--database: " + opened.err().message);
  std::shared_ptr<storage::store> store = std::move(*opened);
  if (auto m = store->migrate(); !m) return fatal("database migration failed: " + m.err().message);
  // Calls a previous run left live (crash, kill -9) have no CALL actor any more.
  if (auto ended = store->end_unfinished_calls(wall_clock_ms(), "gobid restarted"); !ended)
    return fatal("ending calls left over: " + ended.err().message);
  else if (*ended > 0)
    spdlog::warn("{} call(s) left over by the previous run marked ENDED", *ended);
  auto phones = std::make_shared<const phone::normalizer>(cfg.default_region);
  if (cfg.demo) {
    auto seeded = app::seed_demo(*store, *phones, wall_clock_ms());
    if (!seeded) return fatal("--demo: " + seeded.err().message);
    if (*seeded) spdlog::info("demo data seeded");
  }
  auto initial = load_entities(*store);
  if (!initial) return fatal("loading entities: " + initial.err().message);

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

  // Telephony: the RTP engine (media threads and clocks), TTS, CALL_SUPERVISOR, the SIP
  // transport and SIP_ENDPOINT.
  rtp::engine_options media_opts;
  media_opts.host = cfg.sip_host;
  media_opts.ports = {cfg.rtp_port_min, cfg.rtp_port_max};
  media_opts.threads = cfg.media_threads;
  media_opts.realtime_priority = cfg.media_priority;
  // Shared with /health's reader, which may run until the actor system is gone.
  auto media = std::make_shared<rtp::engine>(media_opts);
  auto stop_all = [&](std::initializer_list<caf::actor_addr> hs) {
    for (auto& h : hs)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  };
  if (auto ok = media->start(); !ok) {
    stop_all({root_h.address(), storage_h.address(), auth_h.address()});
    return fatal("--rtp-ports: " + ok.err().message);
  }
  auto tts_h = sys.spawn<caf::detached>(actors::tts);
  sip::transport_options sip_opts;
  sip_opts.host = cfg.sip_host;
  sip_opts.port = cfg.sip_port;
  auto handler = std::make_shared<sip_handler>();
  auto transport = std::make_shared<sip::transport>(sip_opts, handler);
  actors::telephony_env tenv;
  tenv.storage = storage_h;
  tenv.tts = tts_h;
  tenv.media = media.get();
  tenv.sip_host = cfg.sip_host;
  tenv.sip_port = cfg.sip_port;
  tenv.srtp = sdp::parse_srtp_policy(cfg.srtp).value_or(sdp::srtp_policy::optional);
  tenv.recordings_dir = std::filesystem::path{cfg.data_dir} / "recordings";
  tenv.now = wall_clock_ms;
  tenv.phones = phones;
  tenv.max_calls = cfg.max_calls;
  tenv.media_timeout = std::chrono::seconds(cfg.media_timeout_s);
  tenv.ring_timeout = std::chrono::seconds(cfg.ring_timeout_s);
  auto calls_h = sys.spawn(actors::call_supervisor, tenv);
  auto sip_h = sys.spawn(actors::sip_endpoint, transport, calls_h);
  handler->set(sip_h);
  actors::connect(calls_h, sip_h);
  if (auto ok = transport->start(); !ok) {
    stop_all({sip_h.address(), calls_h.address(), tts_h.address(), root_h.address(),
              storage_h.address(), auth_h.address()});
    return fatal("--sip-port: " + ok.err().message);
  }
  if (cfg.sip_port == 0) spdlog::warn("--sip-port 0: SIP bound to port {}", transport->port());
  if (cfg.media_priority > 0 && media->realtime_threads() < media->threads())
    spdlog::warn("--media-priority {}: {} of {} RTP threads run SCHED_FIFO (needs CAP_SYS_NICE "
                 "or an rtprio limit); the others use normal scheduling",
                 cfg.media_priority, media->realtime_threads(), media->threads());

  actors::api_config api_cfg;
  api_cfg.storage = storage_h;
  api_cfg.auth = auth_h;
  api_cfg.root = root_h;
  api_cfg.jwt_secret = *secret;
  api_cfg.now = wall_clock_ms;
  api_cfg.phones = phones;
  api_cfg.counters = counters;
  api_cfg.storage_backend = backend;
  api_cfg.calls = calls_h;
  api_cfg.media_health = [media](json::writer& w) { write_media_health(w, *media); };
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
    stop_all({sip_h.address(), calls_h.address(), tts_h.address(), api_h.address(),
              root_h.address(), storage_h.address(), auth_h.address()});
    return fatal("--http-port: " + ok.err().message);
  }
  spdlog::info("gobid listening on http://{}:{} and sip:{}:{} (UDP, TCP; RTP {}-{}, SRTP {}); "
               "storage {}, {} actor workers",
               cfg.http_host, server.port(), cfg.sip_host, transport->port(), cfg.rtp_port_min,
               cfg.rtp_port_max, cfg.srtp, backend, cfg.actor_workers);
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
  // Calls: refuse new ones (503), hang up the live ones (BYE), give the BYEs a moment.
  caf::anon_send(sip_h, actors::atom::drain::value);
  caf::anon_send(calls_h, actors::atom::drain::value);
  {
    caf::scoped_actor waiter{sys};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      std::int64_t live = -1;
      waiter->request(calls_h, std::chrono::seconds(1), actors::atom::status::value)
          .receive([&](std::int64_t n) { live = n; }, [](caf::error&) {});
      if (live == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100)); // last BYEs on the wire
  stop_all({api_h.address(), calls_h.address(), sip_h.address(), tts_h.address(),
            root_h.address(), auth_h.address(), storage_h.address()});
  sys.await_all_actors_done();
  transport->stop();
  media->stop();
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
