#include "transport/http/multipart.hpp"

#include <algorithm>

namespace gobi::http {

namespace {

/// RFC 2046 section 5.1.1: a boundary is 1 to 70 characters.
constexpr std::size_t max_boundary_chars = 70;

constexpr std::string_view crlf = "\r\n";

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

/// One `name=value` parameter of a header such as Content-Type or Content-Disposition.
struct param {
  std::string name; ///< lower-cased
  std::string value;
};

/// Parses the parameters after the first ';' of a header value: `; a=b; c="d \"e\""`.
/// Quoted strings may contain ';' and backslash escapes.
result<std::vector<param>> parse_params(std::string_view header) {
  std::vector<param> out;
  std::size_t i = header.find(';');
  if (i == std::string_view::npos) return out;
  ++i;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ';'))
      ++i;
    if (i >= header.size()) break;
    std::size_t eq = header.find('=', i);
    std::size_t semi = header.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      // A bare token without a value: skip it.
      i = semi == std::string_view::npos ? header.size() : semi + 1;
      continue;
    }
    param p;
    for (char c : trim(header.substr(i, eq - i)))
      p.name.push_back(lower(c));
    i = eq + 1;
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t'))
      ++i;
    if (i < header.size() && header[i] == '"') {
      ++i;
      bool closed = false;
      while (i < header.size()) {
        char c = header[i++];
        if (c == '\\' && i < header.size()) {
          p.value.push_back(header[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          p.value.push_back(c);
        }
      }
      if (!closed)
        return make_error(errc::invalid_argument,
                          "unterminated quoted string in parameter '" + p.name + "'");
    } else {
      std::size_t end = header.find(';', i);
      if (end == std::string_view::npos) end = header.size();
      p.value = std::string{trim(header.substr(i, end - i))};
      i = end;
    }
    out.push_back(std::move(p));
  }
  return out;
}

const param* find_param(const std::vector<param>& ps, std::string_view name) {
  for (const auto& p : ps)
    if (p.name == name) return &p;
  return nullptr;
}

/// Fills `part` from one part's header block (the lines between the delimiter and the blank
/// line, without the final CRLF CRLF).
status parse_part_headers(std::string_view block, std::size_t index, form_part& part) {
  bool has_disposition = false;
  while (!block.empty()) {
    auto eol = block.find(crlf);
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return make_error(errc::invalid_argument,
                        "multipart part " + std::to_string(index) + ": header line without ':'");
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-disposition")) {
      if (!istarts_with(value, "form-data"))
        return make_error(errc::invalid_argument, "multipart part " + std::to_string(index) +
                                                      ": Content-Disposition is not form-data");
      auto params = parse_params(value);
      if (!params)
        return make_error(errc::invalid_argument,
                          "multipart part " + std::to_string(index) + ": " + params.err().message);
      if (const param* p = find_param(*params, "name")) part.name = p->value;
      if (const param* p = find_param(*params, "filename")) part.filename = p->value;
      has_disposition = true;
    } else if (iequals(name, "content-type")) {
      part.content_type = std::string{value};
    }
  }
  if (!has_disposition || part.name.empty())
    return make_error(errc::invalid_argument,
                      "multipart part " + std::to_string(index) +
                          ": missing Content-Disposition: form-data with a name");
  return unit;
}

} // namespace

result<std::string> multipart_boundary(std::string_view content_type) {
  if (!istarts_with(trim(content_type), "multipart/"))
    return make_error(errc::invalid_argument, "expected Content-Type multipart/form-data, got '" +
                                                  std::string{content_type} + "'");
  auto params = parse_params(content_type);
  if (!params)
    return make_error(errc::invalid_argument, "bad Content-Type: " + params.err().message);
  const param* b = find_param(*params, "boundary");
  if (!b || b->value.empty())
    return make_error(errc::invalid_argument, "multipart Content-Type without a boundary");
  if (b->value.size() > max_boundary_chars)
    return make_error(errc::invalid_argument, "multipart boundary longer than 70 characters");
  return b->value;
}

/*
  The body, per RFC 2046 section 5.1.1 (CRLFs shown as \r\n):

    preamble\r\n--B\r\n headers \r\n\r\n data \r\n--B\r\n ... data \r\n--B--epilogue
                 ^^^ the first delimiter may also open the body without a CRLF before it

  Each part's data runs up to the next "\r\n--B"; "--B--" closes the body.
*/
result<std::vector<form_part>> parse_multipart(std::string_view content_type,
                                               std::string_view body) {
  auto boundary = multipart_boundary(content_type);
  if (!boundary) return std::move(boundary).err();
  const std::string dash_boundary = "--" + *boundary;
  const std::string delimiter = "\r\n" + dash_boundary;

  // Find the first delimiter, after an optional preamble.
  std::size_t pos;
  if (body.substr(0, dash_boundary.size()) == dash_boundary) {
    pos = dash_boundary.size();
  } else {
    auto at = body.find(delimiter);
    if (at == std::string_view::npos)
      return make_error(errc::invalid_argument,
                        "multipart body does not contain its boundary '" + *boundary + "'");
    pos = at + delimiter.size();
  }

  std::vector<form_part> parts;
  for (std::size_t index = 1;; ++index) {
    // Just after a delimiter: "--" closes the body, else (optional padding) CRLF opens a part.
    std::string_view rest = body.substr(pos);
    if (rest.substr(0, 2) == "--") break; // the epilogue after it is ignored
    std::size_t skip = 0;
    while (skip < rest.size() && (rest[skip] == ' ' || rest[skip] == '\t'))
      ++skip;
    if (rest.substr(skip, 2) != crlf) {
      if (rest.size() <= skip)
        return make_error(errc::invalid_argument,
                          "multipart body truncated: it ends without the closing boundary");
      return make_error(errc::invalid_argument, "multipart part " + std::to_string(index) +
                                                    ": expected CRLF after the boundary");
    }
    pos += skip + 2;

    // Headers end at the first empty line (immediately, for a part without headers).
    std::string_view from = body.substr(pos);
    std::size_t headers_end;
    std::size_t data_start;
    if (from.substr(0, 2) == crlf) {
      headers_end = pos;
      data_start = pos + 2;
    } else {
      auto blank = from.find("\r\n\r\n");
      if (blank == std::string_view::npos)
        return make_error(errc::invalid_argument,
                          "multipart part " + std::to_string(index) + ": truncated in its headers");
      headers_end = pos + blank;
      data_start = pos + blank + 4;
    }

    form_part part;
    if (auto st = parse_part_headers(body.substr(pos, headers_end - pos), index, part); !st)
      return std::move(st).err();

    auto next = body.find(delimiter, data_start);
    if (next == std::string_view::npos)
      return make_error(errc::invalid_argument, "multipart body truncated: part " +
                                                    std::to_string(index) + " ('" + part.name +
                                                    "') has no closing boundary");
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + delimiter.size();
  }
  return parts;
}

} // namespace gobi::http
