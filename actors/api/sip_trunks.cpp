// /api/v1/sip-trunks: the SIP trunks outbound calls go through. The password is write-only:
// responses carry `hasPassword` instead (codec.cpp never writes it).

#include "actors/api/handlers.hpp"

namespace gobi::actors::api {

namespace {

void list(self_ptr self, const exchange& x, const caller& c) {
  cached_list(self, x, "sip-trunks/" + c.tenant.value, t_sip_trunks,
              list_loader(c.tenant, &storage::store::list_sip_trunks));
}

void create(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc) return;
  sip_trunk t;
  if (auto ok = read_sip_trunk(doc->root(), t, true, *self->state.cfg.phones); !ok)
    return fail(x, ok.err());
  t.tenant = c.tenant;
  t.created_at = t.updated_at = self->state.cfg.now();
  db<sip_trunk>(
      self, self->state.cfg.storage, t_sip_trunks,
      [t](storage::store& s) { return s.create_sip_trunk(t); },
      [x](sip_trunk created) { reply(x, 201, to_json(created)); }, failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, sip_trunk_id id) {
  db<sip_trunk>(
      self, self->state.cfg.storage, t_none,
      [t = c.tenant, id](storage::store& s) { return s.get_sip_trunk(t, id); },
      [x](sip_trunk t) { reply(x, 200, to_json(t)); }, failer(x));
}

/// PUT and PATCH both merge the fields given onto the stored trunk.
void update(self_ptr self, const exchange& x, const caller& c, sip_trunk_id id) {
  auto doc = body_object(x);
  if (!doc) return;
  db<sip_trunk>(
      self, self->state.cfg.storage, t_sip_trunks,
      [doc, phones = self->state.cfg.phones, t = c.tenant, id,
       now = self->state.cfg.now()](storage::store& s) -> result<sip_trunk> {
        auto stored = s.get_sip_trunk(t, id);
        if (!stored) return stored;
        if (auto ok = read_sip_trunk(doc->root(), *stored, false, *phones); !ok)
          return std::move(ok).err();
        stored->updated_at = now;
        return s.update_sip_trunk(*stored);
      },
      [x](sip_trunk t) { reply(x, 200, to_json(t)); }, failer(x));
}

void remove(self_ptr self, const exchange& x, const caller& c, sip_trunk_id id) {
  db<unit_t>(
      self, self->state.cfg.storage, t_sip_trunks,
      [t = c.tenant, id](storage::store& s) { return s.delete_sip_trunk(t, id); },
      [x](unit_t) { reply_empty(x, 204); }, failer(x));
}

} // namespace

void sip_trunks(self_ptr self, const exchange& x, const caller& c,
                const std::vector<std::string_view>& rest) {
  static const resource_routes<sip_trunk_id> routes{list, create, get, update, remove, {}};
  dispatch(self, x, c, rest, routes);
}

} // namespace gobi::actors::api
