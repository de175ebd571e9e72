#include "domain/result.hpp"

namespace gobi {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid_argument";
    case errc::unauthenticated: return "unauthenticated";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::too_large: return "too_large";
    case errc::validation: return "validation_failed";
    case errc::rate_limited: return "rate_limited";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::storage: return "storage_error";
    case errc::internal: return "internal_error";
  }
  return "unknown";
}

namespace {
class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "gobi"; }
  std::string message(int c) const override { return to_string(static_cast<errc>(c)); }
};
} // namespace

const std::error_category& gobi_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), gobi_category()};
}

} // namespace gobi
