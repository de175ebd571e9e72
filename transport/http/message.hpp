#pragma once

/// HTTP request and response values handed between the Beast server (transport threads)
/// and whoever handles requests (the HTTP_API actor). Plain data: no Beast types leak out.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gobi::http {

enum class verb { get, head, post, put, patch, del, options, other };

std::string_view to_string(verb v) noexcept;

/// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in query strings).
/// A malformed escape ("%4", "%zz") is kept as written rather than rejected.
std::string percent_decode(std::string_view s, bool plus_is_space = false);

struct request {
  verb method = verb::get;
  std::string target; ///< as sent: path and query
  std::string path;   ///< target up to '?', percent-decoded
  std::string query;  ///< after '?', raw
  std::string content_type;
  std::string authorization;
  std::string remote_address; ///< peer IP, for rate limits
  std::string body;
  /// Every header as sent (names lower-cased), for what the fields above do not cover.
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header with this (lower-case) name, or "".
  std::string_view header(std::string_view lower_name) const noexcept;
  /// A query parameter, percent-decoded; `fallback` when absent.
  std::string query_param(std::string_view name, std::string_view fallback = {}) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  /// The body: `shared_body` when set (immutable, shared with a cache, never copied),
  /// else `body`.
  std::string body;
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers

  std::string_view body_view() const noexcept {
    return shared_body ? std::string_view{*shared_body} : std::string_view{body};
  }
};

/// Sends one response back on the connection it came from. Move-only; callable from any
/// thread exactly once (it posts to the connection's strand). A responder dropped without
/// being called answers 500, so a lost message never leaves a client hanging.
class responder {
public:
  using send_fn = std::function<void(response)>;

  responder() = default;
  explicit responder(send_fn fn) : fn_(std::make_shared<send_fn>(std::move(fn))) {}
  responder(responder&&) noexcept = default;
  responder& operator=(responder&&) noexcept;
  responder(const responder&) = delete;
  responder& operator=(const responder&) = delete;
  ~responder();

  void operator()(response r);
  bool valid() const noexcept { return fn_ != nullptr; }

private:
  std::shared_ptr<send_fn> fn_;
};

/// Called on a transport thread (the connection's strand) for every complete request. Must not
/// block: hand the work to an actor and answer through the responder. An exception escaping it
/// is caught by the server; the unanswered responder then answers 500.
using handler = std::function<void(request&&, responder&&)>;

} // namespace gobi::http
