#include "actors/entities.hpp"
#include "domain/auth.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace gobi::actors {

auth_actor::behavior_type auth_fn(auth_actor::pointer) {
  return {
    [](atom::hash, const std::string& password) -> caf::result<std::string> {
      auto h = auth::hash_password(password);
      if (!h)
        return to_caf(h.err());
      return std::move(*h);
    },
    [](atom::verify, const std::string& hash, const std::string& password) {
      return auth::verify_password(hash, password);
    },
  };
}

} // namespace gobi::actors
