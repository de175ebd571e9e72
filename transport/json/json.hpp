#pragma once

/// JSON in and out for the API. Parsing is simdjson (DOM); on a parse error the location
/// (line, column, byte offset) is found by a second, validating pass so the 400 can say where.
/// Writing is rapidjson's Writer, so escaping is a library's, not ours. Neither library's
/// headers leak out of this folder.

#include "domain/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::json {

// --- writing ---------------------------------------------------------------------------------

/// Builds one JSON document in memory. Calls must nest correctly (as rapidjson requires).
/// Owned by whoever builds the document; not thread-safe (one writer per thread).
/// Strings and keys are escaped by rapidjson; invalid UTF-8 in them is replaced by U+FFFD so
/// the output is always valid JSON. Doubles are written shortest-round-trip (0.7 -> 0.7,
/// 3.0 -> 3); NaN and infinities, which JSON cannot express, are written as null.
class writer {
public:
  writer();
  ~writer();
  writer(writer&&) noexcept;
  writer& operator=(writer&&) noexcept;

  writer& begin_object();
  writer& end_object();
  writer& begin_array();
  writer& end_array();
  writer& key(std::string_view k);
  writer& string(std::string_view s);
  writer& number(std::int64_t v);
  writer& number(double v);
  writer& boolean(bool v);
  writer& null();
  /// Inserts already-serialised JSON (e.g. a stored metadata object) verbatim. The caller
  /// guarantees it is valid JSON (it was validated when stored).
  writer& raw(std::string_view json_text);

  /// Shorthands for a key followed by a value.
  writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  writer& field(std::string_view k, std::int64_t v) { return key(k).number(v); }
  writer& field(std::string_view k, int v) { return key(k).number(std::int64_t{v}); }
  writer& field(std::string_view k, double v) { return key(k).number(v); }
  writer& field(std::string_view k, bool v) { return key(k).boolean(v); }

  /// The document so far; take it once complete.
  std::string take();
  std::string_view view() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Quotes and escapes one string as a JSON string literal.
std::string quote(std::string_view s);

// --- reading ---------------------------------------------------------------------------------

enum class kind { null, boolean, number, string, array, object };

/// A parsed JSON value: an immutable tree owned by a `document`. Cheap to copy (a pointer);
/// valid while its document lives (moving the document keeps it valid). Read-only, so any
/// number of threads may read one document.
class value {
public:
  kind type() const noexcept;
  bool is_null() const noexcept { return type() == kind::null; }
  bool is_string() const noexcept { return type() == kind::string; }
  bool is_number() const noexcept { return type() == kind::number; }
  bool is_bool() const noexcept { return type() == kind::boolean; }
  bool is_object() const noexcept { return type() == kind::object; }
  bool is_array() const noexcept { return type() == kind::array; }

  std::string_view as_string() const noexcept; ///< "" unless a string
  double as_double() const noexcept;           ///< 0 unless a number
  /// Set only for integral numbers that fit an int64: "3" and also "3.0" or "1e3" (an integral
  /// value written as a double is accepted); "3.5" and integers beyond int64 give nullopt.
  std::optional<std::int64_t> as_int() const noexcept;
  bool as_bool() const noexcept;

  /// Object member or nullopt (also when this is not an object).
  std::optional<value> get(std::string_view key) const noexcept;
  /// Object members in document order.
  std::vector<std::pair<std::string_view, value>> members() const;
  /// Array elements.
  std::vector<value> elements() const;
  /// This value serialised back to compact JSON (for storing a sub-object verbatim).
  std::string to_json() const;

  struct node;
  explicit value(const node* n) : n_(n) {}

private:
  const node* n_ = nullptr;
};

/// A parsed document: owns the tree its values point into (and the strings, so the parsed
/// text need not outlive it). A default-constructed document's root is null.
class document {
public:
  document();
  ~document();
  document(document&&) noexcept;
  document& operator=(document&&) noexcept;
  value root() const noexcept;

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Parses `text` (any size; tested beyond 10 MiB). On failure errc::invalid_argument with a
/// message such as "malformed JSON at line 3, column 14 (byte 52): missing a comma or '}'
/// after an object member": line and column count from 1 (columns in characters), the byte
/// offset from 0. Also refused, with their location: invalid UTF-8 and nesting deeper than
/// 1024 levels. An empty or all-whitespace text gives "empty body: expected a JSON object".
/// errc::too_large only when memory runs out.
result<document> parse(std::string_view text);

} // namespace gobi::json
