#include "actors/sip/transaction_layer.hpp"

#include "domain/sip/builder.hpp"
#include "domain/sip/routing.hpp"

namespace gobi::actors::sip_layer {

namespace {

sip::transport_reliability reliability(const sip::peer& p) {
  return p.proto == sip::protocol::tcp ? sip::transport_reliability::reliable
                                       : sip::transport_reliability::unreliable;
}

} // namespace

std::string call_id_of(const sip::message& m) {
  auto c = m.call_id();
  return c ? *c : std::string{};
}

struct transaction_layer::server_txn {
  std::variant<sip::server_invite_transaction, sip::server_non_invite_transaction> machine;
  sip::peer from;
  sip::message request; ///< for the response target
  std::string call_id;
  bool done = false;
};

struct transaction_layer::client_txn {
  std::variant<sip::client_invite_transaction, sip::client_non_invite_transaction> machine;
  sip::peer to;
  std::string method;
  std::string call_id;
  bool done = false;
};

transaction_layer::transaction_layer(sip::timer_config cfg)
    : cfg_(cfg) {}

transaction_layer::~transaction_layer() = default;

std::size_t transaction_layer::server_transactions() const noexcept {
  return servers_.size();
}

std::size_t transaction_layer::client_transactions() const noexcept {
  return clients_.size();
}

sip::peer transaction_layer::response_target(const sip::message& request, const sip::peer& from) {
  if (from.proto == sip::protocol::tcp) return from;
  auto top = request.top_via();
  if (!top) return from;
  auto d = sip::response_destination(*top);
  return sip::peer{sip::protocol::udp, d.host, d.port, 0};
}

void transaction_layer::arm(bool server, const std::string& key, sip::timer_id id, millis at) {
  timers_.push(timer_entry{at, server, key, id});
}

void transaction_layer::apply_server(const std::string& key, sip::actions acts, output& out) {
  auto it = servers_.find(key);
  if (it == servers_.end()) return;
  auto& t = *it->second;
  for (auto& a : acts) {
    if (auto* s = std::get_if<sip::send_message>(&a)) {
      out.sends.push_back({response_target(t.request, t.from), s->msg.to_string()});
    } else if (auto* st = std::get_if<sip::start_timer>(&a)) {
      arm(true, key, st->timer, st->at);
    } else if (auto* d = std::get_if<sip::deliver>(&a)) {
      if (d->msg.method == "ACK")
        out.events.push_back(ack_event{std::move(d->msg), t.from});
      else
        out.events.push_back(request_event{key, std::move(d->msg), t.from});
    } else if (auto* term = std::get_if<sip::terminated>(&a)) {
      t.done = true;
      bool invite = std::holds_alternative<sip::server_invite_transaction>(t.machine);
      if (invite && term->reason != sip::termination::completed) {
        ++stats_.timeouts;
        out.events.push_back(server_failed_event{key, t.call_id, term->reason, term->final_status});
      }
    }
  }
  if (t.done) {
    if (auto ix = invite_by_call_.find(t.call_id); ix != invite_by_call_.end() && ix->second == key)
      invite_by_call_.erase(ix);
    servers_.erase(it);
  }
}

void transaction_layer::apply_client(const std::string& key, sip::actions acts, output& out) {
  auto it = clients_.find(key);
  if (it == clients_.end()) return;
  auto& t = *it->second;
  for (auto& a : acts) {
    if (auto* s = std::get_if<sip::send_message>(&a)) {
      out.sends.push_back({t.to, s->msg.to_string()});
    } else if (auto* st = std::get_if<sip::start_timer>(&a)) {
      arm(false, key, st->timer, st->at);
    } else if (auto* d = std::get_if<sip::deliver>(&a)) {
      out.events.push_back(response_event{key, std::move(d->msg)});
    } else if (auto* term = std::get_if<sip::terminated>(&a)) {
      t.done = true;
      if (term->reason != sip::termination::completed) {
        ++stats_.timeouts;
        out.events.push_back(
            client_failed_event{key, t.method, t.call_id, term->reason, term->provisional_seen});
      }
    }
  }
  if (t.done) clients_.erase(it);
}

void transaction_layer::on_message(sip::message msg, const sip::peer& from, millis now,
                                   output& out) {
  if (msg.is_response()) {
    auto key = sip::client_key(msg);
    auto it = key ? clients_.find(key->to_string()) : clients_.end();
    if (it == clients_.end()) {
      ++stats_.stray_responses;
      out.events.push_back(stray_response_event{std::move(msg), from});
      return;
    }
    auto k = it->first;
    auto acts = std::visit([&](auto& m) { return m.on_response(msg, now); }, it->second->machine);
    apply_client(k, std::move(acts), out);
    return;
  }
  auto key = sip::server_key(msg);
  if (!key) return; // the parser validated Via; a key cannot fail for a parsed request
  auto k = key->to_string();
  if (msg.method == "ACK") {
    auto it = servers_.find(k);
    if (it != servers_.end()) {
      if (auto* inv = std::get_if<sip::server_invite_transaction>(&it->second->machine)) {
        if (inv->current() == sip::server_invite_transaction::state::accepted) {
          // An ACK for our 2xx that reuses the INVITE's branch (RFC 2543 style).
          apply_server(k, inv->on_ack_for_2xx(now), out);
          out.events.push_back(ack_event{std::move(msg), from});
        } else {
          apply_server(k, inv->on_request(msg, now), out);
        }
      }
      return;
    }
    // The ACK for a 2xx is a transaction of its own: find the accepted INVITE by Call-ID.
    if (auto ix = invite_by_call_.find(call_id_of(msg)); ix != invite_by_call_.end()) {
      auto sk = ix->second;
      if (auto st = servers_.find(sk); st != servers_.end()) {
        auto* inv = std::get_if<sip::server_invite_transaction>(&st->second->machine);
        if (inv && inv->current() == sip::server_invite_transaction::state::accepted)
          apply_server(sk, inv->on_ack_for_2xx(now), out);
      }
    } else {
      ++stats_.stray_acks;
    }
    out.events.push_back(ack_event{std::move(msg), from});
    return;
  }
  if (auto it = servers_.find(k); it != servers_.end()) {
    ++stats_.retransmissions_absorbed;
    auto acts = std::visit([&](auto& m) { return m.on_request(msg, now); }, it->second->machine);
    apply_server(k, std::move(acts), out);
    return;
  }
  ++stats_.server_started;
  auto t = std::make_unique<server_txn>(server_txn{
      msg.method == "INVITE" ? decltype(server_txn::machine){sip::server_invite_transaction{
                                   msg, reliability(from), cfg_}}
                             : decltype(server_txn::machine){sip::server_non_invite_transaction{
                                   msg, reliability(from), cfg_}},
      from, msg, call_id_of(msg), false});
  auto& ref = *t;
  if (msg.method == "INVITE") invite_by_call_[ref.call_id] = k;
  servers_.emplace(k, std::move(t));
  auto acts = std::visit([&](auto& m) { return m.start(now); }, ref.machine);
  if (msg.method != "CANCEL") {
    apply_server(k, std::move(acts), out);
    return;
  }
  // CANCEL (9.2): the layer answers it; the TU only hears that its INVITE was cancelled.
  // Drop the deliver action: the TU never sees the CANCEL itself.
  sip::actions kept;
  for (auto& a : acts)
    if (!std::holds_alternative<sip::deliver>(a)) kept.push_back(std::move(a));
  apply_server(k, std::move(kept), out);
  auto target = sip::cancel_target(*key).to_string();
  auto inv_it = servers_.find(target);
  auto* inv = inv_it == servers_.end()
                  ? nullptr
                  : std::get_if<sip::server_invite_transaction>(&inv_it->second->machine);
  if (!inv) {
    respond(k, sip::make_response(msg, 481, sip::random_token()), now, out);
    return;
  }
  respond(k, sip::make_response(msg, 200, sip::random_token()), now, out);
  bool pending = inv->current() == sip::server_invite_transaction::state::proceeding;
  auto cid = inv_it->second->call_id;
  apply_server(target, inv->on_cancel(sip::random_token(), now), out);
  if (pending) out.events.push_back(cancelled_event{target, cid});
}

bool transaction_layer::respond(const std::string& key, sip::message response, millis now,
                                output& out) {
  auto it = servers_.find(key);
  if (it == servers_.end()) return false;
  auto acts = std::visit([&](auto& m) { return m.on_tu_response(std::move(response), now); },
                         it->second->machine);
  apply_server(key, std::move(acts), out);
  return true;
}

result<std::string> transaction_layer::request(sip::message request, const sip::peer& to,
                                               millis now, output& out) {
  auto key = sip::client_key_for_request(request);
  if (!key) return error{errc::invalid_argument, key.err().message};
  auto k = key->to_string();
  if (clients_.count(k))
    return error{errc::conflict, "a client transaction with branch " + key->branch + " exists"};
  ++stats_.client_started;
  auto method = request.method;
  auto cid = call_id_of(request);
  auto t = std::make_unique<client_txn>(client_txn{
      method == "INVITE" ? decltype(client_txn::machine){sip::client_invite_transaction{
                               std::move(request), reliability(to), cfg_}}
                         : decltype(client_txn::machine){sip::client_non_invite_transaction{
                               std::move(request), reliability(to), cfg_}},
      to, method, cid, false});
  auto& ref = *t;
  clients_.emplace(k, std::move(t));
  auto acts = std::visit([&](auto& m) { return m.start(now); }, ref.machine);
  apply_client(k, std::move(acts), out);
  return k;
}

void transaction_layer::cancel_sent(const std::string& invite_key, millis now, output& out) {
  auto it = clients_.find(invite_key);
  if (it == clients_.end()) return;
  if (auto* inv = std::get_if<sip::client_invite_transaction>(&it->second->machine))
    apply_client(invite_key, inv->on_cancel_sent(now), out);
}

void transaction_layer::send_stateless(const sip::message& msg, const sip::peer& to, output& out) {
  out.sends.push_back({to, msg.to_string()});
}

void transaction_layer::on_transport_error(const sip::peer& to, millis now, output& out) {
  auto same = [&](const sip::peer& p) {
    if (to.connection != 0 && p.connection == to.connection) return true;
    return p.proto == to.proto && p.address == to.address && p.port == to.port;
  };
  std::vector<std::string> ks;
  for (auto& [k, t] : clients_)
    if (same(t->to)) ks.push_back(k);
  for (auto& k : ks) {
    auto it = clients_.find(k);
    if (it == clients_.end()) continue;
    auto acts = std::visit([&](auto& m) { return m.on_transport_error(now); }, it->second->machine);
    apply_client(k, std::move(acts), out);
  }
  ks.clear();
  for (auto& [k, t] : servers_)
    if (same(response_target(t->request, t->from))) ks.push_back(k);
  for (auto& k : ks) {
    auto it = servers_.find(k);
    if (it == servers_.end()) continue;
    auto acts = std::visit([&](auto& m) { return m.on_transport_error(now); }, it->second->machine);
    apply_server(k, std::move(acts), out);
  }
}

void transaction_layer::on_timers(millis now, output& out) {
  while (!timers_.empty() && timers_.top().at <= now) {
    auto e = timers_.top();
    timers_.pop();
    if (e.server) {
      auto it = servers_.find(e.key);
      if (it == servers_.end()) continue;
      auto acts = std::visit([&](auto& m) { return m.on_timer(e.id, now); }, it->second->machine);
      apply_server(e.key, std::move(acts), out);
    } else {
      auto it = clients_.find(e.key);
      if (it == clients_.end()) continue;
      auto acts = std::visit([&](auto& m) { return m.on_timer(e.id, now); }, it->second->machine);
      apply_client(e.key, std::move(acts), out);
    }
  }
}

std::optional<millis> transaction_layer::next_timer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().at;
}

} // namespace gobi::actors::sip_layer
