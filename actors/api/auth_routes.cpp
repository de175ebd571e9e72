#include "actors/api/handlers.hpp"

#include <spdlog/spdlog.h>

namespace gobi::actors::api {

namespace {

std::string token_response(self_ptr self, const user& u, const tenant* t) {
  auto& cfg = self->state.cfg;
  auto now_s = cfg.now() / 1000;
  auth::claims c{u.id.value, u.tenant.value, u.email, now_s, now_s + cfg.jwt_ttl_s};
  json::writer w;
  w.begin_object().field("token", auth::sign_jwt(c, cfg.jwt_secret));
  w.field("expiresAt", format_iso8601(c.expires_at * 1000));
  w.key("user");
  write(w, u, t);
  w.end_object();
  return w.take();
}

struct account {
  user u;
  tenant t;
};

/// Register, step 2: the password is hashed; create tenant and user in storage.
void register_store(self_ptr self, const exchange& x, registration reg, std::string hash) {
  auto now = self->state.cfg.now();
  db<account>(
    self, self->state.cfg.storage, t_tenants,
    [reg, hash, now](storage::store& s) -> result<account> {
      if (s.find_user_by_email(reg.email))
        return error{errc::conflict, "an account with this email exists", "email"};
      auto t = s.create_tenant(tenant{{}, reg.tenant_name, now});
      if (!t)
        return std::move(t).err();
      user u;
      u.tenant = t->id;
      u.email = reg.email;
      u.name = reg.name;
      u.password_hash = hash;
      u.role = "owner";
      u.created_at = now;
      auto created = s.create_user(std::move(u));
      if (!created)
        return std::move(created).err();
      return account{std::move(*created), std::move(*t)};
    },
    [self, x](account a) {
      spdlog::info("registered {} for tenant {}", a.u.email, a.t.id.value);
      reply(x, 201, token_response(self, a.u, &a.t));
    },
    failer(x));
}

/// A hash to verify against when the e-mail is unknown, so both paths cost the same.
const std::string& decoy_hash() {
  static const std::string h = [] {
    auto r = auth::hash_password("decoy password, never matches");
    return r ? *r : std::string{};
  }();
  return h;
}

void login_failed(self_ptr self, const exchange& x, const std::string& email) {
  auto& st = self->state;
  auto now_s = st.cfg.now() / 1000;
  st.throttle.record_failure("email:" + email, now_s);
  st.address_throttle.record_failure(x->req.remote_address, now_s);
  fail(x, {errc::unauthenticated, "invalid email or password"});
}

struct login_target {
  std::optional<user> u;
  std::optional<tenant> t;
};

/// Login, step 3: the password was checked.
void login_verified(self_ptr self, const exchange& x, const login& l, const login_target& who,
                    bool ok) {
  if (!ok || !who.u)
    return login_failed(self, x, l.email);
  self->state.throttle.record_success("email:" + l.email);
  reply(x, 200, token_response(self, *who.u, who.t ? &*who.t : nullptr));
}

/// Login, step 2: the account (or its absence) is known; check the password off-loop.
void login_check(self_ptr self, const exchange& x, login l, login_target who) {
  auto hash = who.u ? who.u->password_hash : decoy_hash();
  self->request(self->state.cfg.auth, defaults::auth_timeout, atom::verify::value, hash,
                l.password)
    .then([self, x, l, who](bool ok) { login_verified(self, x, l, who, ok); }, caf_failer(x));
}

} // namespace

void auth_register(self_ptr self, const exchange& x) {
  auto doc = body_object(x);
  if (!doc)
    return;
  auto reg = read_registration(doc->root());
  if (!reg)
    return fail(x, reg.err());
  self->request(self->state.cfg.auth, defaults::auth_timeout, atom::hash::value, reg->password)
    .then([self, x, r = *reg](std::string& hash) { register_store(self, x, r, std::move(hash)); },
          caf_failer(x));
}

void auth_login(self_ptr self, const exchange& x) {
  auto doc = body_object(x);
  if (!doc)
    return;
  auto l = read_login(doc->root());
  if (!l)
    return fail(x, l.err());
  auto& st = self->state;
  auto now_s = st.cfg.now() / 1000;
  auto wait = std::max(st.throttle.retry_after("email:" + l->email, now_s),
                       st.address_throttle.retry_after(x->req.remote_address, now_s));
  if (wait > 0) {
    error e{errc::rate_limited, "too many failed logins; retry in " + std::to_string(wait) + " s"};
    e.retry_after_s = static_cast<int>(wait);
    return fail(x, e);
  }
  db<login_target>(
    self, st.cfg.storage, t_none,
    [email = l->email](storage::store& s) -> result<login_target> {
      login_target out;
      auto u = s.find_user_by_email(email);
      if (!u) {
        if (u.err().code != errc::not_found)
          return std::move(u).err();
        return out;
      }
      if (auto t = s.get_tenant(u->tenant))
        out.t = std::move(*t);
      out.u = std::move(*u);
      return out;
    },
    [self, x, lg = *l](login_target who) { login_check(self, x, lg, std::move(who)); },
    failer(x));
}

void auth_me(self_ptr self, const exchange& x, const caller& c) {
  db<login_target>(
    self, self->state.cfg.storage, t_none,
    [c](storage::store& s) -> result<login_target> {
      auto u = s.get_user(c.tenant, c.user);
      if (!u && u.err().code == errc::not_found) // a valid token for a user that is gone
        return error{errc::unauthenticated, "the token's user no longer exists"};
      if (!u)
        return std::move(u).err();
      login_target out;
      if (auto t = s.get_tenant(u->tenant))
        out.t = std::move(*t);
      out.u = std::move(*u);
      return out;
    },
    [x](login_target who) {
      json::writer w;
      w.begin_object().key("user");
      write(w, *who.u, who.t ? &*who.t : nullptr);
      w.end_object();
      reply(x, 200, w.take());
    },
    failer(x));
}

} // namespace gobi::actors::api
