#include "domain/sip/dialog.hpp"

#include <algorithm>

namespace gobi::sip {

std::optional<dialog_id> dialog_id_of_request(const message& request) {
  auto id = request.call_id();
  auto from = request.from();
  auto to = request.to();
  if (!id || !from || !to || to->tag().empty()) return std::nullopt;
  return dialog_id{*id, to->tag(), from->tag()};
}

std::optional<dialog_id> dialog_id_of_response(const message& response) {
  auto id = response.call_id();
  auto from = response.from();
  auto to = response.to();
  if (!id || !from || !to) return std::nullopt;
  return dialog_id{*id, from->tag(), to->tag()};
}

namespace {
std::optional<uri> first_contact(const message& m) {
  auto c = m.contacts();
  if (!c || c->contacts.empty()) return std::nullopt;
  return c->contacts.front().uri;
}
} // namespace

result<dialog> dialog::as_uac(const message& request, const message& response) {
  if (response.status <= 100 || response.status >= 300)
    return error{errc::unsupported, "only 101-299 responses create dialogs"};
  auto from = request.from();
  auto to = response.to();
  auto id = request.call_id();
  auto cs = request.cseq();
  if (!from || !to || !id || !cs) return error{errc::missing_header, "From, To, Call-ID or CSeq"};
  if (to->tag().empty()) return error{errc::missing_header, "response without To tag"};
  dialog d;
  d.uac_ = true;
  d.call_id_ = *id;
  d.local_tag_ = from->tag();
  d.remote_tag_ = to->tag();
  d.local_ = *from;
  d.remote_ = *to;
  d.local_cseq_ = cs->number;
  auto rr = response.record_routes();
  if (!rr) return std::move(rr).err();
  d.route_set_.assign(rr->rbegin(), rr->rend()); // reversed for the UAC
  d.remote_target_ = first_contact(response).value_or(request.request_uri);
  auto lc = request.contacts();
  if (lc && !lc->contacts.empty()) d.local_contact_ = lc->contacts.front();
  d.state_ = response.status < 200 ? state::early : state::confirmed;
  return d;
}

result<dialog> dialog::as_uas(const message& request, std::string local_tag,
                              name_addr local_contact) {
  auto from = request.from();
  auto to = request.to();
  auto id = request.call_id();
  auto cs = request.cseq();
  if (!from || !to || !id || !cs) return error{errc::missing_header, "From, To, Call-ID or CSeq"};
  dialog d;
  d.uac_ = false;
  d.call_id_ = *id;
  d.local_tag_ = std::move(local_tag);
  d.remote_tag_ = from->tag();
  d.local_ = *to;
  d.local_.set_tag(d.local_tag_);
  d.remote_ = *from;
  d.remote_cseq_ = cs->number;
  d.local_cseq_ = 0;
  auto rr = request.record_routes();
  if (!rr) return std::move(rr).err();
  d.route_set_ = *rr;
  d.remote_target_ = first_contact(request).value_or(from->uri);
  d.local_contact_ = std::move(local_contact);
  d.state_ = state::confirmed;
  return d;
}

void dialog::on_response(const message& response) {
  if (state_ == state::terminated) return;
  if (response.status >= 300 && state_ == state::early) {
    state_ = state::terminated;
    return;
  }
  if (response.status >= 101 && response.status < 300) {
    if (auto c = first_contact(response)) remote_target_ = *c;
    if (response.status >= 200) {
      if (state_ == state::early) {
        // the route set is fixed by the 2xx (12.1.2)
        if (auto rr = response.record_routes(); rr) route_set_.assign(rr->rbegin(), rr->rend());
      }
      state_ = state::confirmed;
    }
  }
}

namespace {
void apply_route(message& m, const uri& remote_target, const std::vector<name_addr>& route_set) {
  if (route_set.empty()) {
    m.request_uri = remote_target;
    return;
  }
  if (route_set.front().uri.has_param("lr")) {
    m.request_uri = remote_target;
    for (const auto& r : route_set)
      m.add_header("Route", r.to_string());
    return;
  }
  // strict routing: the first route becomes the Request-URI, the remote target the last route
  m.request_uri = route_set.front().uri;
  m.request_uri.headers.clear();
  for (std::size_t i = 1; i < route_set.size(); ++i)
    m.add_header("Route", route_set[i].to_string());
  m.add_header("Route", "<" + remote_target.to_string() + ">");
}
} // namespace

message dialog::make_request(std::string_view method, const via& our_via) {
  message m;
  m.method = std::string(method);
  m.add_header("Via", our_via.to_string());
  m.add_header("Max-Forwards", "70");
  apply_route(m, remote_target_, route_set_);
  m.add_header("From", local_.to_string());
  m.add_header("To", remote_.to_string());
  m.add_header("Call-ID", call_id_);
  if (method != "ACK" && method != "CANCEL") ++local_cseq_;
  m.add_header("CSeq", std::to_string(local_cseq_) + " " + std::string(method));
  if (local_contact_ && method != "BYE") m.add_header("Contact", local_contact_->to_string());
  if (method == "BYE") state_ = state::terminated;
  return m;
}

message dialog::make_ack(std::uint32_t invite_cseq, const via& our_via) const {
  message m;
  m.method = "ACK";
  m.add_header("Via", our_via.to_string());
  m.add_header("Max-Forwards", "70");
  apply_route(m, remote_target_, route_set_);
  m.add_header("From", local_.to_string());
  m.add_header("To", remote_.to_string());
  m.add_header("Call-ID", call_id_);
  m.add_header("CSeq", std::to_string(invite_cseq) + " ACK");
  return m;
}

int dialog::on_request(const message& request) {
  auto cs = request.cseq();
  if (!cs) return 400;
  if (request.method == "ACK" || request.method == "CANCEL") return 0;
  if (remote_cseq_ && cs->number <= *remote_cseq_) {
    // a retransmission is the transaction layer's business; a lower one is out of order
    if (cs->number < *remote_cseq_) return 500;
  }
  remote_cseq_ = cs->number;
  if (request.method == "INVITE" || request.method == "UPDATE")
    if (auto c = first_contact(request)) remote_target_ = *c;
  if (request.method == "BYE") state_ = state::terminated;
  return 0;
}

} // namespace gobi::sip
