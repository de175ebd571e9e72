#pragma once

/// HTTP_API internals shared by the route handlers (actors/api/*.cpp). Not a public header.
///
/// A request arrives on HTTP_API from a transport thread as an `http_exchange`; the router
/// (http_api.cpp) authenticates it and calls one handler. A handler parses, calls a domain
/// function, asks STORAGE/ROOT/AUTH, and answers through `reply`/`fail`. Errors become
/// statuses in one place: status_of() below.

#include "actors/entities.hpp"
#include "actors/interfaces.hpp"
#include "actors/root.hpp"
#include "actors/storage_actor.hpp"
#include "actors/api/codec.hpp"
#include "domain/auth.hpp"
#include "domain/throttle.hpp"
#include "domain/time.hpp"
#include "transport/http/message.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gobi::actors {

struct http_exchange {
  http::request req;
  http::responder respond;
};

/// What HTTP_API is configured with.
struct api_config {
  storage_actor storage;
  auth_actor auth;
  root_actor root;
  /// CALL_SUPERVISOR; null while telephony is not running (originate and hang-up answer 503).
  call_supervisor_actor calls;
  std::string jwt_secret;
  std::int64_t jwt_ttl_s = defaults::jwt_ttl_s;
  std::int64_t runtime_config_ttl_s = defaults::runtime_config_cache_ttl_s;
  clock_fn now;
  std::shared_ptr<const phone::normalizer> phones;
  std::shared_ptr<change_counters> counters;
  std::string storage_backend;
  login_throttle::options throttle;         ///< per account (e-mail)
  login_throttle::options address_throttle; ///< per client address: more lenient (NAT)
  /// Writes /health's "media" value (the RTP engine's clocks and the recording writer); none
  /// without telephony. Called on the API actor's thread; must only read counters.
  std::function<void(json::writer&)> media_health;
};

struct cached_body {
  std::uint64_t version = 0;
  std::shared_ptr<const std::string> body;
};

struct http_api_state {
  static inline const char* name = "http_api";
  api_config cfg;
  login_throttle throttle;         ///< failed logins per account; a success clears it
  login_throttle address_throttle; ///< failed logins per client address; expires by window
  millis started_at = 0;
  /// Serialised list responses, keyed by tenant and resource, valid while the table's
  /// change counter still has the version they were read at.
  std::unordered_map<std::string, cached_body> list_cache;
  /// Verified tokens (bounded), so a hot client costs one lookup instead of an HMAC.
  std::unordered_map<std::string, auth::claims> token_cache;
  /// Recording downloads being read (calls.cpp): shared with the reader threads, which
  /// count themselves out.
  std::shared_ptr<std::atomic<int>> recording_readers = std::make_shared<std::atomic<int>>(0);
};

http_api_actor::behavior_type http_api_fn(http_api_actor::stateful_pointer<http_api_state> self,
                                          api_config cfg);

namespace api {

using namespace ::gobi::api; // the codec

using self_ptr = http_api_actor::stateful_pointer<http_api_state>;
using exchange = http_exchange_ptr;

/// The authenticated caller.
struct caller {
  tenant_id tenant;
  user_id user;
  std::string email;
};

/// The HTTP status for an error code: the one mapping of the whole API.
unsigned status_of(errc code) noexcept;

void reply(const exchange& x, unsigned status, std::string body);
void reply_shared(const exchange& x, unsigned status, std::shared_ptr<const std::string> body);
void reply_empty(const exchange& x, unsigned status);
/// A body that is not JSON (a recording), with extra headers.
void reply_as(const exchange& x, unsigned status, std::string content_type, std::string body,
              std::vector<std::pair<std::string, std::string>> headers = {});
void fail(const exchange& x, const error& e);

/// A continuation that answers an error (for db/request failure paths).
inline auto failer(exchange x) {
  return [x](const error& e) { fail(x, e); };
}
inline auto caf_failer(exchange x) {
  return [x](const caf::error& e) { fail(x, from_caf(e)); };
}

/// Parses the request body as a JSON object, answering 400 itself when it is not.
/// The document is shared so storage jobs (copyable closures) can hold it.
std::shared_ptr<json::document> body_object(const exchange& x);

/// GET of a list through the cache: `load` runs on STORAGE and produces the body.
void cached_list(self_ptr self, const exchange& x, const std::string& key, table t,
                 std::function<result<std::string>(storage::store&)> load);

/// Loads a tenant's list of T with a store method and encodes it as `{items, total}`: the
/// `load` of cached_list for the plain list endpoints.
template <class T>
std::function<result<std::string>(storage::store&)>
list_loader(tenant_id t, result<std::vector<T>> (storage::store::*fn)(const tenant_id&)) {
  return [t = std::move(t), fn](storage::store& s) -> result<std::string> {
    auto v = (s.*fn)(t);
    if (!v)
      return std::move(v).err();
    return to_json_list(*v, static_cast<std::int64_t>(v->size()));
  };
}

/// A non-negative integer query parameter with a default and a maximum (400 otherwise).
result<std::int64_t> query_int(const http::request& r, std::string_view name,
                               std::int64_t fallback, std::int64_t max);

// --- route handlers (one file per resource) -------------------------------------------------
void auth_register(self_ptr self, const exchange& x);
void auth_login(self_ptr self, const exchange& x);
void auth_me(self_ptr self, const exchange& x, const caller& c);

/// `rest` is the path after /agents (may be empty).
void agents(self_ptr self, const exchange& x, const caller& c,
            const std::vector<std::string_view>& rest);
void campaigns(self_ptr self, const exchange& x, const caller& c,
               const std::vector<std::string_view>& rest);
void lead_lists(self_ptr self, const exchange& x, const caller& c,
                const std::vector<std::string_view>& rest);
void phone_numbers(self_ptr self, const exchange& x, const caller& c,
                   const std::vector<std::string_view>& rest);
void dnc(self_ptr self, const exchange& x, const caller& c,
         const std::vector<std::string_view>& rest);
void sip_trunks(self_ptr self, const exchange& x, const caller& c,
                const std::vector<std::string_view>& rest);
void calls(self_ptr self, const exchange& x, const caller& c,
           const std::vector<std::string_view>& rest);

/// 404 for a path no route matches, 405 (with Allow) for a known path and a wrong method.
void not_found(const exchange& x);
void method_not_allowed(const exchange& x, std::string_view allow);

/// The handlers of one REST resource: the collection (`GET`, `POST`), an item (`GET`,
/// `PUT`/`PATCH`, `DELETE` on `/:id`) and actions on an item (`POST /:id/deploy`).
template <class Id>
struct resource_routes {
  using collection_fn = void (*)(self_ptr, const exchange&, const caller&);
  using item_fn = void (*)(self_ptr, const exchange&, const caller&, Id);
  struct action {
    std::string_view name;
    http::verb method;
    item_fn fn;
  };
  collection_fn list = nullptr;
  collection_fn create = nullptr;
  item_fn get = nullptr;
  item_fn update = nullptr;
  item_fn remove = nullptr;
  std::vector<action> actions;
};

/// Routes `rest` (the path after the resource name) to a handler; answers 405 with Allow
/// for a known path and a wrong method, 404 for an unknown path.
template <class Id>
void dispatch(self_ptr self, const exchange& x, const caller& c,
              const std::vector<std::string_view>& rest, const resource_routes<Id>& r) {
  using http::verb;
  auto m = x->req.method;
  if (rest.empty()) {
    if (m == verb::get && r.list)
      return r.list(self, x, c);
    if (m == verb::post && r.create)
      return r.create(self, x, c);
    return method_not_allowed(x, "GET, POST");
  }
  Id id{std::string{rest[0]}};
  if (rest.size() == 1) {
    if (m == verb::get && r.get)
      return r.get(self, x, c, std::move(id));
    if ((m == verb::put || m == verb::patch) && r.update)
      return r.update(self, x, c, std::move(id));
    if (m == verb::del && r.remove)
      return r.remove(self, x, c, std::move(id));
    return method_not_allowed(x, "GET, PUT, PATCH, DELETE");
  }
  if (rest.size() == 2)
    for (const auto& a : r.actions)
      if (a.name == rest[1])
        return m == a.method ? a.fn(self, x, c, std::move(id))
                             : method_not_allowed(x, http::to_string(a.method));
  not_found(x);
}

} // namespace api
} // namespace gobi::actors
