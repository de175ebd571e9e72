// bench_phone: what phone normalisation costs, and a whole lead import.
//
//   bench_phone [rows] [threads]
//
// Prints ns per number for several input formats, for gobi::phone::normalizer and for
// libphonenumber's Parse + IsValidNumber + Format(E164) on the same input, then imports a
// generated CSV of `rows` leads (default 1,000,000) with 1 and `threads` (default 2) threads.

#include "domain/lead_import.hpp"
#include "domain/phone.hpp"

#include <phonenumbers/phonenumberutil.h>

#include "domain/csv.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double ns_since(clock_type::time_point start, std::size_t n) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - start).count()
         / static_cast<double>(n);
}

/// CPU time of the whole process (all threads), in ns: steadier than wall time on a busy
/// machine.
double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// A format, with `#` standing for the varying digits of each sample.
struct format {
  const char* label;
  const char* region;
  const char* pattern;
};

/// Fills the '#' of the pattern with the digits of `i` (last '#' = least significant).
std::string fill(const char* pattern, std::size_t i) {
  std::string s = pattern;
  for (auto it = s.rbegin(); it != s.rend(); ++it)
    if (*it == '#') {
      *it = static_cast<char>('0' + i % 10);
      i /= 10;
    }
  return s;
}

void bench_formats() {
  const format formats[] = {
    {"US national (415) 555-####", "US", "(415) 555-####"},
    {"US dotted 415.555.####", "US", "415.555.####"},
    {"US digits 415555####", "US", "415555####"},
    {"US with 1: 1-415-555-####", "US", "1-415-555-####"},
    {"E.164 +1415555####", "US", "+1415555####"},
    {"UK +44 20 7946 ####", "US", "+44 20 7946 ####"},
    {"UK 0044 20 7946 ####", "GB", "0044 20 7946 ####"},
    {"UK national 020 7946 ####", "GB", "020 7946 ####"},
    {"DE +49 30 123####", "US", "+49 30 123####"},
    {"FR +33 6 12 34 ## ##", "US", "+33 6 12 34 ## ##"},
    {"IN +91 98765 4####", "US", "+91 98765 4####"},
    {"slow: ext 415-555-#### x12", "US", "415-555-#### x12"},
    {"slow: AU +61 2 9876 ####", "US", "+61 2 9876 ####"},
    {"invalid: 12#", "US", "12#"},
  };
  const auto* util = i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  constexpr std::size_t n = 20000;
  std::printf("CPU ns per number (gobi normalizer vs libphonenumber Parse+IsValidNumber+Format)\n");
  std::printf("%-30s %14s %16s  %s\n", "format", "gobi ns/number", "libphonenumber", "sample");
  for (const auto& f : formats) {
    std::vector<std::string> inputs;
    inputs.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      inputs.push_back(fill(f.pattern, i));
    const gobi::phone::normalizer norm{f.region};
    std::size_t ok = 0;
    double c0 = cpu_ns();
    for (const auto& s : inputs)
      ok += norm.to_e164(s).ok() ? 1 : 0;
    const double ours = (cpu_ns() - c0) / n;

    std::size_t ok_ref = 0;
    c0 = cpu_ns();
    for (const auto& s : inputs) {
      i18n::phonenumbers::PhoneNumber num;
      if (util->Parse(s, f.region, &num) == i18n::phonenumbers::PhoneNumberUtil::NO_PARSING_ERROR
          && util->IsValidNumber(num)) {
        std::string out;
        util->Format(num, i18n::phonenumbers::PhoneNumberUtil::E164, &out);
        ++ok_ref;
      }
    }
    const double ref = (cpu_ns() - c0) / n;
    const auto sample = norm.to_e164(inputs[1234]);
    std::printf("%-30s %14.0f %16.0f  %s -> %s (%zu/%zu valid, ref %zu)\n", f.label, ours, ref,
                inputs[1234].c_str(), sample ? sample->c_str() : sample.err().message.c_str(),
                ok, n, ok_ref);
  }
}

std::string make_csv(std::size_t rows) {
  std::string csv = "phone_number,first_name,last_name,email,company,title,timezone,notes\n";
  csv.reserve(rows * 110);
  // Unique numbers (exchange 200-999 x line 0000-9999 per format), in five formats.
  const char* phones[] = {"(415) %03zu-%04zu", "+1 212 %03zu %04zu", "646.%03zu.%04zu",
                          "+44 20 7%03zu %04zu", "1-312-%03zu-%04zu"};
  char phone[32];
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t k = i / 5;
    std::snprintf(phone, sizeof phone, phones[i % 5], 200 + k / 10000 % 800, k % 10000);
    csv += phone;
    csv += ",Jane,Doe";
    csv += std::to_string(i % 977);
    csv += ",jane";
    csv += std::to_string(i);
    csv += "@example.com,\"Acme, Inc.\",CTO,America/New_York,\"likes \"\"quotes\"\"\"\n";
  }
  return csv;
}

void bench_import(std::size_t rows, unsigned threads) {
  const std::string csv = make_csv(rows);
  {
    gobi::csv::reader r{csv};
    gobi::csv::record rec;
    std::size_t records = 0;
    const auto t0 = clock_type::now();
    while (r.next(rec))
      ++records;
    std::printf("csv::reader alone: %zu records, %.0f ns/record wall\n", records,
                ns_since(t0, records));
  }
  const gobi::phone::normalizer norm{"US"};
  for (unsigned t : {1u, threads}) {
    const auto t0 = clock_type::now();
    const double c0 = cpu_ns();
    auto res = gobi::leads::parse_csv(csv, norm, t);
    const double secs = ns_since(t0, 1) / 1e9;
    const double cpu_secs = (cpu_ns() - c0) / 1e9;
    if (!res) {
      std::printf("import failed: %s\n", res.err().message.c_str());
      return;
    }
    std::printf("import %zu rows (%.1f MB), %u thread(s): %.2f s wall, %.2f s CPU, "
                "%.0f ns/row wall, %zu leads, %zu rejected\n",
                rows, static_cast<double>(csv.size()) / 1e6, t, secs, cpu_secs,
                secs * 1e9 / static_cast<double>(rows), res->leads.size(), res->invalid.size());
    if (t == threads)
      break;
  }
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)) : 2;
  bench_formats();
  if (rows > 0)
    bench_import(rows, threads);
  return 0;
}
