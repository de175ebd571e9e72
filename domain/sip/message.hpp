#pragma once

/// A SIP request or response as a value: start line, ordered header fields, body.
///
/// Header fields are the single source of truth: names are stored in their canonical long form
/// (compact forms expanded), list headers hold one element per field (the parser splits
/// `Via: a, b` into two fields), values are trimmed text. Typed accessors (`top_via()`,
/// `from()`, `cseq()`, ...) parse on demand; for a message that came out of `parse_message`
/// they cannot fail, because the parser validated those headers.
///
/// `to_string()` writes one field per line in the stored order and always ends the headers
/// with a Content-Length computed from `body` (any stored Content-Length is ignored).

#include "domain/sip/error.hpp"
#include "domain/sip/headers.hpp"
#include "domain/sip/uri.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::sip {

struct header_field {
  std::string name;
  std::string value;
  friend bool operator==(const header_field&, const header_field&) = default;
};

struct message {
  // Request-Line (status == 0) or Status-Line (status != 0)
  std::string method;
  sip::uri request_uri;
  int status = 0;
  std::string reason;

  std::vector<header_field> headers;
  std::string body;

  bool is_request() const noexcept { return status == 0; }
  bool is_response() const noexcept { return status != 0; }

  /// First value of `name` (any case, compact or long form); nullptr when absent.
  const std::string* header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
  /// Appends a field.
  void add_header(std::string_view name, std::string value);
  /// Inserts a field before the first field of that name (or at the end): for Via.
  void push_front_header(std::string_view name, std::string value);
  /// Replaces every field of that name with one (appended where the first one was).
  void set_header(std::string_view name, std::string value);
  std::size_t remove_header(std::string_view name);

  // Typed views.
  result<std::vector<via>> vias() const;
  result<via> top_via() const;
  result<name_addr> from() const;
  result<name_addr> to() const;
  result<std::string> call_id() const;
  result<sip::cseq> cseq() const;
  result<contact_list> contacts() const;
  result<std::vector<name_addr>> routes() const;        ///< Route fields in order
  result<std::vector<name_addr>> record_routes() const; ///< Record-Route fields in order
  std::optional<int> max_forwards() const;
  /// The method this message belongs to: the Request-Line method, or the CSeq method of a
  /// response ("" when the CSeq is unusable).
  std::string transaction_method() const;

  /// The wire form.
  std::string to_string() const;
};

/// The default reason phrase for a status code ("Ringing" for 180; "" when unknown).
std::string_view reason_phrase(int status) noexcept;

} // namespace gobi::sip
