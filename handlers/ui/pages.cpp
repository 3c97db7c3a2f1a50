// The fleet pages of the status page (routes and the jobs page: handlers/ui/routes.cpp).
#include "handlers/ui/pages.hpp"

#include <cstdio>

#include "core/names.hpp"
#include "core/time.hpp"
#include "handlers/ui/html.hpp"

namespace helmgate::handlers::ui {
namespace {

std::string num(int64_t v) { return std::to_string(v); }

std::string cpu(int64_t milli) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(milli) / 1000.0);
  return buf;
}

std::string mem(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

std::string yes_no(bool ok, std::string_view yes, std::string_view no) {
  return std::string("<span class=\"badge s-") + (ok ? "yes" : "no") + "\">" + esc(ok ? yes : no) + "</span>";
}

// A table in a focusable scrolling region (keyboard users can scroll it; narrow screens scroll it sideways).
std::string table_open(std::string_view caption) {
  return "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"" + esc(caption) + "\"><table><caption>" +
         esc(caption) + "</caption>";
}
constexpr const char* kTableClose = "</table></div>";

std::string head(std::initializer_list<std::string_view> cols) {
  std::string out = "<thead><tr>";
  for (auto c : cols) out += "<th scope=\"col\">" + esc(c) + "</th>";
  return out + "</tr></thead>";
}

// A release whose namespace or name the release route would refuse (names from a cluster are not gated
// like Git's) is shown without a link.
bool linkable(const ReleaseView& r) {
  return core::names::namespace_name(r.namespace_).empty() && core::names::helm_release_name(r.name).empty();
}

std::string release_link(const std::string& cluster, const ReleaseView& r, const std::string& text) {
  if (!linkable(r)) return esc(text);
  return "<a href=\"" + href({"clusters", cluster, "releases", r.namespace_, r.name}) + "\">" + esc(text) + "</a>";
}

std::string cluster_link(const std::string& name) {
  return "<a href=\"" + href({"clusters", name}) + "\">" + esc(name) + "</a>";
}

std::string reachable_cell(const ClusterView& c) {
  if (!c.has_inventory) return "<span class=\"badge s-none\">not scanned</span>";
  return yes_no(c.reachable, "reachable", "unreachable");
}

std::string reasons_text(const ReleaseView& r) {
  std::string out;
  for (const auto& s : r.reasons) out += (out.empty() ? "" : "; ") + s;
  if (!r.error.empty()) out += (out.empty() ? "" : "; ") + r.error;
  return out;
}

std::string attention_rows(const FleetView& fleet, size_t* count) {
  std::string rows;
  for (const auto& c : fleet.clusters) {
    for (const auto& r : c.releases) {
      if (r.state == "in_sync") continue;
      ++*count;
      rows += "<tr><td>" + cluster_link(c.name) + "</td><th scope=\"row\">" +
              release_link(c.name, r, r.namespace_ + "/" + r.name) + "</th><td>" + state_badge(r.state) +
              "</td><td class=\"wrap\">" + esc(reasons_text(r)) + "</td></tr>";
    }
  }
  return rows;
}

std::string problems(const ClusterView& c) {
  std::string out;
  for (const auto& p : c.problems) out += "<p role=\"alert\">" + esc(p) + "</p>";
  return out;
}

}  // namespace

std::string overview_page(const FleetView& fleet) {
  auto adds = addons(fleet);
  std::string b;
  size_t attention = 0;
  std::string att_rows = attention_rows(fleet, &attention);
  b += "<p>" + num(static_cast<int64_t>(fleet.clusters.size())) + " cluster(s), " + num(static_cast<int64_t>(adds.size())) +
       " add-on(s); " + num(static_cast<int64_t>(attention)) + " release(s) <a href=\"/ui/drift\">need attention</a>.</p>";
  if (fleet.clusters.empty()) {
    b += "<p>No scan has stored anything yet: the drift scan of each cluster writes the fleet's view.</p>";
    return page("Fleet", b);
  }
  b += table_open("Clusters and add-ons");
  b += "<thead><tr><th scope=\"col\">Cluster</th><th scope=\"col\">Reachable</th><th scope=\"col\">Version</th>"
       "<th scope=\"col\">Nodes ready</th><th scope=\"col\">Scanned</th>";
  for (const auto& a : adds) {
    b += "<th scope=\"col\">" + esc(a.release);
    if (a.attention()) b += " <span class=\"badge s-drifted\">differs</span>";
    b += "</th>";
  }
  b += "</tr></thead><tbody>";
  for (size_t i = 0; i < fleet.clusters.size(); ++i) {
    const auto& c = fleet.clusters[i];
    b += "<tr><th scope=\"row\">" + cluster_link(c.name) + "</th><td>" + reachable_cell(c) + "</td><td>" +
         esc(c.server_version) + "</td><td>";
    if (c.has_inventory) b += num(c.nodes_ready) + " / " + num(c.nodes_count);
    b += "</td><td>" + esc(c.scanned_at()) + "</td>";
    for (const auto& a : adds) {
      const AddonCell& cell = a.cells[i];
      b += "<td>";
      const ReleaseView* r = cell.state.empty() ? nullptr : c.find_release(cell.namespace_, a.release);
      if (!c.has_drift) {
        b += "<span class=\"badge s-none\">not scanned</span>";
      } else if (r == nullptr) {
        b += state_badge("");
      } else if (!linkable(*r)) {
        b += state_badge(cell.state);
      } else {
        b += "<a href=\"" + href({"clusters", c.name, "releases", r->namespace_, r->name}) + "\">" +
             state_badge(cell.state);
        if (!cell.chart_version.empty()) b += " <span class=\"muted\">" + esc(cell.chart_version) + "</span>";
        if (cell.revision > 0) b += " <span class=\"muted\">r" + num(cell.revision) + "</span>";
        b += "</a>";
      }
      b += "</td>";
    }
    b += "</tr>";
  }
  b += "</tbody>";
  b += kTableClose;

  b += "<h2>Add-ons across clusters</h2>";
  std::string list;
  for (const auto& a : adds) {
    if (!a.attention() && !a.versions_differ) continue;
    list += "<li><strong>" + esc(a.release) + "</strong>: ";
    std::string parts;
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    if (!a.differs_from_git.empty()) parts += "differs from Git on " + join(a.differs_from_git);
    if (a.declared_everywhere && !a.missing_on.empty()) {
      parts += std::string(parts.empty() ? "" : "; ") + "declared for every cluster but missing on " + join(a.missing_on);
    }
    if (a.versions_differ) parts += std::string(parts.empty() ? "" : "; ") + "chart versions differ across clusters";
    list += esc(parts) + "</li>";
  }
  b += list.empty() ? "<p>Every add-on runs as Git declares on every cluster that declares it.</p>"
                    : "<ul>" + list + "</ul>";
  return page("Fleet", b);
}

std::string attention_page(const FleetView& fleet) {
  size_t count = 0;
  std::string rows = attention_rows(fleet, &count);
  std::string b;
  if (count == 0) {
    b += "<p>Every scanned release is in sync.</p>";
  } else {
    b += table_open("Releases that are not in sync") + head({"Cluster", "Release", "State", "Why"}) + "<tbody>" + rows +
         "</tbody>" + kTableClose;
  }
  return page("Needs attention", b);
}

std::string cluster_page(const ClusterView& c) {
  std::string b = problems(c);
  b += "<dl><dt>Reachable</dt><dd>" + reachable_cell(c) + "</dd>";
  if (!c.error.empty()) b += "<dt>Error</dt><dd>" + esc(c.error) + "</dd>";
  b += "<dt>Kubernetes</dt><dd>" + esc(c.server_version) + "</dd>";
  b += "<dt>Nodes ready</dt><dd>" + num(c.nodes_ready) + " / " + num(c.nodes_count) + "</dd>";
  b += "<dt>Inventory read</dt><dd>" + esc(c.inventory_observed_at) + "</dd>";
  b += "<dt>Drift scan</dt><dd>" + esc(c.drift_observed_at);
  if (c.has_drift) b += " (" + num(c.drift_duration_ms) + " ms)";
  b += "</dd>";
  if (!c.drift_error.empty()) b += "<dt>Scan error</dt><dd>" + esc(c.drift_error) + "</dd>";
  for (const auto& e : c.inventory_errors) b += "<dt>Not read</dt><dd>" + esc(e) + "</dd>";
  b += "</dl>";

  b += "<h2>Releases</h2>";
  if (c.releases.empty()) {
    b += "<p>No drift scan stored releases for this cluster.</p>";
  } else {
    b += table_open("Releases on " + c.name) +
         head({"Release", "State", "Revision", "Helm status", "Chart", "Values digest", "Why"}) + "<tbody>";
    for (const auto& r : c.releases) {
      b += "<tr><th scope=\"row\">" + release_link(c.name, r, r.namespace_ + "/" + r.name) + "</th><td>" +
           state_badge(r.state) + "</td><td>" + (r.has_helm ? num(r.revision) : std::string()) + "</td><td>" +
           esc(r.status) + "</td><td>" + esc(r.chart) + (r.chart_version.empty() ? "" : " " + esc(r.chart_version)) +
           "</td><td>" + esc(r.values_digest.substr(0, 12)) + "</td><td class=\"wrap\">" + esc(reasons_text(r)) +
           "</td></tr>";
    }
    b += "</tbody>";
    b += kTableClose;
  }

  b += "<h2>Nodes</h2>";
  if (c.nodes.empty()) {
    b += "<p>No nodes read.</p>";
  } else {
    b += table_open("Nodes of " + c.name) +
         head({"Node", "Ready", "Reason", "Kubelet", "CPU requested / allocatable", "Memory requested / allocatable",
               "Pods"}) +
         "<tbody>";
    for (const auto& n : c.nodes) {
      b += "<tr><th scope=\"row\">" + esc(n.name) + "</th><td>" + yes_no(n.ready, "Ready", "NotReady") +
           (n.unschedulable ? " <span class=\"muted\">cordoned</span>" : "") + "</td><td class=\"wrap\">" +
           esc(n.reason) + (n.message.empty() ? "" : ": " + esc(n.message)) + "</td><td>" + esc(n.kubelet_version) +
           "</td><td>" + cpu(n.req_cpu_milli) + " / " + cpu(n.alloc_cpu_milli) + "</td><td>" + mem(n.req_memory) +
           " / " + mem(n.alloc_memory) + "</td><td>" + num(n.pods) + "</td></tr>";
    }
    b += "</tbody>";
    b += kTableClose;
  }

  b += "<h2>Workloads</h2>";
  if (c.workloads.empty()) {
    b += "<p>No workloads of Helm releases read.</p>";
  } else {
    b += table_open("Workloads on " + c.name) + head({"Release", "Workload", "Ready / desired", "Updated", "Available"}) +
         "<tbody>";
    for (const auto& rw : c.workloads) {
      for (const auto& w : rw.workloads) {
        b += "<tr><td>" + esc(rw.namespace_ + "/" + rw.release) + "</td><th scope=\"row\">" +
             esc(w.kind + " " + w.namespace_ + "/" + w.name) + "</th><td>" +
             yes_no(w.ready >= w.desired, num(w.ready) + " / " + num(w.desired), num(w.ready) + " / " + num(w.desired)) +
             "</td><td>" + num(w.updated) + "</td><td>" + num(w.available) + "</td></tr>";
      }
    }
    b += "</tbody>";
    b += kTableClose;
    if (c.unattributed_workloads > 0) {
      b += "<p class=\"muted\">" + num(c.unattributed_workloads) + " workload(s) belong to no Helm release.</p>";
    }
  }

  b += "<h2>Scaling</h2>";
  if (c.hpas.empty()) {
    b += "<p>No HorizontalPodAutoscalers.</p>";
  } else {
    b += table_open("HorizontalPodAutoscalers on " + c.name) +
         head({"HPA", "Target", "Release", "Current / desired", "Min / max", "Last scaled"}) + "<tbody>";
    for (const auto& h : c.hpas) {
      b += "<tr><th scope=\"row\">" + esc(h.namespace_ + "/" + h.name) + "</th><td>" + esc(h.target) + "</td><td>" +
           esc(h.release) + "</td><td>" + num(h.current) + " / " + num(h.desired) + "</td><td>" + num(h.min) + " / " +
           num(h.max) + "</td><td>" + esc(h.last_scale_time) + "</td></tr>";
    }
    b += "</tbody>";
    b += kTableClose;
  }
  return page("Cluster " + c.name, b);
}

std::string release_page(const ClusterView& c, const ReleaseView& r, const FleetView* fleet,
                         const std::vector<queue::JobRecord>& jobs) {
  std::string b = "<p><a href=\"" + href({"clusters", c.name}) + "\">Back to cluster " + esc(c.name) + "</a></p>";
  b += "<dl><dt>State</dt><dd>" + state_badge(r.state) + "</dd>";
  for (const auto& s : r.reasons) b += "<dt>Why</dt><dd>" + esc(s) + "</dd>";
  if (!r.error.empty()) b += "<dt>Error</dt><dd>" + esc(r.error) + "</dd>";
  if (r.has_helm) {
    b += "<dt>Revision</dt><dd>" + num(r.revision) + "</dd><dt>Helm status</dt><dd>" + esc(r.status) +
         "</dd><dt>Chart</dt><dd>" + esc(r.chart + " " + r.chart_version) + "</dd><dt>App version</dt><dd>" +
         esc(r.app_version) + "</dd><dt>Values digest</dt><dd>" + esc(r.values_digest) +
         "</dd><dt>Last deployed</dt><dd>" + esc(r.last_deployed) + "</dd>";
  } else {
    b += "<dt>Helm record</dt><dd>none</dd>";
  }
  b += "<dt>Scanned</dt><dd>" + esc(c.drift_observed_at) + "</dd></dl>";

  b += "<h2>Drifted resources</h2>";
  if (r.resources.empty()) {
    b += "<p>No live object differs.</p>";
  } else {
    for (const auto& x : r.resources) {
      b += "<h3>" + esc(x.object) + " <span class=\"badge s-drifted\">" + esc(x.change) + "</span></h3>";
      if (!x.diff.empty()) b += "<pre aria-label=\"" + esc("diff of " + x.object) + "\">" + esc(x.diff) + "</pre>";
    }
  }

  if (fleet != nullptr) {
    for (const auto& a : addons(*fleet)) {
      if (a.release != r.name) continue;
      b += "<h2>Across the fleet</h2>" + table_open(r.name + " on every cluster") +
           head({"Cluster", "State", "Chart version", "Revision", "Values digest"}) + "<tbody>";
      for (const auto& cell : a.cells) {
        b += "<tr><th scope=\"row\">" + cluster_link(cell.cluster) + "</th><td>" + state_badge(cell.state) + "</td><td>" +
             esc(cell.chart_version) + "</td><td>" + (cell.revision > 0 ? num(cell.revision) : std::string()) +
             "</td><td>" + esc(cell.values_digest.substr(0, 12)) + "</td></tr>";
      }
      b += "</tbody>";
      b += kTableClose;
    }
  }
  b += "<h2>Recent apply jobs on " + esc(c.name) + "</h2>";
  std::string rows;
  size_t shown = 0;
  for (const auto& j : jobs) {
    if (shown == 10) break;
    bool here = j.spec.clusters.empty();
    for (const auto& name : j.spec.clusters) here = here || name == c.name;
    if (j.spec.kind != "apply" || !here) continue;
    ++shown;
    rows += "<tr><th scope=\"row\">" + esc(j.id) + "</th><td>" + esc(j.state) + "</td><td>" + esc(j.spec.repo) +
            "</td><td>" + esc(j.spec.after.substr(0, 12)) + "</td><td>" + esc(core::utc_rfc3339_ms(j.created_ms)) + "</td><td>" +
            esc(core::utc_rfc3339_ms(j.finished_ms)) + "</td><td class=\"wrap\">" + esc(j.error.substr(0, 300)) + "</td></tr>";
  }
  if (rows.empty()) {
    b += "<p>No recent apply job for this cluster.</p>";
  } else {
    b += table_open("Apply jobs on " + c.name + ", newest first") +
         head({"Job", "State", "Repository", "Commit", "Created", "Finished", "Error"}) + "<tbody>" + rows + "</tbody>" +
         kTableClose + "<p><a href=\"/ui/jobs\">All jobs</a></p>";
  }
  return page("Release " + r.namespace_ + "/" + r.name + " on " + c.name, b);
}

}  // namespace helmgate::handlers::ui
