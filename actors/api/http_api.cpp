#include "actors/api/handlers.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors {

namespace api {

unsigned status_of(errc code) noexcept {
  switch (code) {
    case errc::ok: return 200;
    case errc::invalid_argument: return 400;
    case errc::unauthenticated: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::too_large: return 413;
    case errc::validation: return 422;
    case errc::rate_limited: return 429;
    case errc::unavailable: return 503;
    case errc::timeout: return 504;
    case errc::storage:
    case errc::internal: return 500;
  }
  return 500;
}

namespace {

void add_common_headers(http::response& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
}

} // namespace

void reply(const exchange& x, unsigned status, std::string body) {
  http::response r;
  r.status = status;
  r.body = std::move(body);
  add_common_headers(r);
  x->respond(std::move(r));
}

void reply_shared(const exchange& x, unsigned status, std::shared_ptr<const std::string> body) {
  http::response r;
  r.status = status;
  r.shared_body = std::move(body);
  add_common_headers(r);
  x->respond(std::move(r));
}

void reply_empty(const exchange& x, unsigned status) {
  http::response r;
  r.status = status;
  r.content_type.clear();
  add_common_headers(r);
  x->respond(std::move(r));
}

void reply_as(const exchange& x, unsigned status, std::string content_type, std::string body,
              std::vector<std::pair<std::string, std::string>> headers) {
  http::response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.headers = std::move(headers);
  add_common_headers(r);
  x->respond(std::move(r));
}

void fail(const exchange& x, const error& e) {
  http::response r;
  r.status = status_of(e.code);
  r.body = error_json(e);
  if (e.retry_after_s > 0)
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  if (r.status >= 500)
    spdlog::error("{} {} -> {}: {}", http::to_string(x->req.method), x->req.path, r.status,
                  e.message);
  add_common_headers(r);
  x->respond(std::move(r));
}

void not_found(const exchange& x) {
  fail(x, {errc::not_found, "no route for " + std::string{http::to_string(x->req.method)} + " "
                              + x->req.path});
}

void method_not_allowed(const exchange& x, std::string_view allow) {
  http::response r;
  r.status = 405;
  r.body = error_json({errc::invalid_argument, std::string{http::to_string(x->req.method)}
                                                 + " is not allowed on " + x->req.path
                                                 + " (allowed: " + std::string{allow} + ")"});
  r.body.replace(r.body.find("invalid_argument"), 16, "method_not_allowed");
  r.headers.emplace_back("Allow", std::string{allow});
  add_common_headers(r);
  x->respond(std::move(r));
}

std::shared_ptr<json::document> body_object(const exchange& x) {
  auto doc = parse_object(x->req.body);
  if (!doc) {
    fail(x, doc.err());
    return nullptr;
  }
  return std::make_shared<json::document>(std::move(*doc));
}

void cached_list(self_ptr self, const exchange& x, const std::string& key, table t,
                 std::function<result<std::string>(storage::store&)> load) {
  auto& st = self->state;
  auto version = st.cfg.counters->get(t);
  if (auto i = st.list_cache.find(key); i != st.list_cache.end() && i->second.version == version)
    return reply_shared(x, 200, i->second.body);
  // Read the version before loading: a write racing the load makes the entry look stale,
  // never fresh.
  db<std::string>(
    self, st.cfg.storage, t_none, std::move(load),
    [self, x, key, version](std::string body) {
      auto shared = std::make_shared<const std::string>(std::move(body));
      auto& cache = self->state.list_cache;
      if (cache.size() > 10000)
        cache.clear();
      cache[key] = cached_body{version, shared};
      reply_shared(x, 200, std::move(shared));
    },
    failer(x));
}

result<std::int64_t> query_int(const http::request& r, std::string_view name,
                               std::int64_t fallback, std::int64_t max) {
  auto s = r.query_param(name);
  if (s.empty())
    return fallback;
  std::int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9' || v > (max + 1) * 10)
      return error{errc::invalid_argument,
                   std::string{name} + " must be an integer from 0 to " + std::to_string(max)};
    v = v * 10 + (ch - '0');
  }
  if (v > max)
    return error{errc::invalid_argument,
                 std::string{name} + " must be an integer from 0 to " + std::to_string(max)};
  return v;
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/')
      ++i;
    auto j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    if (j > i)
      out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

/// Verifies the bearer token (through the small cache of verified tokens).
result<caller> authenticate(self_ptr self, const http::request& req) {
  auto& st = self->state;
  std::string_view h = req.authorization;
  constexpr std::string_view scheme = "Bearer ";
  if (h.empty())
    return error{errc::unauthenticated, "missing Authorization: Bearer <token>"};
  if (h.size() <= scheme.size() || !std::equal(scheme.begin(), scheme.end(), h.begin(),
                                               [](char a, char b) {
                                                 return std::tolower(a) == std::tolower(b);
                                               }))
    return error{errc::unauthenticated, "the Authorization header must be: Bearer <token>"};
  auto token = h.substr(scheme.size());
  auto now_s = st.cfg.now() / 1000;
  auto i = st.token_cache.find(std::string{token});
  if (i != st.token_cache.end()) {
    if (i->second.expires_at > now_s)
      return caller{tenant_id{i->second.tenant}, user_id{i->second.user}, i->second.email};
    st.token_cache.erase(i);
    return error{errc::unauthenticated, "token expired"};
  }
  auto claims = auth::verify_jwt(token, st.cfg.jwt_secret, now_s);
  if (!claims)
    return std::move(claims).err();
  if (st.token_cache.size() >= 10000)
    st.token_cache.clear();
  st.token_cache.emplace(std::string{token}, *claims);
  return caller{tenant_id{claims->tenant}, user_id{claims->user}, claims->email};
}

void health(self_ptr self, const exchange& x) {
  auto& st = self->state;
  json::writer w;
  w.begin_object()
    .field("status", "ok")
    .field("version", "0.1.0")
    .field("storage", st.cfg.storage_backend)
    .field("uptimeSeconds", (st.cfg.now() - st.started_at) / 1000);
  if (st.cfg.media_health) {
    w.key("media");
    st.cfg.media_health(w);
  }
  w.end_object();
  reply(x, 200, w.take());
}

void cors_preflight(const exchange& x) {
  http::response r;
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
  r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  x->respond(std::move(r));
}

void route(self_ptr self, const exchange& x) {
  // HEAD is GET without a body: the transport drops the body of a HEAD response itself.
  if (x->req.method == http::verb::head)
    x->req.method = http::verb::get;
  const auto& req = x->req;
  auto segs = split_path(req.path);
  if (req.method == http::verb::options)
    return cors_preflight(x);
  if (segs.size() == 1 && segs[0] == "health") {
    if (req.method != http::verb::get && req.method != http::verb::head)
      return method_not_allowed(x, "GET");
    return health(self, x);
  }
  // /api/v1/... is canonical; /api/... is its alias.
  if (segs.empty() || segs[0] != "api")
    return not_found(x);
  std::size_t skip = segs.size() > 1 && segs[1] == "v1" ? 2 : 1;
  std::vector<std::string_view> rest(segs.begin() + static_cast<std::ptrdiff_t>(skip),
                                     segs.end());
  if (rest.empty())
    return not_found(x);
  if (rest.size() == 1 && rest[0] == "health")
    return health(self, x);
  if (rest[0] == "auth" && rest.size() == 2) {
    if (rest[1] == "register")
      return req.method == http::verb::post ? api::auth_register(self, x)
                                            : method_not_allowed(x, "POST");
    if (rest[1] == "login")
      return req.method == http::verb::post ? api::auth_login(self, x)
                                            : method_not_allowed(x, "POST");
  }
  // Everything else needs a token.
  auto who = authenticate(self, req);
  if (!who)
    return fail(x, who.err());
  auto sub = std::vector<std::string_view>(rest.begin() + 1, rest.end());
  auto resource = rest[0];
  if (resource == "auth" && sub.size() == 1 && sub[0] == "me")
    return req.method == http::verb::get ? api::auth_me(self, x, *who)
                                         : method_not_allowed(x, "GET");
  if (resource == "agents")
    return api::agents(self, x, *who, sub);
  if (resource == "campaigns")
    return api::campaigns(self, x, *who, sub);
  if (resource == "tenants" && sub.size() >= 2 && sub[1] == "campaigns") {
    // Another tenant's id answers 404, like any other id of another tenant.
    if (sub[0] != who->tenant.value)
      return fail(x, {errc::not_found, "tenant " + std::string{sub[0]} + " not found"});
    return api::campaigns(self, x, *who, {sub.begin() + 2, sub.end()});
  }
  if (resource == "lead-lists")
    return api::lead_lists(self, x, *who, sub);
  if (resource == "phone-numbers")
    return api::phone_numbers(self, x, *who, sub);
  if (resource == "dnc")
    return api::dnc(self, x, *who, sub);
  if (resource == "sip-trunks") return api::sip_trunks(self, x, *who, sub);
  if (resource == "calls") return api::calls(self, x, *who, sub);
  return not_found(x);
}

} // namespace
} // namespace api

http_api_actor::behavior_type http_api_fn(http_api_actor::stateful_pointer<http_api_state> self,
                                          api_config cfg) {
  self->state.throttle = login_throttle{cfg.throttle};
  self->state.address_throttle = login_throttle{cfg.address_throttle};
  self->state.cfg = std::move(cfg);
  self->state.started_at = self->state.cfg.now();
  return {
    [self](atom::http, http_exchange_ptr& x) { api::route(self, x); },
  };
}

} // namespace gobi::actors
