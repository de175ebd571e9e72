#pragma once

/// A value or an error of a given type, for the SIP and SDP modules whose errors carry more
/// than `gobi::error` does (a line number, the SIP status that answers them, a partly parsed
/// message): gobi's own result type with another error type.

#include "domain/result.hpp"

namespace gobi::sip {

template <class T, class E>
using expected = basic_result<T, E>;

} // namespace gobi::sip
