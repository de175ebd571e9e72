#pragma once

/// A CSV reader (RFC 4180 and what spreadsheets really write): UTF-8 BOM, CRLF/LF/CR line
/// ends, quoted fields with embedded commas, quotes ("") and newlines, blank lines skipped.
/// Never truncates; a malformed record (an unterminated quote) is reported with its line.

#include "domain/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::csv {

/// One record: its fields and the 1-based line of the file where it starts.
struct record {
  std::vector<std::string> fields;
  std::size_t line = 0;
};

/// Pulls records one at a time from a buffer the caller keeps alive. Single-threaded: one
/// reader per thread (several readers may share one buffer, each over its own range).
/// Reuses the strings of the `record` it is given, so loop with one record.
class reader {
public:
  explicit reader(std::string_view text, char delimiter = ',');
  /// Resumes at a record boundary found earlier with `offset()` / `line()` (a UTF-8 BOM is
  /// skipped only at offset 0). Lets a caller split a file across threads.
  reader(std::string_view text, char delimiter, std::size_t offset, std::size_t line);

  /// Reads the next record into `out`; false at the end of input. On a malformed record
  /// returns true and sets `error()` (the rest of the input is then not read).
  bool next(record& out);
  const std::string& error() const noexcept { return error_; }

  /// Byte offset where the next record (or blank line) starts.
  std::size_t offset() const noexcept { return pos_; }
  /// 1-based line of the file at `offset()`.
  std::size_t line() const noexcept { return line_; }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  char delim_;
  std::string error_;
};

} // namespace gobi::csv
