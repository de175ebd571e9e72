#pragma once

/// SIP error codes with their category, and the error value every SIP function returns.
/// Each error carries its verdict: `response_status` is the SIP status that answers it
/// (400, 505, 513, ...) when the message is a request with enough parsed to build a response,
/// and 0 when the input must be dropped.

#include "domain/sip/expected.hpp"

#include <cstddef>
#include <string>
#include <system_error>

namespace gobi::sip {

enum class errc {
  ok = 0,
  empty_message,      ///< nothing but whitespace
  bad_start_line,     ///< neither a Request-Line nor a Status-Line
  bad_version,        ///< a SIP version other than 2.0 (505)
  bad_uri,            ///< a URI that does not follow RFC 3261 section 19 / RFC 3966
  bad_header,         ///< a header line or value that does not follow its grammar
  missing_header,     ///< Via, From, To, Call-ID or CSeq absent
  duplicate_header,   ///< a header that may appear once appears twice
  method_mismatch,    ///< CSeq method differs from the Request-Line method
  bad_content_length, ///< not a number, or disagrees with the bytes received
  message_too_large,  ///< over parse_limits::max_message_bytes (513)
  too_many_headers,   ///< over parse_limits::max_headers
  bad_auth,           ///< a malformed or unusable digest challenge / credentials
  unsupported,        ///< well-formed but not supported (algorithm, qop, ...)
};

const std::error_category& sip_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
const char* to_string(errc e) noexcept;

/// What went wrong, where (1-based line of the input, 0 when not tied to a line), and how to
/// answer it.
struct error {
  errc code = errc::bad_header;
  std::string message;
  std::size_t line = 0;
  int response_status = 0; ///< SIP status answering the request; 0 = drop silently

  error() = default;
  error(errc c, std::string msg, std::size_t ln = 0)
      : code(c)
      , message(std::move(msg))
      , line(ln) {}

  bool answerable() const noexcept { return response_status != 0; }
  /// "bad_header: line 4: Via: missing sent-by"
  std::string to_string() const;
};

template <class T> using result = expected<T, error>;

} // namespace gobi::sip

namespace std {
template <> struct is_error_code_enum<gobi::sip::errc> : true_type {};
} // namespace std
