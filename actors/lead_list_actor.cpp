#include "actors/entities.hpp"
#include "domain/lead_import.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>


namespace gobi::actors {

namespace {

using self_ptr = lead_list_actor::stateful_pointer<lead_list_state>;
using promise = caf::typed_response_promise<import_report>;

/// What an upload knows between its steps: parsed rows, then the store's view of the list.
struct upload_job {
  leads::parse_result parsed;
  std::vector<std::string> list_phones; ///< filled when the dedupe set was not loaded yet
  std::vector<std::string> dnc;         ///< the tenant's DNC numbers
  import_report report;
};
using upload_ptr = std::shared_ptr<upload_job>;

void insert(self_ptr self, upload_ptr job, promise rp);

/// Step 2: dedupe against the list and within the file, mark DNC, then store.
void dedupe(self_ptr self, upload_ptr job, promise rp) {
  auto& st = self->state;
  if (!st.phones_loaded) {
    st.phones.reserve(job->list_phones.size() + job->parsed.leads.size());
    for (auto& p : job->list_phones)
      st.phones.insert(std::move(p));
    st.phones_loaded = true;
  }
  std::unordered_set<std::string> dnc(job->dnc.begin(), job->dnc.end());
  auto now = st.env.now();
  auto& in = job->parsed.leads;
  std::vector<lead> kept;
  kept.reserve(in.size());
  for (auto& l : in) {
    if (!st.phones.insert(l.phone).second) {
      ++job->report.duplicates;
      continue;
    }
    l.list = st.record.id;
    l.tenant = st.record.tenant;
    l.created_at = now;
    if (dnc.count(l.phone) > 0) {
      l.state = lead_state::dnc;
      ++job->report.dnc;
    }
    kept.push_back(std::move(l));
  }
  in = std::move(kept);
  insert(self, std::move(job), std::move(rp));
}

/// Step 3: one transaction for the whole upload.
void insert(self_ptr self, upload_ptr job, promise rp) {
  auto& st = self->state;
  db<std::size_t>(
    self, st.env.storage, t_leads | t_lead_lists,
    [job](storage::store& s) { return s.insert_leads(job->parsed.leads); },
    [job, rp, list = st.record.id](std::size_t n) mutable {
      job->report.imported = static_cast<std::int64_t>(n);
      spdlog::info("lead list {}: imported {}, {} duplicates, {} invalid", list.value, n,
                   job->report.duplicates, job->report.invalid.size());
      rp.deliver(std::move(job->report));
    },
    [self, job, rp](error e) mutable {
      // Nothing was stored: forget the numbers this upload claimed in the dedupe set.
      for (const auto& l : job->parsed.leads)
        self->state.phones.erase(l.phone);
      rp.deliver(to_caf(e));
    });
}

} // namespace

lead_list_actor::behavior_type lead_list_fn(self_ptr self, lead_list l, entity_env env) {
  self->state.record = std::move(l);
  self->state.env = std::move(env);
  return {
    [self](atom::upload, const tenant_id& t, const csv_text& csv) -> caf::result<import_report> {
      auto& st = self->state;
      if (t != st.record.tenant)
        return to_caf({errc::not_found, "lead list " + st.record.id.value + " not found"});
      // Step 1: parse and normalise (CPU only, split over import_threads).
      auto parsed = leads::parse_csv(*csv, *st.env.phones, st.env.import_threads);
      if (!parsed)
        return to_caf(parsed.err());
      auto job = std::make_shared<upload_job>();
      job->parsed = std::move(*parsed);
      job->report.rows = static_cast<std::int64_t>(job->parsed.rows);
      for (auto& bad : job->parsed.invalid)
        job->report.invalid.emplace_back(static_cast<std::int64_t>(bad.line),
                                         std::move(bad.reason));
      auto rp = self->make_response_promise<import_report>();
      db<unit_t>(
        self, st.env.storage, t_none,
        [job, tenant = t, list = st.record.id,
         need_phones = !st.phones_loaded](storage::store& s) -> result<unit_t> {
          if (need_phones) {
            auto phones = s.lead_phones(list);
            if (!phones)
              return std::move(phones).err();
            job->list_phones = std::move(*phones);
          }
          auto dnc = s.dnc_numbers(tenant);
          if (!dnc)
            return std::move(dnc).err();
          job->dnc = std::move(*dnc);
          return unit;
        },
        [self, job, rp](unit_t) mutable { dedupe(self, job, rp); },
        [rp](error e) mutable { rp.deliver(to_caf(e)); });
      return rp;
    },
  };
}

} // namespace gobi::actors
