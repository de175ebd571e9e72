#include "transport/http/message.hpp"

namespace gobi::http {

std::string_view to_string(verb v) noexcept {
  switch (v) {
  case verb::get:
    return "GET";
  case verb::head:
    return "HEAD";
  case verb::post:
    return "POST";
  case verb::put:
    return "PUT";
  case verb::patch:
    return "PATCH";
  case verb::del:
    return "DELETE";
  case verb::options:
    return "OPTIONS";
  case verb::other:
    return "OTHER";
  }
  return "OTHER";
}

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The body a dropped responder answers with.
constexpr std::string_view no_response_body =
    R"({"error":{"code":"internal_error","message":"no response"}})";

/// Answers 500 through `fn` if it was never called. Never throws: it runs in destructors.
void answer_unanswered(std::shared_ptr<responder::send_fn>& fn) noexcept {
  if (!fn) return;
  auto f = std::move(fn);
  try {
    response r;
    r.status = 500;
    r.body = no_response_body;
    (*f)(std::move(r));
  } catch (...) {
    // Nothing left to tell: the connection will be closed by its idle timeout.
  }
}

} // namespace

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_digit(s[i + 1]);
      int lo = hex_digit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out.push_back(c);
  }
  return out;
}

std::string_view request::header(std::string_view lower_name) const noexcept {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return {};
}

std::string request::query_param(std::string_view name, std::string_view fallback) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    // Most keys need no decoding; compare them as they are.
    bool plain = raw_key.find_first_of("%+") == std::string_view::npos;
    if (plain ? raw_key == name : percent_decode(raw_key, true) == name)
      return percent_decode(raw_value, true);
  }
  return std::string{fallback};
}

responder& responder::operator=(responder&& other) noexcept {
  if (this != &other) {
    answer_unanswered(fn_);
    fn_ = std::move(other.fn_);
  }
  return *this;
}

responder::~responder() {
  answer_unanswered(fn_);
}

void responder::operator()(response r) {
  if (!fn_) return; // already answered (or default-constructed): a second answer is dropped
  auto f = std::move(fn_);
  (*f)(std::move(r));
}

} // namespace gobi::http
