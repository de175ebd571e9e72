#pragma once

/// multipart/form-data (RFC 7578) parsing: enough to take an uploaded file from a form.

#include "domain/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gobi::http {

struct form_part {
  std::string name;         ///< the form field name
  std::string filename;     ///< "" when the part is not a file
  std::string content_type; ///< the part's Content-Type, "" when absent
  std::string_view data;    ///< a view into the body passed to parse_multipart
};

/// The boundary parameter of a multipart Content-Type; errc::invalid_argument when missing.
result<std::string> multipart_boundary(std::string_view content_type);

/// Splits a multipart body into its parts (views into `body`, which must outlive them).
/// errc::invalid_argument, saying what is wrong, for a malformed body.
result<std::vector<form_part>> parse_multipart(std::string_view content_type,
                                               std::string_view body);

} // namespace gobi::http
