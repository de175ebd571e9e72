#include "actors/api/handlers.hpp"

#include "transport/http/multipart.hpp"

namespace gobi::actors::api {

namespace {

using http::verb;

void list(self_ptr self, const exchange& x, const caller& c) {
  cached_list(self, x, "lead-lists/" + c.tenant.value, t_lead_lists,
              list_loader(c.tenant, &storage::store::list_lead_lists));
}

void create(self_ptr self, const exchange& x, const caller& c) {
  auto doc = body_object(x);
  if (!doc)
    return;
  lead_list l;
  if (auto ok = read_lead_list(doc->root(), l, true); !ok)
    return fail(x, ok.err());
  l.tenant = c.tenant;
  l.created_at = l.updated_at = self->state.cfg.now();
  db<lead_list>(
    self, self->state.cfg.storage, t_lead_lists,
    [l](storage::store& s) { return s.create_lead_list(l); },
    [self, x](lead_list created) {
      self->send(self->state.cfg.root, atom::spawn::value, created);
      reply(x, 201, to_json(created));
    },
    failer(x));
}

void get(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  db<lead_list>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id](storage::store& s) { return s.get_lead_list(t, id); },
    [x](lead_list l) { reply(x, 200, to_json(l)); }, failer(x));
}

void update(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  auto doc = body_object(x);
  if (!doc)
    return;
  db<lead_list>(
    self, self->state.cfg.storage, t_lead_lists,
    [doc, c, id, now = self->state.cfg.now()](storage::store& s) -> result<lead_list> {
      auto l = s.get_lead_list(c.tenant, id);
      if (!l)
        return l;
      if (auto ok = read_lead_list(doc->root(), *l, false); !ok)
        return std::move(ok).err();
      l->updated_at = now;
      return s.update_lead_list(*l);
    },
    [x](lead_list l) { reply(x, 200, to_json(l)); }, failer(x));
}

void remove(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  db<unit_t>(
    self, self->state.cfg.storage, t_lead_lists | t_leads | t_campaigns,
    [c, id](storage::store& s) { return s.delete_lead_list(c.tenant, id); },
    [self, x, id](unit_t) {
      self->send(self->state.cfg.root, atom::stop::value, id);
      reply_empty(x, 204);
    },
    failer(x));
}

/// The CSV text of an upload: JSON {"content": "..."}, a raw text/csv body, or a
/// multipart/form-data file.
result<std::string> upload_content(http::request& req) {
  std::string_view ct = req.content_type;
  auto starts = [&](std::string_view p) {
    return ct.size() >= p.size()
           && std::equal(p.begin(), p.end(), ct.begin(),
                         [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  std::string csv;
  if (starts("application/json")) {
    auto doc = parse_object(req.body);
    if (!doc)
      return std::move(doc).err();
    auto content = doc->root().get("content");
    if (!content || !content->is_string())
      return error{errc::validation, "content: is required (the CSV text)", "content"};
    csv = std::string{content->as_string()};
  } else if (starts("multipart/form-data")) {
    auto parts = http::parse_multipart(ct, req.body);
    if (!parts)
      return std::move(parts).err();
    const http::form_part* file = nullptr;
    for (const auto& p : *parts)
      if (!file && (!p.filename.empty() || p.name == "file" || p.name == "content"))
        file = &p;
    if (!file)
      return error{errc::validation, "file: the form has no file part", "file"};
    csv = std::string{file->data};
  } else {
    csv = std::move(req.body); // text/csv, text/plain, application/octet-stream, unspecified
  }
  if (csv.find_first_not_of(" \t\r\n") == std::string::npos)
    return error{errc::validation, "content: the CSV is empty", "content"};
  return csv;
}

void upload(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  auto csv = upload_content(x->req);
  if (!csv)
    return fail(x, csv.err());
  auto text = std::make_shared<const std::string>(std::move(*csv));
  x->req.body = std::string{}; // the CSV lives on in `text`; free any copy the request kept
  self->request(self->state.cfg.root, defaults::import_timeout, atom::upload::value, c.tenant, id,
                csv_text{text})
    .then([x](import_report& r) { reply(x, 200, to_json(r)); }, caf_failer(x));
}

void leads_page(self_ptr self, const exchange& x, const caller& c, lead_list_id id,
                std::int64_t offset, std::int64_t limit) {
  db<page<lead>>(
    self, self->state.cfg.storage, t_none,
    [t = c.tenant, id, offset, limit](storage::store& s) -> result<page<lead>> {
      if (auto l = s.get_lead_list(t, id); !l)
        return std::move(l).err();
      return s.list_leads(t, id, offset, limit);
    },
    [x](page<lead> p) { reply(x, 200, to_json_list(p.items, p.total)); }, failer(x));
}

void preview(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  auto limit = query_int(x->req, "limit", defaults::preview_limit_default,
                         defaults::page_limit_max);
  if (!limit)
    return fail(x, limit.err());
  leads_page(self, x, c, id, 0, *limit);
}

void leads(self_ptr self, const exchange& x, const caller& c, lead_list_id id) {
  auto offset = query_int(x->req, "offset", 0, std::int64_t{1} << 40);
  if (!offset)
    return fail(x, offset.err());
  auto limit = query_int(x->req, "limit", defaults::page_limit_default, defaults::page_limit_max);
  if (!limit)
    return fail(x, limit.err());
  leads_page(self, x, c, id, *offset, *limit);
}

} // namespace

void lead_lists(self_ptr self, const exchange& x, const caller& c,
                const std::vector<std::string_view>& rest) {
  static const resource_routes<lead_list_id> routes{
    list, create, get, update, remove,
    {{"upload", verb::post, upload}, {"preview", verb::get, preview}, {"leads", verb::get, leads}}};
  dispatch(self, x, c, rest, routes);
}

} // namespace gobi::actors::api
