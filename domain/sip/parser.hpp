#pragma once

/// The SIP message parser (RFC 3261 sections 7 and 25) and a stream framer for TCP.
///
/// The parser never truncates and never throws: it returns a message, or a `parse_failure`
/// saying what is wrong (with its input line) and how to answer. When the input is a request
/// whose Via, From, To, Call-ID and CSeq are usable, the failure carries them as `partial`
/// and `error.response_status` is the status to answer with (400, or 505 for another SIP
/// version, 513 for an oversized message); otherwise it is 0 and the input is dropped.
/// Limits are explicit (`parse_limits`) and produce errors, never silent cuts.
///
/// Use: `auto m = parse_message(datagram, framing::datagram);` for UDP; for TCP feed bytes to
/// a `stream_framer` and parse each frame it returns with `framing::stream`.

#include "domain/sip/error.hpp"
#include "domain/sip/expected.hpp"
#include "domain/sip/message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gobi::sip {

struct parse_limits {
  std::size_t max_message_bytes = 65535; ///< whole message, start line to end of body
  std::size_t max_headers = 256;         ///< header fields after splitting lists
};

/// How the message reached us: decides what a missing or short Content-Length means.
enum class framing {
  datagram, ///< UDP: no Content-Length = body is the rest; extra bytes after it are dropped
  stream,   ///< TCP/TLS: Content-Length is required and the body is exactly that long
};

struct parse_failure {
  sip::error error;
  std::optional<message> partial; ///< request with Via/From/To/Call-ID/CSeq when answerable
};

expected<message, parse_failure> parse_message(std::string_view bytes,
                                               framing how = framing::datagram,
                                               const parse_limits& limits = {});

/// Splits a TCP byte stream into messages by CRLFCRLF and Content-Length (RFC 3261 section
/// 18.3), and recognises RFC 5626 keep-alives (CRLFCRLF ping; single CRLFs are skipped).
/// Owned by one connection; not thread-safe. After an error the stream cannot be resynchronised
/// and the connection should be closed.
class stream_framer {
public:
  enum class kind {
    need_more, ///< feed more bytes
    message,   ///< `bytes` holds one complete message; parse it with framing::stream
    ping,      ///< a CRLFCRLF keep-alive: answer with a single CRLF
    error,     ///< the stream is broken (`error` says why): close the connection
  };
  struct frame {
    kind what = kind::need_more;
    std::string bytes;
    sip::error error;
  };

  explicit stream_framer(parse_limits limits = {})
      : limits_(limits) {}

  void append(std::string_view bytes);
  /// The next frame, or need_more.
  frame next();
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

private:
  parse_limits limits_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool broken_ = false;
  sip::error broken_error_;
};

} // namespace gobi::sip
