#include "transport/json/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <new>

namespace gobi::json {

namespace {

/// Deepest nesting `parse` accepts (simdjson's default). Deeper documents are refused with
/// their location rather than risking the stack of whoever walks them.
constexpr std::size_t max_depth = simdjson::DEFAULT_MAX_DEPTH;

/// A rapidjson output stream appending to a std::string, so `take()` can move the text out
/// instead of copying it from a rapidjson::StringBuffer.
struct string_sink {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

// Found by ADL from rapidjson::Writer: reserve geometrically before it writes a string, so the
// per-character Put never reallocates.
[[maybe_unused]] void PutReserve(string_sink& s, std::size_t n) {
  std::string& o = *s.out;
  if (o.capacity() - o.size() < n) o.reserve(std::max(o.capacity() * 2, o.size() + n));
}
[[maybe_unused]] void PutUnsafe(string_sink& s, char c) {
  s.out->push_back(c);
}

using rj_writer = rapidjson::Writer<string_sink>;

/// Replaces each invalid UTF-8 sequence with U+FFFD, so the output is always valid JSON text
/// even when a caller passes bytes from a legacy-encoded source.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points above U+10FFFF.
      std::uint32_t cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      constexpr std::uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_for_len[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append(replacement);
      ++i;
    }
  }
  return out;
}

} // namespace

// --- writer --------------------------------------------------------------------------------

struct writer::impl {
  std::string out;
  string_sink sink{&out};
  rj_writer w{sink};

  /// Writes a string or key, repairing invalid UTF-8 first.
  template <class F> void text(std::string_view s, F&& emit) {
    if (simdjson::validate_utf8(s.data(), s.size())) {
      emit(s);
    } else {
      std::string fixed = sanitize_utf8(s);
      emit(std::string_view{fixed});
    }
  }
};

writer::writer()
    : impl_(std::make_unique<impl>()) {}
writer::~writer() = default;
writer::writer(writer&&) noexcept = default;
writer& writer::operator=(writer&&) noexcept = default;

writer& writer::begin_object() {
  impl_->w.StartObject();
  return *this;
}
writer& writer::end_object() {
  impl_->w.EndObject();
  return *this;
}
writer& writer::begin_array() {
  impl_->w.StartArray();
  return *this;
}
writer& writer::end_array() {
  impl_->w.EndArray();
  return *this;
}
writer& writer::key(std::string_view k) {
  impl_->text(k, [this](std::string_view s) {
    impl_->w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  });
  return *this;
}
writer& writer::string(std::string_view v) {
  impl_->text(v, [this](std::string_view s) {
    impl_->w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  });
  return *this;
}
writer& writer::number(std::int64_t v) {
  impl_->w.Int64(v);
  return *this;
}
writer& writer::number(double v) {
  // JSON has no NaN or infinity: write null rather than invalid text.
  if (!std::isfinite(v)) return null();
  // std::to_chars gives the shortest text that reads back as the same double (0.7 -> "0.7",
  // 3.0 -> "3", 1e22 -> "1e+22"), all valid JSON numbers.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  impl_->w.RawValue(buf, static_cast<std::size_t>(end - buf), rapidjson::kNumberType);
  return *this;
}
writer& writer::boolean(bool v) {
  impl_->w.Bool(v);
  return *this;
}
writer& writer::null() {
  impl_->w.Null();
  return *this;
}
writer& writer::raw(std::string_view json_text) {
  impl_->w.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
  return *this;
}

std::string writer::take() {
  std::string s = std::move(impl_->out);
  impl_->out.clear();
  impl_->w.Reset(impl_->sink);
  return s;
}

std::string_view writer::view() const {
  return impl_->out;
}

std::string quote(std::string_view s) {
  writer w;
  w.string(s);
  return w.take();
}

// --- the parsed tree -------------------------------------------------------------------------

/// One value of a parsed document. Nodes live in one vector owned by the document; the
/// children of a container are contiguous, `first` nodes after their parent, so a node finds
/// them without pointers that a growing vector would invalidate.
struct value::node {
  enum class num : std::uint8_t { int64, uint64, dbl };
  kind k = kind::null;
  num n = num::int64;
  bool b = false;
  union {
    std::int64_t i;
    std::uint64_t u;
    double d = 0;
  };
  std::string_view s;      ///< string value (into the simdjson parser's string buffer)
  std::string_view key;    ///< the member name, when the parent is an object
  std::uint32_t count = 0; ///< number of children
  std::uint32_t first = 0; ///< offset from this node to its first child

  const node* children() const noexcept { return this + first; }
};

struct document::impl {
  simdjson::dom::parser parser;
  std::vector<value::node> nodes;

  /// Converts `e` into nodes[at] and, depth first, its descendants.
  void build(simdjson::dom::element e, std::size_t at) {
    using et = simdjson::dom::element_type;
    value::node& n = nodes[at];
    switch (e.type()) {
    case et::NULL_VALUE:
      n.k = kind::null;
      break;
    case et::BOOL:
      n.k = kind::boolean;
      n.b = e.get_bool().value_unsafe();
      break;
    case et::INT64:
      n.k = kind::number;
      n.n = value::node::num::int64;
      n.i = e.get_int64().value_unsafe();
      break;
    case et::UINT64:
      n.k = kind::number;
      n.n = value::node::num::uint64;
      n.u = e.get_uint64().value_unsafe();
      break;
    case et::DOUBLE:
      n.k = kind::number;
      n.n = value::node::num::dbl;
      n.d = e.get_double().value_unsafe();
      break;
    case et::STRING:
      n.k = kind::string;
      n.s = e.get_string().value_unsafe();
      break;
    case et::ARRAY: {
      n.k = kind::array;
      auto arr = e.get_array().value_unsafe();
      std::size_t count = arr.size();
      std::size_t base = nodes.size();
      nodes.resize(base + count); // `n` may dangle from here on
      nodes[at].count = static_cast<std::uint32_t>(count);
      nodes[at].first = static_cast<std::uint32_t>(base - at);
      std::size_t i = base;
      for (auto child : arr)
        build(child, i++);
      break;
    }
    case et::OBJECT: {
      n.k = kind::object;
      auto obj = e.get_object().value_unsafe();
      std::size_t count = obj.size();
      std::size_t base = nodes.size();
      nodes.resize(base + count);
      nodes[at].count = static_cast<std::uint32_t>(count);
      nodes[at].first = static_cast<std::uint32_t>(base - at);
      std::size_t i = base;
      for (auto [k, child] : obj) {
        nodes[i].key = k;
        build(child, i++);
      }
      break;
    }
    }
  }
};

kind value::type() const noexcept {
  return n_ ? n_->k : kind::null;
}

std::string_view value::as_string() const noexcept {
  return n_ && n_->k == kind::string ? n_->s : std::string_view{};
}

double value::as_double() const noexcept {
  if (!n_ || n_->k != kind::number) return 0;
  switch (n_->n) {
  case node::num::int64:
    return static_cast<double>(n_->i);
  case node::num::uint64:
    return static_cast<double>(n_->u);
  case node::num::dbl:
    return n_->d;
  }
  return 0;
}

/// Integers written as such ("3") and numbers written with a fraction or exponent whose value
/// is integral and fits ("3.0", "1e3") give a value; "3.5" and integers beyond int64 give none.
std::optional<std::int64_t> value::as_int() const noexcept {
  if (!n_ || n_->k != kind::number) return std::nullopt;
  switch (n_->n) {
  case node::num::int64:
    return n_->i;
  case node::num::uint64:
    return std::nullopt; // simdjson uses uint64 only above INT64_MAX
  case node::num::dbl: {
    double d = n_->d;
    // [-2^63, 2^63): every integral double in it converts exactly.
    if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  }
  return std::nullopt;
}

bool value::as_bool() const noexcept {
  return n_ && n_->k == kind::boolean && n_->b;
}

std::optional<value> value::get(std::string_view key) const noexcept {
  if (!n_ || n_->k != kind::object) return std::nullopt;
  const node* c = n_->children();
  for (std::uint32_t i = 0; i < n_->count; ++i)
    if (c[i].key == key) return value{c + i};
  return std::nullopt;
}

std::vector<std::pair<std::string_view, value>> value::members() const {
  std::vector<std::pair<std::string_view, value>> out;
  if (!n_ || n_->k != kind::object) return out;
  out.reserve(n_->count);
  const node* c = n_->children();
  for (std::uint32_t i = 0; i < n_->count; ++i)
    out.emplace_back(c[i].key, value{c + i});
  return out;
}

std::vector<value> value::elements() const {
  std::vector<value> out;
  if (!n_ || n_->k != kind::array) return out;
  out.reserve(n_->count);
  const node* c = n_->children();
  for (std::uint32_t i = 0; i < n_->count; ++i)
    out.emplace_back(c + i);
  return out;
}

namespace {

void write_node(writer& w, const value::node* n) {
  switch (n->k) {
  case kind::null:
    w.null();
    break;
  case kind::boolean:
    w.boolean(n->b);
    break;
  case kind::string:
    w.string(n->s);
    break;
  case kind::number:
    switch (n->n) {
    case value::node::num::int64:
      w.number(n->i);
      break;
    case value::node::num::uint64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n->u);
      w.raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
      break;
    }
    case value::node::num::dbl:
      w.number(n->d);
      break;
    }
    break;
  case kind::array: {
    w.begin_array();
    const value::node* c = n->children();
    for (std::uint32_t i = 0; i < n->count; ++i)
      write_node(w, c + i);
    w.end_array();
    break;
  }
  case kind::object: {
    w.begin_object();
    const value::node* c = n->children();
    for (std::uint32_t i = 0; i < n->count; ++i) {
      w.key(c[i].key);
      write_node(w, c + i);
    }
    w.end_object();
    break;
  }
  }
}

} // namespace

std::string value::to_json() const {
  if (!n_) return "null";
  writer w;
  write_node(w, n_);
  return w.take();
}

// --- document ------------------------------------------------------------------------------

document::document() = default;
document::~document() = default;
document::document(document&&) noexcept = default;
document& document::operator=(document&&) noexcept = default;

value document::root() const noexcept {
  return value{impl_ && !impl_->nodes.empty() ? impl_->nodes.data() : nullptr};
}

// --- parsing -------------------------------------------------------------------------------

namespace {

/// A rapidjson handler that only counts nesting, so the validating pass stops exactly where
/// the document gets deeper than simdjson accepts.
struct depth_counter : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, depth_counter> {
  std::size_t depth = 0;
  bool too_deep = false;
  bool Default() { return true; }
  bool StartObject() { return enter(); }
  bool StartArray() { return enter(); }
  bool EndObject(rapidjson::SizeType) { return --depth, true; }
  bool EndArray(rapidjson::SizeType) { return --depth, true; }
  bool enter() {
    if (++depth <= max_depth) return true;
    too_deep = true;
    return false;
  }
};

error malformed_at(std::string_view text, std::size_t offset, std::string_view reason) {
  if (offset > text.size()) offset = text.size();
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) { // count characters, not UTF-8 continuation bytes
      ++column;
    }
  }
  // rapidjson's reasons read "Missing a comma or '}' after an object member.": lower-case
  // the first letter and drop the full stop, so they read as the tail of our sentence.
  std::string why{reason};
  if (!why.empty() && why.back() == '.') why.pop_back();
  if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z')
    why[0] = static_cast<char>(why[0] - 'A' + 'a');
  return make_error(errc::invalid_argument, "malformed JSON at line " + std::to_string(line) +
                                                ", column " + std::to_string(column) + " (byte " +
                                                std::to_string(offset) + "): " + why);
}

/// simdjson says only what failed; a second, validating pass with rapidjson says where.
error locate(std::string_view text, simdjson::error_code simd_error) {
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(text.data(), text.size());
  depth_counter handler;
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult r = reader.Parse<flags>(in, handler);
  if (handler.too_deep)
    return malformed_at(text, r.Offset(),
                        "nested deeper than " + std::to_string(max_depth) + " levels");
  if (r.IsError()) return malformed_at(text, r.Offset(), rapidjson::GetParseError_En(r.Code()));
  // The two parsers disagree (e.g. a NUL byte, which rapidjson takes as the end): fall back
  // to simdjson's description without a location.
  if (simd_error == simdjson::DEPTH_ERROR)
    return make_error(errc::invalid_argument, "malformed JSON: nested deeper than " +
                                                  std::to_string(max_depth) + " levels");
  return make_error(errc::invalid_argument,
                    std::string{"malformed JSON: "} + simdjson::error_message(simd_error));
}

bool only_whitespace(std::string_view s) noexcept {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

} // namespace

result<document> parse(std::string_view text) {
  if (only_whitespace(text))
    return make_error(errc::invalid_argument, "empty body: expected a JSON object");
  try {
    auto impl = std::make_unique<document::impl>();
    if (auto e = impl->parser.allocate(text.size(), max_depth); e != simdjson::SUCCESS)
      return make_error(errc::too_large,
                        std::string{"cannot parse JSON: "} + simdjson::error_message(e));
    simdjson::dom::element root;
    if (auto e = impl->parser.parse(text.data(), text.size(), true).get(root);
        e != simdjson::SUCCESS)
      return locate(text, e);
    impl->nodes.resize(1);
    impl->build(root, 0);
    document doc;
    doc.impl_ = std::move(impl);
    return doc;
  } catch (const std::bad_alloc&) {
    return make_error(errc::too_large, "cannot parse JSON: out of memory");
  }
}

} // namespace gobi::json
