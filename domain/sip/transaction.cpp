#include "domain/sip/transaction.hpp"

#include "domain/sip/builder.hpp"
#include "domain/sip/text.hpp"

#include <algorithm>

namespace gobi::sip {

const char* to_string(timer_id t) noexcept {
  switch (t) {
  case timer_id::A:
    return "A";
  case timer_id::B:
    return "B";
  case timer_id::D:
    return "D";
  case timer_id::E:
    return "E";
  case timer_id::F:
    return "F";
  case timer_id::G:
    return "G";
  case timer_id::H:
    return "H";
  case timer_id::I:
    return "I";
  case timer_id::J:
    return "J";
  case timer_id::K:
    return "K";
  case timer_id::L:
    return "L";
  case timer_id::M:
    return "M";
  case timer_id::two_xx:
    return "2xx";
  case timer_id::cancel_guard:
    return "cancel_guard";
  }
  return "?";
}

const char* to_string(termination t) noexcept {
  switch (t) {
  case termination::completed:
    return "completed";
  case termination::timeout:
    return "timeout";
  case termination::transport_error:
    return "transport_error";
  }
  return "?";
}

namespace {
std::size_t idx(timer_id t) {
  return static_cast<std::size_t>(t);
}
millis sixty_four_t1(const timer_config& c) {
  return 64 * c.t1;
}
bool is_final(int status) {
  return status >= 200;
}
} // namespace

void transaction_timers::arm(actions& out, timer_id t, millis at) {
  armed_[idx(t)] = at;
  out.push_back(start_timer{t, at});
}

void transaction_timers::disarm(actions& out, timer_id t) {
  if (!armed_[idx(t)]) return;
  armed_[idx(t)].reset();
  out.push_back(stop_timer{t});
}

void transaction_timers::disarm_all(actions& out) {
  for (std::size_t i = 0; i < armed_.size(); ++i)
    if (armed_[i]) disarm(out, static_cast<timer_id>(i));
}

bool transaction_timers::fire(timer_id t, millis now) {
  auto& slot = armed_[idx(t)];
  if (!slot || now < *slot) return false;
  slot.reset();
  return true;
}

// --- client INVITE -----------------------------------------------------------------------

client_invite_transaction::client_invite_transaction(message invite, transport_reliability r,
                                                     timer_config cfg)
    : invite_(std::move(invite))
    , reliability_(r)
    , cfg_(cfg) {}

actions client_invite_transaction::start(millis now) {
  actions out;
  out.push_back(send_message{invite_});
  if (reliability_ == transport_reliability::unreliable) {
    a_interval_ = cfg_.t1;
    arm(out, timer_id::A, now + a_interval_);
  }
  arm(out, timer_id::B, now + sixty_four_t1(cfg_));
  return out;
}

actions client_invite_transaction::terminate(actions out, termination why) {
  disarm_all(out);
  state_ = state::terminated;
  out.push_back(terminated{why, final_status_, provisional_seen_});
  return out;
}

actions client_invite_transaction::on_response(const message& response, millis now) {
  actions out;
  const int status = response.status;
  switch (state_) {
  case state::calling:
  case state::proceeding:
    if (status < 200) {
      disarm(out, timer_id::A);
      if (state_ == state::calling) disarm(out, timer_id::B);
      provisional_seen_ = true;
      state_ = state::proceeding;
      out.push_back(deliver{response});
    } else if (status < 300) {
      disarm(out, timer_id::A);
      disarm(out, timer_id::B);
      disarm(out, timer_id::cancel_guard);
      final_status_ = status;
      state_ = state::accepted;
      out.push_back(deliver{response});
      arm(out, timer_id::M, now + sixty_four_t1(cfg_));
    } else {
      disarm(out, timer_id::A);
      disarm(out, timer_id::B);
      disarm(out, timer_id::cancel_guard);
      final_status_ = status;
      ack_ = make_ack_for_failure(invite_, response);
      out.push_back(send_message{*ack_});
      out.push_back(deliver{response});
      if (reliability_ == transport_reliability::reliable)
        return terminate(std::move(out), termination::completed);
      state_ = state::completed;
      arm(out, timer_id::D, now + cfg_.timer_d);
    }
    break;
  case state::completed:
    if (status >= 300 && ack_) out.push_back(send_message{*ack_});
    break;
  case state::accepted:
    if (status >= 200 && status < 300) out.push_back(deliver{response});
    break;
  case state::terminated:
    break;
  }
  return out;
}

actions client_invite_transaction::on_timer(timer_id t, millis now) {
  actions out;
  if (!fire(t, now)) return out;
  switch (t) {
  case timer_id::A:
    if (state_ != state::calling) break;
    out.push_back(send_message{invite_});
    a_interval_ *= 2;
    arm(out, timer_id::A, now + a_interval_);
    break;
  case timer_id::B:
  case timer_id::cancel_guard:
    if (state_ == state::calling || state_ == state::proceeding)
      return terminate(std::move(out), termination::timeout);
    break;
  case timer_id::D:
  case timer_id::M:
    return terminate(std::move(out), termination::completed);
  default:
    break;
  }
  return out;
}

actions client_invite_transaction::on_transport_error(millis) {
  if (state_ == state::terminated) return {};
  return terminate({}, termination::transport_error);
}

actions client_invite_transaction::on_cancel_sent(millis now) {
  actions out;
  if (state_ == state::calling || state_ == state::proceeding)
    arm(out, timer_id::cancel_guard, now + sixty_four_t1(cfg_));
  return out;
}

// --- client non-INVITE -------------------------------------------------------------------

client_non_invite_transaction::client_non_invite_transaction(message request,
                                                             transport_reliability r,
                                                             timer_config cfg)
    : request_(std::move(request))
    , reliability_(r)
    , cfg_(cfg) {}

actions client_non_invite_transaction::start(millis now) {
  actions out;
  out.push_back(send_message{request_});
  if (reliability_ == transport_reliability::unreliable) {
    e_interval_ = cfg_.t1;
    arm(out, timer_id::E, now + e_interval_);
  }
  arm(out, timer_id::F, now + sixty_four_t1(cfg_));
  return out;
}

actions client_non_invite_transaction::terminate(actions out, termination why) {
  disarm_all(out);
  state_ = state::terminated;
  out.push_back(terminated{why, final_status_, false});
  return out;
}

actions client_non_invite_transaction::on_response(const message& response, millis now) {
  actions out;
  if (state_ != state::trying && state_ != state::proceeding) return out;
  out.push_back(deliver{response});
  if (!is_final(response.status)) {
    state_ = state::proceeding;
    return out;
  }
  final_status_ = response.status;
  disarm(out, timer_id::E);
  disarm(out, timer_id::F);
  if (reliability_ == transport_reliability::reliable)
    return terminate(std::move(out), termination::completed);
  state_ = state::completed;
  arm(out, timer_id::K, now + cfg_.t4);
  return out;
}

actions client_non_invite_transaction::on_timer(timer_id t, millis now) {
  actions out;
  if (!fire(t, now)) return out;
  switch (t) {
  case timer_id::E:
    if (state_ == state::trying || state_ == state::proceeding) {
      out.push_back(send_message{request_});
      e_interval_ = state_ == state::trying ? std::min(2 * e_interval_, cfg_.t2) : cfg_.t2;
      arm(out, timer_id::E, now + e_interval_);
    }
    break;
  case timer_id::F:
    if (state_ == state::trying || state_ == state::proceeding)
      return terminate(std::move(out), termination::timeout);
    break;
  case timer_id::K:
    return terminate(std::move(out), termination::completed);
  default:
    break;
  }
  return out;
}

actions client_non_invite_transaction::on_transport_error(millis) {
  if (state_ == state::terminated) return {};
  return terminate({}, termination::transport_error);
}

// --- server INVITE -----------------------------------------------------------------------

server_invite_transaction::server_invite_transaction(message invite, transport_reliability r,
                                                     timer_config cfg)
    : invite_(std::move(invite))
    , reliability_(r)
    , cfg_(cfg) {}

actions server_invite_transaction::start(millis) {
  actions out;
  out.push_back(deliver{invite_});
  last_response_ = make_response(invite_, 100);
  out.push_back(send_message{*last_response_});
  return out;
}

actions server_invite_transaction::terminate(actions out, termination why) {
  disarm_all(out);
  state_ = state::terminated;
  out.push_back(terminated{why, last_response_ ? last_response_->status : 0, false});
  return out;
}

actions server_invite_transaction::on_request(const message& request, millis now) {
  actions out;
  if (request.method == "ACK") {
    if (state_ == state::completed) {
      disarm(out, timer_id::G);
      disarm(out, timer_id::H);
      if (reliability_ == transport_reliability::reliable)
        return terminate(std::move(out), termination::completed);
      state_ = state::confirmed;
      arm(out, timer_id::I, now + cfg_.t4);
    } else if (state_ == state::accepted) {
      // An ACK for the 2xx that matched on branch (RFC 2543 peers): pass it on.
      out.push_back(deliver{request});
    }
    return out;
  }
  // A retransmitted INVITE: absorbed, the last response sent again.
  if ((state_ == state::proceeding || state_ == state::completed || state_ == state::accepted) &&
      last_response_)
    out.push_back(send_message{*last_response_});
  return out;
}

actions server_invite_transaction::on_tu_response(message response, millis now) {
  actions out;
  const int status = response.status;
  if (state_ != state::proceeding) return out; // too late: a final response was sent
  last_response_ = std::move(response);
  out.push_back(send_message{*last_response_});
  if (status < 200) return out;
  if (status < 300) {
    state_ = state::accepted;
    if (reliability_ == transport_reliability::unreliable) {
      g_interval_ = cfg_.t1;
      arm(out, timer_id::two_xx, now + g_interval_);
    }
    arm(out, timer_id::L, now + sixty_four_t1(cfg_));
    return out;
  }
  state_ = state::completed;
  if (reliability_ == transport_reliability::unreliable) {
    g_interval_ = cfg_.t1;
    arm(out, timer_id::G, now + g_interval_);
  }
  arm(out, timer_id::H, now + sixty_four_t1(cfg_));
  return out;
}

actions server_invite_transaction::on_timer(timer_id t, millis now) {
  actions out;
  if (!fire(t, now)) return out;
  switch (t) {
  case timer_id::G:
  case timer_id::two_xx:
    if ((state_ == state::completed && t == timer_id::G) ||
        (state_ == state::accepted && t == timer_id::two_xx && !acked_)) {
      out.push_back(send_message{*last_response_});
      g_interval_ = std::min(2 * g_interval_, cfg_.t2);
      arm(out, t, now + g_interval_);
    }
    break;
  case timer_id::H:
    if (state_ == state::completed) return terminate(std::move(out), termination::timeout);
    break;
  case timer_id::I:
    return terminate(std::move(out), termination::completed);
  case timer_id::L:
    return terminate(std::move(out), acked_ ? termination::completed : termination::timeout);
  default:
    break;
  }
  return out;
}

actions server_invite_transaction::on_ack_for_2xx(millis) {
  actions out;
  if (state_ != state::accepted) return out;
  acked_ = true;
  disarm(out, timer_id::two_xx);
  return out;
}

actions server_invite_transaction::on_cancel(std::string_view to_tag, millis now) {
  if (state_ != state::proceeding) return {};
  return on_tu_response(make_response(invite_, 487, to_tag), now);
}

actions server_invite_transaction::on_transport_error(millis) {
  if (state_ == state::terminated) return {};
  return terminate({}, termination::transport_error);
}

// --- server non-INVITE -------------------------------------------------------------------

server_non_invite_transaction::server_non_invite_transaction(message request,
                                                             transport_reliability r,
                                                             timer_config cfg)
    : request_(std::move(request))
    , reliability_(r)
    , cfg_(cfg) {}

actions server_non_invite_transaction::start(millis) {
  return {deliver{request_}};
}

actions server_non_invite_transaction::terminate(actions out, termination why) {
  disarm_all(out);
  state_ = state::terminated;
  out.push_back(terminated{why, last_response_ ? last_response_->status : 0, false});
  return out;
}

actions server_non_invite_transaction::on_request(const message&, millis) {
  actions out;
  if ((state_ == state::proceeding || state_ == state::completed) && last_response_)
    out.push_back(send_message{*last_response_});
  return out;
}

actions server_non_invite_transaction::on_tu_response(message response, millis now) {
  actions out;
  if (state_ != state::trying && state_ != state::proceeding) return out;
  const int status = response.status;
  last_response_ = std::move(response);
  out.push_back(send_message{*last_response_});
  if (status < 200) {
    state_ = state::proceeding;
    return out;
  }
  if (reliability_ == transport_reliability::reliable)
    return terminate(std::move(out), termination::completed);
  state_ = state::completed;
  arm(out, timer_id::J, now + sixty_four_t1(cfg_));
  return out;
}

actions server_non_invite_transaction::on_timer(timer_id t, millis now) {
  actions out;
  if (!fire(t, now)) return out;
  if (t == timer_id::J) return terminate(std::move(out), termination::completed);
  return out;
}

actions server_non_invite_transaction::on_transport_error(millis) {
  if (state_ == state::terminated) return {};
  return terminate({}, termination::transport_error);
}

// --- matching ----------------------------------------------------------------------------

namespace {
bool rfc3261_branch(const std::string& b) {
  return b.size() > branch_cookie.size() && b.compare(0, branch_cookie.size(), branch_cookie) == 0;
}
} // namespace

result<transaction_key> server_key(const message& request) {
  auto v = request.top_via();
  if (!v) return std::move(v).err();
  const std::string method = request.method == "ACK" ? "INVITE" : request.method;
  const auto branch = v->branch();
  if (rfc3261_branch(branch)) return transaction_key{branch, v->sent_by(), method};
  // RFC 2543 peer: match on the request's identifying fields (17.2.3)
  auto from = request.from();
  auto cs = request.cseq();
  auto id = request.call_id();
  if (!from || !cs || !id) return error{errc::missing_header, "cannot key an RFC 2543 request"};
  return transaction_key{"2543:" + request.request_uri.to_string() + "|" + from->tag() + "|" + *id +
                             "|" + std::to_string(cs->number) + "|" + v->to_string(),
                         v->sent_by(), method};
}

result<transaction_key> client_key(const message& response) {
  auto v = response.top_via();
  if (!v) return std::move(v).err();
  auto cs = response.cseq();
  if (!cs) return std::move(cs).err();
  return transaction_key{v->branch(), "", cs->method};
}

result<transaction_key> client_key_for_request(const message& request) {
  auto v = request.top_via();
  if (!v) return std::move(v).err();
  return transaction_key{v->branch(), "", request.method};
}

transaction_key cancel_target(transaction_key cancel_key) {
  cancel_key.method = "INVITE";
  return cancel_key;
}

} // namespace gobi::sip
