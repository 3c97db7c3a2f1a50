// The status page's routes and its jobs page (the fleet pages: handlers/ui/pages.cpp).
#include <set>

#include "core/names.hpp"
#include "core/time.hpp"
#include "handlers/fleet_api.hpp"
#include "handlers/read_access.hpp"
#include "handlers/ui/html.hpp"
#include "handlers/ui/pages.hpp"

namespace helmgate::handlers {
namespace ui {

namespace {
std::string duration_text(int64_t from_ms, int64_t to_ms) {
  if (from_ms <= 0 || to_ms < from_ms) return {};
  double s = static_cast<double>(to_ms - from_ms) / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 100 ? "%.1f s" : "%.0f s", s);
  return buf;
}
}  // namespace

std::string jobs_page(const std::vector<queue::JobRecord>& jobs, const std::string& state_filter) {
  std::string b;
  b += "<form method=\"get\" action=\"/ui/jobs\"><label for=\"state\">State</label><select id=\"state\" name=\"state\">";
  for (const char* s : {"", "queued", "active", "retrying", "succeeded", "dead", "superseded"}) {
    b += "<option value=\"" + esc(s) + "\"" + (state_filter == s ? " selected" : "") + ">" +
         esc(*s == 0 ? "any" : s) + "</option>";
  }
  b += "</select> <button type=\"submit\">Show</button></form>";
  // The field has no name: even a form submitted without the script never puts the token in a URL.
  b += "<form id=\"replay-form\" autocomplete=\"off\"><p><label for=\"api-token\">API token</label>"
       "<input id=\"api-token\" type=\"password\" autocomplete=\"off\" aria-describedby=\"api-token-help\"> "
       "<span id=\"api-token-help\" class=\"muted\">needed to replay a job; sent with the replay request only, never "
       "stored</span></p></form>"
       "<p id=\"replay-status\" role=\"status\" aria-live=\"polite\"></p>";
  if (jobs.empty()) {
    b += "<p>No jobs.</p>";
    return page("Jobs", b, true);
  }
  b += "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Jobs\"><table><caption>Recent jobs, newest "
       "first</caption><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Kind</th><th scope=\"col\">State</th>"
       "<th scope=\"col\">Repository</th><th scope=\"col\">Created</th><th scope=\"col\">Waited</th>"
       "<th scope=\"col\">Ran</th><th scope=\"col\">Attempts</th><th scope=\"col\">Error</th>"
       "<th scope=\"col\">Replay</th></tr></thead><tbody>";
  for (const auto& j : jobs) {
    std::string what = j.spec.repo;
    if (j.spec.pr > 0) what += " #" + std::to_string(j.spec.pr);
    int64_t end = j.finished_ms > 0 ? j.finished_ms : j.updated_ms;
    b += "<tr><th scope=\"row\">" + esc(j.id) + "</th><td>" + esc(j.spec.kind) + "</td><td>" + esc(j.state) +
         "</td><td>" + esc(what) + "</td><td>" + esc(core::utc_rfc3339_ms(j.created_ms)) + "</td><td>" +
         esc(duration_text(j.created_ms, j.started_ms)) + "</td><td>" +
         esc(j.started_ms > 0 ? duration_text(j.started_ms, end) : std::string()) + "</td><td>" +
         std::to_string(j.attempts) + " / " + std::to_string(j.max_attempts) + "</td><td class=\"wrap\">" +
         esc(j.error.substr(0, 300)) + "</td><td><button type=\"button\" data-replay=\"" + esc(j.id) +
         "\" aria-label=\"" + esc("Replay job " + j.id) + "\">Replay</button></td></tr>";
  }
  b += "</tbody></table></div>";
  return page("Jobs", b, true);
}

}  // namespace ui

namespace {

using http::Context;
using http::Responder;
using verb = http::beast_http::verb;

// Loads the fleet on a query thread and answers with render(fleet) (an http::Response).
void fleet_page(App& app, Responder respond, std::function<http::Response(const FleetView&)> render) {
  if (app.fleet == nullptr) return respond(ui::html_error(503, "The fleet store is not configured in this process."));
  with_fleet(app, std::move(respond), [render = std::move(render)](queue::FleetStore& store, Responder answer) {
    auto f = load_fleet(store);
    if (!f) return answer(ui::html_error(503, "The fleet store is unavailable: " + f.error().message));
    answer(render(*f));
  });
}

std::string name_problem(const std::string& what, const std::string& value, const std::string& why) {
  return what + " " + core::names::shown(value) + " " + why;
}

}  // namespace

void install_ui(http::Router& router, App& app) {
  auto reader = [&app](std::function<void(const std::shared_ptr<Context>&, Responder)> fn) {
    return [&app, fn = std::move(fn)](std::shared_ptr<Context> ctx, Responder respond) {
      ReadAccess access = read_access(app.cfg, *ctx);
      if (access != ReadAccess::granted) return respond(read_denied(access, true));
      fn(ctx, std::move(respond));
    };
  };
  router.add(verb::get, "/ui/", reader([&app](const std::shared_ptr<Context>&, Responder respond) {
               fleet_page(app, std::move(respond),
                          [](const FleetView& f) { return ui::html_response(200, ui::overview_page(f)); });
             }));
  router.add(verb::get, "/ui/drift", reader([&app](const std::shared_ptr<Context>&, Responder respond) {
               fleet_page(app, std::move(respond),
                          [](const FleetView& f) { return ui::html_response(200, ui::attention_page(f)); });
             }));
  router.add(verb::get, "/ui/clusters/{name}", reader([&app](const std::shared_ptr<Context>& ctx, Responder respond) {
               std::string name = ctx->params.at("name");
               if (auto why = core::names::cluster_name(name); !why.empty()) {
                 return respond(ui::html_error(400, name_problem("cluster name", name, why)));
               }
               fleet_page(app, std::move(respond), [name](const FleetView& f) {
                 const ClusterView* c = f.find(name);
                 if (c == nullptr) return ui::html_error(404, "No cluster " + name + " (no scan stored for it).");
                 return ui::html_response(200, ui::cluster_page(*c));
               });
             }));
  router.add(verb::get, "/ui/clusters/{name}/releases/{namespace}/{release}",
             reader([&app](const std::shared_ptr<Context>& ctx, Responder respond) {
               std::string name = ctx->params.at("name");
               std::string ns = ctx->params.at("namespace");
               std::string rel = ctx->params.at("release");
               if (auto why = core::names::cluster_name(name); !why.empty()) {
                 return respond(ui::html_error(400, name_problem("cluster name", name, why)));
               }
               if (auto why = core::names::namespace_name(ns); !why.empty()) {
                 return respond(ui::html_error(400, name_problem("namespace", ns, why)));
               }
               if (auto why = core::names::helm_release_name(rel); !why.empty()) {
                 return respond(ui::html_error(400, name_problem("release name", rel, why)));
               }
               if (app.fleet == nullptr) {
                 return respond(ui::html_error(503, "The fleet store is not configured in this process."));
               }
               app.queries.post([&app, name, ns, rel, respond = std::move(respond)](queue::Queue& q) {
                 auto f = load_fleet(*app.fleet);
                 if (!f) return respond(ui::html_error(503, "The fleet store is unavailable: " + f.error().message));
                 const ClusterView* c = f->find(name);
                 if (c == nullptr) return respond(ui::html_error(404, "No cluster " + name + " (no scan stored for it)."));
                 const ReleaseView* r = c->find_release(ns, rel);
                 if (r == nullptr) return respond(ui::html_error(404, "No release " + ns + "/" + rel + " on " + name + "."));
                 queue::ListFilter filter;
                 filter.kind = "apply";
                 filter.limit = 100;
                 auto jobs = q.list(filter);  // the page without its jobs when the job store does not answer
                 respond(ui::html_response(200, ui::release_page(*c, *r, &*f, jobs ? *jobs : std::vector<queue::JobRecord>{})));
               });
             }));
  router.add(verb::get, "/ui/jobs", reader([&app](const std::shared_ptr<Context>& ctx, Responder respond) {
               static const std::set<std::string, std::less<>> states = {"",     "queued", "active",    "retrying",
                                                                          "succeeded", "dead", "superseded"};
               queue::ListFilter filter;
               filter.state = ctx->query("state");
               if (states.count(filter.state) == 0) {
                 return respond(ui::html_error(400, "state must be one of queued, active, retrying, succeeded, dead, "
                                                    "superseded"));
               }
               filter.limit = 100;
               app.queries.post([filter, respond = std::move(respond)](queue::Queue& q) {
                 auto r = q.list(filter);
                 if (!r) return respond(ui::html_error(503, "The job store is unavailable: " + r.error().message));
                 respond(ui::html_response(200, ui::jobs_page(*r, filter.state)));
               });
             }));
}

}  // namespace helmgate::handlers
