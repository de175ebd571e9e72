#include "domain/lead_import.hpp"

#include "domain/csv.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <exception>
#include <iterator>
#include <new>
#include <thread>
#include <utility>

namespace gobi::leads {

namespace {

constexpr std::size_t none = static_cast<std::size_t>(-1);
constexpr std::size_t max_echo_bytes = 64;      ///< how much of a bad value a reason repeats
constexpr std::size_t max_threads = 64;
constexpr std::size_t min_bytes_per_thread = 1 << 16; ///< smaller files are not split

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_upper(char c) noexcept {
  return c >= 'A' && c <= 'Z';
}
bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || is_upper(c);
}

// --- UTF-8 -------------------------------------------------------------------------------

/// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0)) // overlong, surrogate
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) >= 0x90)) // overlong, > U+10FFFF
      return 0;
    return 4;
  }
  return 0;
}

/// Copies text that storage and JSON can hold: valid UTF-8 as is, any other byte read as
/// Latin-1 (what older spreadsheets export), NUL bytes dropped.
void assign_text(std::string& out, std::string_view in) {
  const bool plain = std::all_of(in.begin(), in.end(), [](char c) {
    return c != '\0' && static_cast<unsigned char>(c) < 0x80;
  });
  if (plain) {
    out.assign(in);
    return;
  }
  out.clear();
  while (!in.empty()) {
    if (in[0] == '\0') {
      in.remove_prefix(1);
      continue;
    }
    if (const auto n = utf8_sequence(in); n != 0) {
      out.append(in.substr(0, n));
      in.remove_prefix(n);
      continue;
    }
    const auto c = static_cast<unsigned char>(in[0]);
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    in.remove_prefix(1);
  }
}

/// A bad value, quoted in a rejection reason: clean text, at most max_echo_bytes.
std::string echo(std::string_view value) {
  bool cut = false;
  if (value.size() > max_echo_bytes) {
    value = value.substr(0, max_echo_bytes);
    while (!value.empty() && (static_cast<unsigned char>(value.back()) & 0xC0) == 0x80)
      value.remove_suffix(1); // do not split a character
    if (!value.empty() && static_cast<unsigned char>(value.back()) >= 0xC0)
      value.remove_suffix(1);
    cut = true;
  }
  std::string out;
  assign_text(out, value);
  if (cut)
    out += "...";
  return out;
}

// --- header --------------------------------------------------------------------------------

struct alias {
  std::string_view key; ///< lower case, without spaces, '_' and '-'
  column col;
};

// clang-format off
constexpr alias aliases[] = {
  {"phone", column::phone}, {"phonenumber", column::phone}, {"phoneno", column::phone},
  {"mobile", column::phone}, {"mobilenumber", column::phone}, {"mobilephone", column::phone},
  {"cell", column::phone}, {"cellphone", column::phone}, {"tel", column::phone},
  {"telephone", column::phone}, {"telephonenumber", column::phone},

  {"name", column::name}, {"fullname", column::name}, {"prospectname", column::name},
  {"contactname", column::name}, {"leadname", column::name},
  {"firstname", column::first_name}, {"givenname", column::first_name},
  {"lastname", column::last_name}, {"surname", column::last_name},
  {"familyname", column::last_name},

  {"email", column::email}, {"emailaddress", column::email}, {"emailid", column::email},
  {"mail", column::email},

  {"companyname", column::company_name}, {"company", column::company_name},
  {"organization", column::company_name}, {"organisation", column::company_name},
  {"organizationname", column::company_name}, {"organisationname", column::company_name},

  {"jobtitle", column::job_title}, {"title", column::job_title},
  {"position", column::job_title},

  {"timezone", column::timezone}, {"tz", column::timezone},

  {"resourcename", column::resource_name}, {"resource", column::resource_name},
};
// clang-format on

/// Which CSV column feeds which lead field, and the custom columns with their JSON keys.
struct layout {
  std::size_t columns = 0;
  std::array<std::size_t, 10> at; ///< indexed by `column`; `none` when absent
  std::vector<std::pair<std::size_t, std::string>> custom;

  layout() { at.fill(none); }
  std::size_t operator[](column c) const noexcept { return at[static_cast<std::size_t>(c)]; }
};

result<layout> make_layout(const std::vector<std::string>& header) {
  layout l;
  l.columns = header.size();
  std::vector<column> use(header.size(), column::custom);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const auto col = classify_header(header[i]);
    auto& slot = l.at[static_cast<std::size_t>(col)];
    if (col != column::custom && slot == none) { // a second column for a field is custom
      slot = i;
      use[i] = col;
    }
  }
  if (l[column::phone] == none)
    return make_error(errc::validation,
                      "no phone column: name one phone, phone_number, phoneNumber or mobile",
                      "file");
  // First and last names make the name only when there is no full-name column; otherwise
  // they are kept as custom fields.
  if (l[column::name] != none)
    for (auto c : {column::first_name, column::last_name})
      if (auto& slot = l.at[static_cast<std::size_t>(c)]; slot != none) {
        use[slot] = column::custom;
        slot = none;
      }
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (use[i] != column::custom)
      continue;
    std::string key;
    assign_text(key, trim(header[i]));
    if (key.empty())
      key = "column_" + std::to_string(i + 1);
    const std::string base = key;
    for (int n = 2; std::find(keys.begin(), keys.end(), key) != keys.end(); ++n)
      key = base + "_" + std::to_string(n);
    keys.push_back(key);
    l.custom.emplace_back(i, std::move(key));
  }
  return l;
}

// --- rows ----------------------------------------------------------------------------------

/// The rows of one range of the file.
struct batch {
  std::vector<lead> leads;
  std::vector<rejected_row> invalid;
  std::size_t rows = 0;
  std::exception_ptr failure; ///< what a worker thread threw, rethrown on the caller's
};

/// Turns records into leads. One per thread: it reuses its buffers from row to row.
class row_builder {
public:
  row_builder(const layout& l, const phone::normalizer& norm)
    : layout_(l), norm_(norm), writer_(json_) {}

  void add(const csv::record& rec, batch& out) {
    ++out.rows;
    const auto& f = rec.fields;
    if (f.size() > layout_.columns) {
      const bool extras_empty = std::all_of(f.begin() + static_cast<std::ptrdiff_t>(layout_.columns),
                                            f.end(), [](const std::string& s) {
                                              return trim(s).empty();
                                            });
      if (!extras_empty)
        return reject(out, rec.line, "has " + std::to_string(f.size()) + " fields, header has "
                                       + std::to_string(layout_.columns));
    }
    const auto get = [&](column c) -> std::string_view {
      const auto i = layout_[c];
      return i < f.size() ? trim(f[i]) : std::string_view{};
    };

    const auto raw_phone = get(column::phone);
    if (raw_phone.empty())
      return reject(out, rec.line, "missing phone number");
    auto phone = norm_.to_e164(raw_phone);
    if (!phone)
      return reject(out, rec.line,
                    "invalid phone number '" + echo(raw_phone) + "': " + phone.err().message);
    const auto email = get(column::email);
    if (!email.empty() && !is_plausible_email(email))
      return reject(out, rec.line, "invalid email '" + echo(email) + "'");
    const auto tz = get(column::timezone);
    if (!tz.empty() && !is_plausible_timezone(tz))
      return reject(out, rec.line, "invalid timezone '" + echo(tz)
                                     + "': expected an IANA name such as America/New_York");

    lead& l = out.leads.emplace_back();
    l.phone = std::move(phone).value();
    if (layout_[column::name] != none) {
      assign_text(l.name, get(column::name));
    } else {
      const auto first = get(column::first_name);
      const auto last = get(column::last_name);
      scratch_.assign(first);
      if (!first.empty() && !last.empty())
        scratch_.push_back(' ');
      scratch_.append(last);
      assign_text(l.name, scratch_);
    }
    assign_text(l.email, email);
    assign_text(l.company_name, get(column::company_name));
    assign_text(l.job_title, get(column::job_title));
    l.timezone.assign(tz); // checked above: ASCII
    assign_text(l.resource_name, get(column::resource_name));
    if (!layout_.custom.empty())
      write_custom(f, l.custom_fields_json);
  }

private:
  static void reject(batch& out, std::size_t line, std::string reason) {
    out.invalid.push_back(rejected_row{line, std::move(reason)});
  }

  void write_custom(const std::vector<std::string>& f, std::string& out) {
    json_.Clear();
    writer_.Reset(json_);
    writer_.StartObject();
    for (const auto& [i, key] : layout_.custom) {
      writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      assign_text(scratch_, i < f.size() ? trim(f[i]) : std::string_view{});
      writer_.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
    }
    writer_.EndObject();
    out.assign(json_.GetString(), json_.GetSize());
  }

  const layout& layout_;
  const phone::normalizer& norm_;
  rapidjson::StringBuffer json_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  std::string scratch_;
};

/// Reads the rest of `r` into `out`; false (with the reader's error) on a malformed record.
bool read_rows(csv::reader& r, const layout& l, const phone::normalizer& norm, batch& out) {
  row_builder builder{l, norm};
  csv::record rec;
  while (r.next(rec)) {
    if (!r.error().empty())
      return false;
    builder.add(rec, out);
  }
  return true;
}

/// Upper bound on the records in `text`, to reserve once.
std::size_t estimate_rows(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

parse_result merge(std::vector<batch>& batches) {
  parse_result out;
  if (batches.size() == 1) { // no copy: a million leads are a few hundred MB
    out.leads = std::move(batches[0].leads);
    out.invalid = std::move(batches[0].invalid);
    out.rows = batches[0].rows;
    return out;
  }
  std::size_t leads = 0;
  std::size_t invalid = 0;
  for (const auto& b : batches) {
    leads += b.leads.size();
    invalid += b.invalid.size();
  }
  out.leads.reserve(leads);
  out.invalid.reserve(invalid);
  for (auto& b : batches) {
    std::move(b.leads.begin(), b.leads.end(), std::back_inserter(out.leads));
    std::move(b.invalid.begin(), b.invalid.end(), std::back_inserter(out.invalid));
    out.rows += b.rows;
    b = batch{}; // free as we go: a million leads are a few hundred MB
  }
  return out;
}

result<parse_result> parse(std::string_view text, const phone::normalizer& norm,
                           unsigned threads) {
  csv::reader r{text};
  csv::record header;
  if (!r.next(header))
    return make_error(errc::validation, "the file is empty: expected a header row", "file");
  if (!r.error().empty())
    return make_error(errc::invalid_argument, r.error(), "file");
  auto l = make_layout(header.fields);
  if (!l)
    return std::move(l).err();

  const std::size_t body = text.size() - r.offset();
  const std::size_t workers = std::min<std::size_t>(
    {std::max(threads, 1u), max_threads, body / min_bytes_per_thread + 1});
  if (workers <= 1) {
    std::vector<batch> one(1);
    one[0].leads.reserve(estimate_rows(text.substr(r.offset())));
    if (!read_rows(r, *l, norm, one[0]))
      return make_error(errc::invalid_argument, r.error(), "file");
    return merge(one);
  }

  // Split at record boundaries near equal byte offsets. Quoted fields may hold line ends,
  // so only a reader knows where records start: read the file once to find out (this also
  // rejects a malformed file before any thread starts).
  struct start {
    std::size_t offset;
    std::size_t line;
  };
  std::vector<start> starts{{r.offset(), r.line()}};
  const std::size_t span = body / workers;
  csv::record rec;
  while (r.next(rec)) {
    if (!r.error().empty())
      return make_error(errc::invalid_argument, r.error(), "file");
    if (starts.size() < workers && r.offset() >= starts.front().offset + span * starts.size())
      starts.push_back({r.offset(), r.line()});
  }

  std::vector<batch> batches(starts.size());
  {
    std::vector<std::jthread> pool; // joined when this scope ends, even on an exception
    pool.reserve(starts.size());
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const std::size_t end = i + 1 < starts.size() ? starts[i + 1].offset : text.size();
      auto work = [&, i, end]() noexcept {
        try {
          const auto range = text.substr(0, end);
          batches[i].leads.reserve(estimate_rows(range.substr(starts[i].offset)));
          csv::reader part{range, ',', starts[i].offset, starts[i].line};
          // Cannot fail: the whole file was read above.
          (void)read_rows(part, *l, norm, batches[i]);
        } catch (...) {
          batches[i].failure = std::current_exception();
        }
      };
      if (i + 1 == starts.size())
        work(); // the calling thread takes the last range
      else
        pool.emplace_back(work);
    }
  }
  for (const auto& b : batches)
    if (b.failure)
      std::rethrow_exception(b.failure); // caught and turned into an error by parse_csv
  return merge(batches);
}

} // namespace

column classify_header(std::string_view header) noexcept {
  std::array<char, 32> key{};
  std::size_t n = 0;
  for (char c : header) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (n == key.size())
      return column::custom;
    key[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view k{key.data(), n};
  for (const auto& a : aliases)
    if (a.key == k)
      return a.col;
  return column::custom;
}

bool is_plausible_email(std::string_view email) noexcept {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  for (char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || std::string_view{"<>()[],;:\\\""}.find(c) != std::string_view::npos)
      return false;
  }
  const auto domain = email.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.'
      || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return false;
  return true;
}

bool is_plausible_timezone(std::string_view tz) noexcept {
  if (tz == "UTC")
    return true;
  constexpr std::array<std::string_view, 11> areas{"Africa",   "America", "Antarctica",
                                                   "Arctic",   "Asia",    "Atlantic",
                                                   "Australia", "Europe", "Indian",
                                                   "Pacific",  "Etc"};
  if (tz.size() > 64)
    return false;
  const auto slash = tz.find('/');
  if (slash == std::string_view::npos
      || std::find(areas.begin(), areas.end(), tz.substr(0, slash)) == areas.end())
    return false;
  auto rest = tz.substr(slash + 1);
  for (;;) {
    const auto next = rest.find('/');
    const auto name = rest.substr(0, next);
    if (name.empty() || !is_upper(name.front()))
      return false;
    for (char c : name)
      if (!is_alnum(c) && c != '_' && c != '-' && c != '+')
        return false;
    if (next == std::string_view::npos)
      return true;
    rest.remove_prefix(next + 1);
  }
}

struct chunked_parser::impl {
  std::string_view text;
  layout cols;
  csv::reader reader;
  row_builder builder;
  std::size_t total = 0;
  std::size_t seen = 0;

  impl(std::string_view t, layout l, csv::reader r, const phone::normalizer& norm)
    : text(t), cols(std::move(l)), reader(r), builder(cols, norm) {}
};

result<chunked_parser> chunked_parser::open(std::string_view csv,
                                            const phone::normalizer& norm) {
  try {
    csv::reader r{csv};
    csv::record header;
    if (!r.next(header))
      return make_error(errc::validation, "the file is empty: expected a header row", "file");
    if (!r.error().empty())
      return make_error(errc::invalid_argument, r.error(), "file");
    auto l = make_layout(header.fields);
    if (!l)
      return std::move(l).err();
    const auto body_start = r.offset();
    const auto body_line = r.line();
    // Structure pass: every record must be well-formed before anything is stored.
    std::size_t total = 0;
    csv::record rec;
    while (r.next(rec)) {
      if (!r.error().empty())
        return make_error(errc::invalid_argument, r.error(), "file");
      ++total;
    }
    auto p = std::make_shared<impl>(csv, std::move(*l), csv::reader{csv, ',', body_start, body_line},
                                    norm);
    p->total = total;
    return chunked_parser{std::move(p)};
  } catch (const std::bad_alloc&) {
    return make_error(errc::too_large, "not enough memory to import this file", "file");
  }
}

parse_result chunked_parser::next(std::size_t max_rows) {
  batch b;
  b.leads.reserve(std::min(max_rows, impl_->total - impl_->seen));
  csv::record rec;
  while (b.rows < max_rows && impl_->reader.next(rec))
    impl_->builder.add(rec, b); // well-formed: checked by open()
  impl_->seen += b.rows;
  std::vector<batch> one;
  one.push_back(std::move(b));
  return merge(one);
}

bool chunked_parser::done() const noexcept {
  return impl_->seen >= impl_->total;
}

std::size_t chunked_parser::total_rows() const noexcept {
  return impl_->total;
}

result<parse_result> parse_csv(std::string_view csv, const phone::normalizer& norm,
                               unsigned threads) {
  // Nothing escapes: allocation failure and thread start-up failure become error values.
  try {
    return parse(csv, norm, threads);
  } catch (const std::bad_alloc&) {
    return make_error(errc::too_large, "not enough memory to import this file", "file");
  } catch (const std::exception& e) {
    return make_error(errc::internal, std::string{"lead import failed: "} + e.what());
  }
}

} // namespace gobi::leads
