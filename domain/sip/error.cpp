#include "domain/sip/error.hpp"

namespace gobi::sip {

const char* to_string(errc e) noexcept {
  switch (e) {
  case errc::ok:
    return "ok";
  case errc::empty_message:
    return "empty_message";
  case errc::bad_start_line:
    return "bad_start_line";
  case errc::bad_version:
    return "bad_version";
  case errc::bad_uri:
    return "bad_uri";
  case errc::bad_header:
    return "bad_header";
  case errc::missing_header:
    return "missing_header";
  case errc::duplicate_header:
    return "duplicate_header";
  case errc::method_mismatch:
    return "method_mismatch";
  case errc::bad_content_length:
    return "bad_content_length";
  case errc::message_too_large:
    return "message_too_large";
  case errc::too_many_headers:
    return "too_many_headers";
  case errc::bad_auth:
    return "bad_auth";
  case errc::unsupported:
    return "unsupported";
  }
  return "unknown";
}

namespace {
class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "sip"; }
  std::string message(int c) const override { return to_string(static_cast<errc>(c)); }
};
} // namespace

const std::error_category& sip_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), sip_category()};
}

std::string error::to_string() const {
  std::string s = sip::to_string(code);
  s += ": ";
  if (line != 0) {
    s += "line ";
    s += std::to_string(line);
    s += ": ";
  }
  s += message;
  return s;
}

} // namespace gobi::sip
