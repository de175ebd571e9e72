#include "actors/entities.hpp"
#include "domain/lead_import.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace gobi::actors {

using promise = caf::typed_response_promise<import_report>;

/// One upload in progress. The import is a pipeline: this actor parses and dedupes chunk
/// k+1 while STORAGE (its own thread) inserts chunk k, at most `max_inflight` chunks
/// ahead. Each chunk is one transaction: a storage failure mid-way answers an error that
/// says how many rows were stored, and uploading the same file again is safe (dedupe skips
/// what is already in the list).
///
///   structure pass ─► load list phones + DNC ─► [parse ─► dedupe ─► insert]* ─► report
struct lead_list_upload {
  csv_text text; ///< keeps the bytes the parser reads alive
  std::optional<leads::chunked_parser> parser;
  std::unordered_set<std::string> dnc;
  import_report report;
  promise rp;
  int inflight = 0;
  bool failed = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration parse_time{}; ///< spent parsing and deduping here
};

namespace {

using self_ptr = lead_list_actor::stateful_pointer<lead_list_state>;
using upload_job = lead_list_upload;
using upload_ptr = std::shared_ptr<upload_job>;

void pump(self_ptr self, const upload_ptr& job);

/// Answers an upload (its report or an error) and forgets it.
template <class Answer>
void answer(self_ptr self, const upload_ptr& job, Answer&& x) {
  job->rp.deliver(std::forward<Answer>(x));
  std::erase(self->state.uploads, job);
}

void finish_if_done(self_ptr self, const upload_ptr& job) {
  if (job->failed || job->inflight > 0 || !job->parser->done())
    return;
  using ms = std::chrono::milliseconds;
  auto total = std::chrono::steady_clock::now() - job->started;
  spdlog::info("lead list {}: imported {}, {} duplicates, {} DNC, {} invalid of {} rows in {} "
               "ms ({} ms parsing here, the rest overlapped with storage)",
               self->state.record.id.value, job->report.imported, job->report.duplicates,
               job->report.dnc, job->report.invalid.size(), job->report.rows,
               std::chrono::duration_cast<ms>(total).count(),
               std::chrono::duration_cast<ms>(job->parse_time).count());
  answer(self, job, std::move(job->report));
}

/// Dedupes a parsed chunk against the list (and earlier chunks), marks DNC numbers, and
/// returns what is new.
std::vector<lead> dedupe(self_ptr self, upload_job& job, leads::parse_result& chunk) {
  auto& st = self->state;
  for (auto& bad : chunk.invalid)
    job.report.invalid.emplace_back(static_cast<std::int64_t>(bad.line), std::move(bad.reason));
  auto now = st.env.now();
  std::vector<lead> kept;
  kept.reserve(chunk.leads.size());
  for (auto& l : chunk.leads) {
    if (!st.phones.insert(l.phone).second) {
      ++job.report.duplicates;
      continue;
    }
    l.list = st.record.id;
    l.tenant = st.record.tenant;
    l.created_at = now;
    if (job.dnc.count(l.phone) > 0) {
      l.state = lead_state::dnc;
      ++job.report.dnc;
    }
    kept.push_back(std::move(l));
  }
  return kept;
}

void insert(self_ptr self, const upload_ptr& job, std::vector<lead> rows) {
  ++job->inflight;
  auto batch = std::make_shared<std::vector<lead>>(std::move(rows));
  db<std::size_t>(
    self, self->state.env.storage, t_leads | t_lead_lists,
    [batch](storage::store& s) { return s.insert_leads(*batch); },
    [self, job](std::size_t n) {
      spdlog::debug("import: chunk stored ({} rows)", n);
      --job->inflight;
      job->report.imported += static_cast<std::int64_t>(n);
      pump(self, job);
      finish_if_done(self, job);
    },
    [self, job, batch](error e) {
      --job->inflight;
      // Not stored: forget these numbers in the dedupe set so a retry imports them.
      for (const auto& l : *batch)
        self->state.phones.erase(l.phone);
      if (job->failed)
        return;
      job->failed = true;
      e.message = "import stopped after storing " + std::to_string(job->report.imported)
                  + " rows (uploading the file again skips them): " + e.message;
      answer(self, job, to_caf(e));
    });
}

/// Parses and hands to STORAGE until `max_inflight` chunks are in flight or the file ends.
void pump(self_ptr self, const upload_ptr& job) {
  while (!job->failed && job->inflight < defaults::import_max_inflight_chunks
         && !job->parser->done()) {
    auto t0 = std::chrono::steady_clock::now();
    auto chunk = job->parser->next(defaults::import_chunk_rows);
    auto rows = dedupe(self, *job, chunk);
    job->parse_time += std::chrono::steady_clock::now() - t0;
    spdlog::debug("import: chunk parsed ({} new rows), {} in flight", rows.size(), job->inflight);
    if (!rows.empty())
      insert(self, job, std::move(rows));
  }
}

/// The list's phones (once per actor) and the tenant's DNC numbers, then the pipeline.
void start(self_ptr self, const upload_ptr& job) {
  auto& st = self->state;
  struct known {
    std::vector<std::string> phones, dnc;
  };
  db<known>(
    self, st.env.storage, t_none,
    [tenant = st.record.tenant, list = st.record.id,
     need_phones = !st.phones_loaded](storage::store& s) -> result<known> {
      known k;
      if (need_phones) {
        auto phones = s.lead_phones(list);
        if (!phones)
          return std::move(phones).err();
        k.phones = std::move(*phones);
      }
      auto dnc = s.dnc_numbers(tenant);
      if (!dnc)
        return std::move(dnc).err();
      k.dnc = std::move(*dnc);
      return k;
    },
    [self, job](known k) {
      auto& s = self->state;
      if (!s.phones_loaded) {
        s.phones.reserve(k.phones.size() + job->parser->total_rows());
        for (auto& p : k.phones)
          s.phones.insert(std::move(p));
        s.phones_loaded = true;
      }
      job->dnc.insert(std::make_move_iterator(k.dnc.begin()), std::make_move_iterator(k.dnc.end()));
      pump(self, job);
      finish_if_done(self, job);
    },
    [self, job](error e) {
      job->failed = true;
      answer(self, job, to_caf(e));
    });
}

/// Stopped (the list was deleted, or gobid is shutting down): the storage continuations of
/// uploads still running will never run, so answer them here, then quit.
void on_exit(self_ptr self, const caf::exit_msg& msg) {
  if (!msg.reason)
    return;
  auto& st = self->state;
  for (auto& job : st.uploads) {
    job->failed = true;
    job->rp.deliver(to_caf({errc::unavailable,
                            "lead list " + st.record.id.value
                              + " was stopped during the upload (deleted, or gobid is shutting "
                                "down) after storing "
                              + std::to_string(job->report.imported) + " rows"}));
  }
  st.uploads.clear();
  self->quit(msg.reason);
}

} // namespace

lead_list_actor::behavior_type lead_list_fn(self_ptr self, lead_list l, entity_env env) {
  self->state.record = std::move(l);
  self->state.env = std::move(env);
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  return {
    [self](atom::upload, const tenant_id& t, const csv_text& csv) -> caf::result<import_report> {
      auto& st = self->state;
      if (t != st.record.tenant)
        return to_caf({errc::not_found, "lead list " + st.record.id.value + " not found"});
      auto parser = leads::chunked_parser::open(*csv, *st.env.phones);
      if (!parser)
        return to_caf(parser.err());
      auto job = std::make_shared<upload_job>();
      job->text = csv;
      job->parser = std::move(*parser);
      job->report.rows = static_cast<std::int64_t>(job->parser->total_rows());
      job->rp = self->make_response_promise<import_report>();
      st.uploads.push_back(job);
      start(self, job);
      return job->rp;
    },
  };
}

} // namespace gobi::actors
