#pragma once

/// Error values and the result type every domain, storage and transport function returns.
/// No exceptions cross a layer: a failure is an `error` with a code (which the HTTP layer maps
/// to a status in one place), a human-readable message, and for validation the field name.

#include <cassert>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace gobi {

/// What went wrong, independent of the transport that reports it.
enum class errc {
  ok = 0,
  invalid_argument, ///< malformed input: bad JSON, bad CSV, bad query parameter (400)
  unauthenticated,  ///< missing, expired or bad credentials (401)
  forbidden,        ///< authenticated but not allowed (403)
  not_found,        ///< no such entity in the caller's tenant (404)
  conflict,         ///< unique constraint or state conflict (409)
  too_large,        ///< body or upload over the limit (413)
  validation,       ///< well-formed but semantically invalid: names `field` (422)
  rate_limited,     ///< too many attempts; `retry_after_s` says when to retry (429)
  unavailable,      ///< no capacity or a dependency is down (503)
  timeout,          ///< a request between actors or to a dependency timed out (504)
  storage,          ///< the database failed (500)
  internal,         ///< a bug (500)
};

const std::error_category& gobi_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
const char* to_string(errc e) noexcept;

/// An error value: code, message, and optionally the offending field.
struct error {
  errc code = errc::internal;
  std::string message;
  std::string field;      ///< for errc::validation: the JSON field (camelCase) at fault
  int retry_after_s = 0;  ///< for errc::rate_limited / unavailable

  error() = default;
  error(errc c, std::string msg, std::string fld = {})
    : code(c), message(std::move(msg)), field(std::move(fld)) {}
};

/// Either a value or an error of type E. A small stand-in for C++23's std::expected. Most
/// code uses `result<T>` (E = gobi::error); modules whose errors carry more (SIP: the status
/// that answers them, a partly parsed message) use their own E.
template <class T, class E = error>
class [[nodiscard]] basic_result {
public:
  basic_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  basic_result(E err) : v_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& err() const& { assert(!ok()); return std::get<1>(v_); }
  E&& err() && { assert(!ok()); return std::get<1>(std::move(v_)); }

private:
  std::variant<T, E> v_;
};

template <class T>
using result = basic_result<T, error>;

/// Success without a value.
struct unit_t {
  friend bool operator==(unit_t, unit_t) = default;
};
inline constexpr unit_t unit{};

using status = result<unit_t>;

inline error make_error(errc c, std::string msg, std::string field = {}) {
  return error{c, std::move(msg), std::move(field)};
}

} // namespace gobi

namespace std {
template <>
struct is_error_code_enum<gobi::errc> : true_type {};
} // namespace std
