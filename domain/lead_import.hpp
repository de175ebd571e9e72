#pragma once

/// Turns an uploaded CSV into leads: matches header names loosely, normalises phones,
/// collects every other column as a custom field, and reports each rejected row with its
/// line and reason. Pure: deduplication and DNC checks belong to the LEAD_LIST actor, which
/// owns the list's current phones.

#include "domain/model.hpp"
#include "domain/phone.hpp"
#include "domain/result.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gobi::leads {

/// The lead fields a CSV column can map to.
enum class column { phone, name, email, company_name, job_title, timezone, resource_name,
                    first_name, last_name, custom };

/// Which field a header names: "phoneNumber", "phone", "phone_number", "Phone Number",
/// "mobile" -> phone; "name", "prospect_name", "full name" -> name; "email", "e-mail" ->
/// email; "company_name"/"company" ... Case, spaces, '_' and '-' are ignored.
column classify_header(std::string_view header) noexcept;

/// A light e-mail check for imports: one '@', a non-empty local part, and a domain with a dot
/// between non-empty labels; no spaces. Deliverability is not our business.
bool is_plausible_email(std::string_view email) noexcept;

/// True for "UTC" and IANA-looking zone names: a known area ("America", "Europe", "Etc",
/// ...) then one or more '/'-separated names of letters, digits, '_', '-' and '+'
/// ("America/Argentina/Buenos_Aires", "Etc/GMT+5"). Does not consult a zone database.
bool is_plausible_timezone(std::string_view tz) noexcept;

struct rejected_row {
  std::size_t line = 0; ///< 1-based line in the file
  std::string reason;
};

struct parse_result {
  std::vector<lead> leads;            ///< valid rows, phone in E.164, in file order
  std::vector<rejected_row> invalid;  ///< rows that could not be used
  std::size_t rows = 0;               ///< data rows seen (excluding the header)
};

/// Parses a whole CSV. errc::validation when the file has no header or no phone column;
/// errc::invalid_argument for a malformed file (unterminated quote: the line is named).
/// `threads` > 1 splits the rows across that many threads, joined before returning (the
/// file is read once more up front to find where to split).
///
/// Rows: values are trimmed; a row shorter than the header has its missing fields empty; a
/// row with more non-empty fields than the header is rejected ("has 5 fields, header has
/// 4"; empty extras, as spreadsheets pad rows with commas, are ignored). A row is rejected
/// for a missing or invalid phone, an invalid e-mail or time zone, with the first reason.
/// Columns that map to no lead field (and second columns for the same field) go to
/// `custom_fields_json` under their original header. Text that is not UTF-8 is read as
/// Latin-1. Leads come out `pending`, with no list, tenant or id.
result<parse_result> parse_csv(std::string_view csv, const phone::normalizer& norm,
                               unsigned threads = 1);

/// Reads a CSV a chunk of rows at a time, with the rules of parse_csv, so an import can
/// store one chunk while it parses the next. Copyable (shared state); the text must outlive
/// it. Not thread-safe: one caller at a time.
class chunked_parser {
public:
  /// Reads the header and checks the whole file's CSV structure in one fast pass, so a
  /// malformed file is refused (errc::invalid_argument naming the line) before any row is
  /// stored; errc::validation for a missing header or phone column.
  static result<chunked_parser> open(std::string_view csv, const phone::normalizer& norm);

  /// The next `max_rows` data rows at most; `rows == 0` once the file is done.
  parse_result next(std::size_t max_rows);
  bool done() const noexcept;
  /// Data rows in the whole file (known from the structure pass).
  std::size_t total_rows() const noexcept;

  struct impl;

private:
  explicit chunked_parser(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

} // namespace gobi::leads
