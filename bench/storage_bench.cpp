// bench_storage: how fast the store takes a big lead import, and what reading it back costs.
//
//   bench_storage [--rows N] [postgresql://...]
//
// Always measures SQLite (a fresh file in a temporary folder, removed afterwards); measures
// PostgreSQL too when a URL is given (it migrates that database and leaves one tenant row
// behind; use a throw-away one, e.g. from scripts/pg-test-cluster).

#include "storage/store.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

using gobi::storage::store;
using clock_type = std::chrono::steady_clock;

/// Wall time, and this process's CPU time (user + system): on a busy machine the second
/// says more about SQLite's cost; for PostgreSQL most of the work is in the server.
struct stopwatch {
  clock_type::time_point wall = clock_type::now();
  double cpu = cpu_seconds();

  static double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto sec = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return sec(u.ru_utime) + sec(u.ru_stime);
  }
  double wall_s() const { return std::chrono::duration<double>(clock_type::now() - wall).count(); }
  double cpu_s() const { return cpu_seconds() - cpu; }
};

template <class T> T must(gobi::result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "bench_storage: %s: %s\n", what, r.err().message.c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

/// Leads shaped like a CSV import: every column filled, a small custom_fields object.
std::vector<gobi::lead> make_leads(const gobi::tenant_id& t, const gobi::lead_list_id& l,
                                   std::size_t n) {
  std::vector<gobi::lead> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& x = out[i];
    auto k = std::to_string(i);
    x.list = l;
    x.tenant = t;
    x.phone = "+1" + std::to_string(2000000000ULL + (i * 7919) % 8000000000ULL);
    x.name = "Lead Number " + k;
    x.email = "lead" + k + "@example.com";
    x.company_name = "Company " + std::to_string(i % 5000);
    x.job_title = i % 2 == 0 ? "Head of Operations" : "CTO";
    x.timezone = "America/Chicago";
    x.resource_name = "import-2025/row-" + k;
    x.custom_fields_json = R"({"source":"fair","row":)" + k + "}";
    x.created_at = 1'700'000'000'000LL;
  }
  return out;
}

void report(std::string_view backend, std::string_view what, const stopwatch& w, std::size_t rows) {
  auto wall = w.wall_s();
  auto cpu = w.cpu_s();
  if (rows > 0)
    std::printf("%-10s %-28s %8zu rows %8.3f s wall %8.3f s cpu %10.0f rows/s\n",
                std::string{backend}.c_str(), std::string{what}.c_str(), rows, wall, cpu,
                static_cast<double>(rows) / wall);
  else
    std::printf("%-10s %-28s %22.3f ms wall %8.3f s cpu\n", std::string{backend}.c_str(),
                std::string{what}.c_str(), wall * 1000, cpu);
}

void bench(store& s, std::size_t rows) {
  auto name = s.backend();
  must(s.migrate(), "migrate");
  gobi::tenant t;
  t.name = "bench";
  t = must(s.create_tenant(t), "create_tenant");
  gobi::lead_list l;
  l.tenant = t.id;
  l.name = "big import";
  l = must(s.create_lead_list(l), "create_lead_list");
  auto leads = make_leads(t.id, l.id, rows);

  stopwatch start;
  auto n = must(s.insert_leads(leads), "insert_leads");
  report(name, "insert_leads", start, n);

  start = stopwatch{};
  auto lists = must(s.list_lead_lists(t.id), "list_lead_lists");
  report(name, "list_lead_lists (1 big list)", start, 0);
  if (lists.empty() || lists[0].lead_count != static_cast<std::int64_t>(rows))
    std::fprintf(stderr, "bench_storage: unexpected lead_count\n");

  start = stopwatch{};
  must(s.list_leads(t.id, l.id, 0, 100), "list_leads");
  report(name, "list_leads first page (100)", start, 0);

  start = stopwatch{};
  must(s.list_leads(t.id, l.id, static_cast<std::int64_t>(rows) - 100, 100), "list_leads");
  report(name, "list_leads last page (100)", start, 0);

  start = stopwatch{};
  auto phones = must(s.lead_phones(l.id), "lead_phones");
  report(name, "lead_phones", start, phones.size());

  start = stopwatch{};
  must(s.mark_leads_dnc(t.id, leads[rows / 2].phone), "mark_leads_dnc");
  report(name, "mark_leads_dnc (1 number)", start, 0);

  std::vector<gobi::dnc_entry> dnc;
  dnc.reserve(rows / 10);
  for (std::size_t i = 0; i < rows / 10; ++i)
    dnc.push_back(gobi::dnc_entry{t.id, leads[i * 10].phone, "import", 1});
  start = stopwatch{};
  auto added = must(s.add_dnc(dnc), "add_dnc");
  report(name, "add_dnc (rows/10 numbers)", start, added);

  start = stopwatch{};
  must(s.delete_lead_list(t.id, l.id), "delete_lead_list");
  report(name, "delete_lead_list (cascade)", start, rows);
}

} // namespace

int main(int argc, char** argv) {
  std::size_t rows = 1'000'000;
  std::string pg_url;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      rows = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg.starts_with("postgres")) {
      pg_url = arg;
    } else {
      std::fprintf(stderr, "usage: %s [--rows N] [postgresql://...]\n", argv[0]);
      return 2;
    }
  }
  if (rows < 100) {
    std::fprintf(stderr, "bench_storage: --rows must be at least 100\n");
    return 2;
  }

  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("gobi-bench-" + std::to_string(::getpid()));
  {
    auto s =
        must(gobi::storage::open_store("sqlite:" + (dir / "bench.db").string()), "open sqlite");
    bench(*s, rows);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);

  if (!pg_url.empty()) {
    auto s = must(gobi::storage::open_store(pg_url), "open postgresql");
    bench(*s, rows);
  }
  return 0;
}
