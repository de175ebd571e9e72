#include "actors/interfaces.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace gobi::actors {

namespace {
const auto gobi_error_category = caf::atom("gobi");
}

caf::error to_caf(const error& e) {
  return caf::error{static_cast<std::uint8_t>(e.code), gobi_error_category,
                    caf::make_message(e.message, e.field, e.retry_after_s)};
}

error from_caf(const caf::error& e) {
  if (e.category() == gobi_error_category) {
    error out{static_cast<errc>(e.code()), {}};
    const auto& ctx = e.context();
    if (ctx.match_elements<std::string, std::string, int>()) {
      out.message = ctx.get_as<std::string>(0);
      out.field = ctx.get_as<std::string>(1);
      out.retry_after_s = ctx.get_as<int>(2);
    }
    return out;
  }
  if (e == caf::sec::request_timeout)
    return {errc::timeout, "an internal request timed out"};
  if (e == caf::sec::request_receiver_down)
    return {errc::unavailable, "the actor that owns this went away; retry"};
  return {errc::internal, "internal error: " + caf::to_string(e)};
}

} // namespace gobi::actors
