#include "handlers/fleet_api.hpp"

#include "core/json.hpp"
#include "core/names.hpp"
#include "core/time.hpp"
#include "handlers/read_access.hpp"

namespace helmgate::handlers {
namespace {

namespace json = core::json;
using http::Context;
using http::error_response;
using http::json_response;
using http::Responder;
using verb = http::beast_http::verb;

const char* const kStates[] = {"in_sync", "drifted", "missing", "failed", "extra", "unknown"};

void opt_str(json::Writer& w, const char* key, const std::string& v) {
  json::write_str(w, key);
  if (v.empty()) {
    w.Null();
  } else {
    json::write_str(w, v);
  }
}

void str_array(json::Writer& w, const char* key, const std::vector<std::string>& v) {
  json::write_str(w, key);
  w.StartArray();
  for (const auto& s : v) json::write_str(w, s);
  w.EndArray();
}

// A stored document as it is (re-serialized after parsing, so the answer is valid JSON whatever was stored).
void stored(json::Writer& w, const char* key, const std::optional<queue::FleetEntry>& e) {
  json::write_str(w, key);
  json::Document doc;
  if (!e || json::parse(doc, e->json)) {
    w.Null();
  } else {
    doc.Accept(w);
  }
  opt_str(w, (std::string(key) + "_stored_at").c_str(), e ? core::utc_rfc3339_ms(e->at_ms) : std::string());
}

}  // namespace

std::string fleet_json(const FleetView& fleet) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::write_str(w, "clusters");
  w.StartArray();
  for (const auto& c : fleet.clusters) {
    w.StartObject();
    json::kv(w, "name", c.name);
    json::write_str(w, "reachable");
    if (c.has_inventory) {
      w.Bool(c.reachable);
    } else {
      w.Null();
    }
    opt_str(w, "error", c.error);
    opt_str(w, "server_version", c.server_version);
    json::write_str(w, "nodes");
    w.StartObject();
    json::kv(w, "count", c.nodes_count);
    json::kv(w, "ready", c.nodes_ready);
    json::kv(w, "not_ready", c.nodes_count - c.nodes_ready);
    w.EndObject();
    json::write_str(w, "drift");
    if (c.has_drift) {
      w.StartObject();
      for (const char* s : kStates) {
        auto it = c.counts.find(s);
        json::kv(w, s, it == c.counts.end() ? int64_t{0} : it->second);
      }
      w.EndObject();
    } else {
      w.Null();
    }
    opt_str(w, "drift_error", c.drift_error);
    opt_str(w, "scanned_at", c.scanned_at());
    opt_str(w, "inventory_stored_at", core::utc_rfc3339_ms(c.inventory_at_ms));
    opt_str(w, "drift_stored_at", core::utc_rfc3339_ms(c.drift_at_ms));
    str_array(w, "problems", c.problems);
    w.EndObject();
  }
  w.EndArray();
  json::write_str(w, "addons");
  w.StartArray();
  for (const auto& a : addons(fleet)) {
    w.StartObject();
    json::kv(w, "release", a.release);
    json::write_str(w, "clusters");
    w.StartArray();
    for (const auto& cell : a.cells) {
      w.StartObject();
      json::kv(w, "cluster", cell.cluster);
      json::kv(w, "declared", !cell.state.empty() && cell.state != "extra");
      opt_str(w, "namespace", cell.namespace_);
      opt_str(w, "state", cell.state);
      opt_str(w, "chart_version", cell.chart_version);
      opt_str(w, "values_digest", cell.values_digest);
      json::write_str(w, "revision");
      if (cell.revision > 0) {
        w.Int64(cell.revision);
      } else {
        w.Null();
      }
      json::kv(w, "differs", cell.differs);
      w.EndObject();
    }
    w.EndArray();
    str_array(w, "differs_from_git", a.differs_from_git);
    json::kv(w, "declared_everywhere", a.declared_everywhere);
    str_array(w, "missing_on", a.missing_on);
    json::kv(w, "versions_differ", a.versions_differ);
    json::kv(w, "attention", a.attention());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string drift_json(const FleetView& fleet) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::write_str(w, "releases");
  w.StartArray();
  for (const auto& c : fleet.clusters) {
    for (const auto& r : c.releases) {
      if (r.state == "in_sync") continue;
      w.StartObject();
      json::kv(w, "cluster", c.name);
      json::kv(w, "id", r.id);
      json::kv(w, "release", r.name);
      json::kv(w, "namespace", r.namespace_);
      json::kv(w, "state", r.state);
      str_array(w, "reasons", r.reasons);
      json::write_str(w, "resources");
      w.StartArray();
      for (const auto& x : r.resources) {
        w.StartObject();
        json::kv(w, "key", x.key);
        json::kv(w, "object", x.object);
        json::kv(w, "change", x.change);
        json::kv(w, "diff", x.diff);
        w.EndObject();
      }
      w.EndArray();
      json::write_str(w, "helm");
      if (r.has_helm) {
        w.StartObject();
        json::kv(w, "revision", r.revision);
        json::kv(w, "status", r.status);
        json::kv(w, "chart_version", r.chart_version);
        json::kv(w, "values_digest", r.values_digest);
        w.EndObject();
      } else {
        w.Null();
      }
      opt_str(w, "error", r.error);
      opt_str(w, "observed_at", c.drift_observed_at);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string cluster_json(const std::string& name, const std::optional<queue::FleetEntry>& inventory,
                         const std::optional<queue::FleetEntry>& drift) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::kv(w, "cluster", name);
  stored(w, "inventory", inventory);
  stored(w, "drift", drift);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

void write_fleet_metrics(http::PromWriter& w, const FleetView& fleet) {
  w.family("helmgate_cluster_up", "gauge", "1 when the cluster's API server answered the last inventory scan.");
  for (const auto& c : fleet.clusters) {
    if (c.has_inventory) w.sample("helmgate_cluster_up", {{"cluster", c.name}}, c.reachable ? 1 : 0);
  }
  w.family("helmgate_cluster_info", "gauge", "The Kubernetes version of each reachable cluster (always 1).");
  for (const auto& c : fleet.clusters) {
    if (c.has_inventory && !c.server_version.empty()) {
      w.sample("helmgate_cluster_info", {{"cluster", c.name}, {"version", c.server_version}}, 1);
    }
  }
  w.family("helmgate_cluster_nodes", "gauge", "Nodes of each cluster by readiness (ready, not_ready).");
  for (const auto& c : fleet.clusters) {
    if (!c.has_inventory || !c.reachable) continue;
    w.sample("helmgate_cluster_nodes", {{"cluster", c.name}, {"state", "ready"}}, static_cast<double>(c.nodes_ready));
    w.sample("helmgate_cluster_nodes", {{"cluster", c.name}, {"state", "not_ready"}},
             static_cast<double>(c.nodes_count - c.nodes_ready));
  }
  w.family("helmgate_release_drifted", "gauge",
           "1 when the last scan found the release drifted from what Git declares, else 0.");
  for (const auto& c : fleet.clusters) {
    for (const auto& r : c.releases) {
      w.sample("helmgate_release_drifted", {{"cluster", c.name}, {"namespace", r.namespace_}, {"release", r.name}},
               r.state == "drifted" ? 1 : 0);
    }
  }
  w.family("helmgate_drift_scan_seconds", "gauge", "How long the last drift scan of each cluster took.");
  for (const auto& c : fleet.clusters) {
    if (c.has_drift) {
      w.sample("helmgate_drift_scan_seconds", {{"cluster", c.name}}, static_cast<double>(c.drift_duration_ms) / 1000.0);
    }
  }
}

void with_fleet(App& app, Responder respond, std::function<void(queue::FleetStore&, Responder)> fn) {
  if (app.fleet == nullptr) return respond(error_response(503, "the fleet store is not configured in this process"));
  app.queries.post([&app, fn = std::move(fn), respond = std::move(respond)](queue::Queue&) mutable {
    fn(*app.fleet, std::move(respond));
  });
}

void install_fleet_api(http::Router& router, App& app) {
  auto reader = [&app](std::function<void(const std::shared_ptr<Context>&, Responder)> fn) {
    return [&app, fn = std::move(fn)](std::shared_ptr<Context> ctx, Responder respond) {
      ReadAccess access = read_access(app.cfg, *ctx);
      if (access != ReadAccess::granted) return respond(read_denied(access, false));
      fn(ctx, std::move(respond));
    };
  };
  router.add(verb::get, "/api/v1/fleet", reader([&app](const std::shared_ptr<Context>&, Responder respond) {
               with_fleet(app, std::move(respond), [](queue::FleetStore& store, Responder answer) {
                 auto f = load_fleet(store);
                 if (!f) return answer(error_response(503, "fleet store unavailable: " + f.error().message));
                 answer(json_response(200, fleet_json(*f)));
               });
             }));
  router.add(verb::get, "/api/v1/drift", reader([&app](const std::shared_ptr<Context>&, Responder respond) {
               with_fleet(app, std::move(respond), [](queue::FleetStore& store, Responder answer) {
                 auto f = load_fleet(store);
                 if (!f) return answer(error_response(503, "fleet store unavailable: " + f.error().message));
                 answer(json_response(200, drift_json(*f)));
               });
             }));
  router.add(verb::get, "/api/v1/clusters/{name}", reader([&app](const std::shared_ptr<Context>& ctx, Responder respond) {
               std::string name = ctx->params.at("name");
               if (auto why = core::names::cluster_name(name); !why.empty()) {
                 return respond(error_response(400, "cluster name " + core::names::shown(name) + " " + why));
               }
               with_fleet(app, std::move(respond), [name](queue::FleetStore& store, Responder answer) {
                 auto inv = store.get(queue::FleetKind::inventory, name);
                 if (!inv) return answer(error_response(503, "fleet store unavailable: " + inv.error().message));
                 auto drift = store.get(queue::FleetKind::drift, name);
                 if (!drift) return answer(error_response(503, "fleet store unavailable: " + drift.error().message));
                 if (!inv->has_value() && !drift->has_value()) {
                   return answer(error_response(404, "no cluster " + name + " (no scan stored for it)"));
                 }
                 answer(json_response(200, cluster_json(name, *inv, *drift)));
               });
             }));
}

}  // namespace helmgate::handlers
