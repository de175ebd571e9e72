#pragma once

/// A value or an error of a given type: a small stand-in for C++23's std::expected, used by
/// the SIP and SDP modules whose errors carry more than `gobi::error` does (a line number,
/// the SIP status that answers them, a partly parsed message).

#include <cassert>
#include <utility>
#include <variant>

namespace gobi::sip {

template <class T, class E> class [[nodiscard]] expected {
public:
  expected(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}
  expected(E err)
      : v_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

private:
  std::variant<T, E> v_;
};

} // namespace gobi::sip
