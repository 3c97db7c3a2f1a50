#include "config/repos.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "config/sops.hpp"
#include "core/names.hpp"
#include "core/redact.hpp"

namespace helmgate::config::detail {

namespace {

// A JSON pointer (RFC 6901): empty or "/..." with "~" only as "~0" or "~1".
std::string pointer_problem(const std::string& ptr) {
  if (ptr.empty() || ptr.front() != '/') return "'" + ptr + "' must be a JSON pointer starting with '/' (e.g. /spec/replicas)";
  for (size_t i = 0; i < ptr.size(); ++i) {
    if (ptr[i] == '~' && (i + 1 == ptr.size() || (ptr[i + 1] != '0' && ptr[i + 1] != '1'))) {
      return "'" + ptr + "': '~' must be written ~0 and '/' inside a key ~1";
    }
    if (static_cast<unsigned char>(ptr[i]) < 0x20) return "'" + ptr + "' has a control character";
  }
  return {};
}

void read_drift(const Reader& r, const YAML::Node& n, const std::string& p, DriftSettings& d) {
  r.expect_map(n, p, {"enabled", "interval", "jitter", "ignore", "remediate", "max_remediations_per_hour", "webhook_url",
                       "webhook_url_env", "tracking_issue", "namespaces"});
  d.namespaces = r.strings(n, p, "namespaces");
  for (size_t i = 0; i < d.namespaces.size(); ++i) {
    if (auto why = core::names::namespace_name(d.namespaces[i]); !why.empty()) {
      r.fail(n["namespaces"][i], p + ".namespaces[" + std::to_string(i) + "]", "namespace " + why);
    }
  }
  d.webhook_url = r.str(n, p, "webhook_url", "");
  d.webhook_url_env = r.str(n, p, "webhook_url_env", "");
  if (!d.webhook_url.empty() && !d.webhook_url_env.empty()) {
    r.fail(n["webhook_url_env"], p + ".webhook_url_env", "give webhook_url or webhook_url_env, not both");
  }
  if (!d.webhook_url.empty() && d.webhook_url.rfind("https://", 0) != 0 && d.webhook_url.rfind("http://", 0) != 0) {
    r.fail(n["webhook_url"], p + ".webhook_url", "must be an https:// URL (http:// only where the egress policy allows it)");
  }
  d.tracking_issue = r.integer(n, p, "tracking_issue", 0, 0, int64_t{1} << 40);
  d.enabled = r.boolean(n, p, "enabled", d.enabled);
  d.interval = r.duration(n, p, "interval", d.interval);
  if (d.interval < std::chrono::seconds(30)) r.fail(n["interval"], p + ".interval", "must be at least 30s");
  d.jitter = n["jitter"] && n["jitter"].IsScalar() && n["jitter"].Scalar() == "0" ? std::chrono::milliseconds(0)
                                                                                   : r.duration(n, p, "jitter", d.jitter);
  if (d.jitter >= d.interval) {
    r.fail(n["jitter"] ? n["jitter"] : n, p + ".jitter", "must be shorter than the interval");
  }
  // Strictly true or false, like allow_pr_apply: this switch lets helmgate deploy without a merge.
  if (YAML::Node v = n["remediate"]) {
    std::string t = v.IsScalar() ? v.Scalar() : "";
    if (t != "true" && t != "false") r.fail(v, p + ".remediate", "must be true or false");
    d.remediate = t == "true";
  }
  d.max_remediations_per_hour =
      static_cast<int>(r.integer(n, p, "max_remediations_per_hour", d.max_remediations_per_hour, 1, 1000));
  if (YAML::Node ig = n["ignore"]) {
    if (!ig.IsSequence()) r.fail(ig, p + ".ignore", "must be a list of {kind, name, namespace, paths}");
    for (size_t i = 0; i < ig.size(); ++i) {
      std::string ip = p + ".ignore[" + std::to_string(i) + "]";
      r.expect_map(ig[i], ip, {"kind", "name", "namespace", "paths"});
      DriftIgnore rule;
      rule.kind = r.str(ig[i], ip, "kind", rule.kind);
      rule.name = r.str(ig[i], ip, "name", rule.name);
      rule.namespace_ = r.str(ig[i], ip, "namespace", rule.namespace_);
      for (auto* glob : {&rule.kind, &rule.name, &rule.namespace_}) {
        if (glob->empty()) r.fail(ig[i], ip, "kind, name and namespace must not be empty (\"*\" matches any)");
      }
      rule.paths = r.strings(ig[i], ip, "paths");
      if (rule.paths.empty()) r.fail(ig[i], ip + ".paths", "must list at least one JSON pointer");
      for (size_t j = 0; j < rule.paths.size(); ++j) {
        if (auto why = pointer_problem(rule.paths[j]); !why.empty()) {
          r.fail(ig[i]["paths"][j], ip + ".paths[" + std::to_string(j) + "]", why);
        }
      }
      d.ignore.push_back(std::move(rule));
    }
  }
}

void read_cluster(const Reader& r, const YAML::Node& n, const std::string& p, Cluster& c) {
  r.expect_map(n, p, {"name", "paths", "kubeconfig", "kubeconfig_env", "kube_version", "auto_apply", "prune", "requires",
                       "apply_concurrency", "allow_pr_apply", "preview_kubeconfig", "preview_kubeconfig_env", "allow_insecure_tls",
                       "drift"});
  c.name = r.str(n, p, "name", "", true);
  c.paths = r.strings(n, p, "paths");
  for (const auto& path : c.paths) {
    if (path.find("..") != std::string::npos || (!path.empty() && path[0] == '/')) {
      r.fail(n["paths"], p + ".paths", "'" + path + "' must be a relative path inside the repository");
    }
  }
  c.kubeconfig = r.str(n, p, "kubeconfig", "");
  c.kubeconfig_env = r.str(n, p, "kubeconfig_env", "");
  if (!c.kubeconfig_env.empty() && !valid_env_name(c.kubeconfig_env)) {
    r.fail(n["kubeconfig_env"], p + ".kubeconfig_env", "must be an environment variable name");
  }
  c.kube_version = r.str(n, p, "kube_version", "");
  c.auto_apply = r.boolean(n, p, "auto_apply", c.auto_apply);
  c.prune = r.boolean(n, p, "prune", c.prune);
  c.requires_clusters = r.strings(n, p, "requires");
  c.apply_concurrency = static_cast<int>(r.integer(n, p, "apply_concurrency", c.apply_concurrency, 1, 64));
  // Strictly true or false: "yes"/"on" would be easy to misread for a switch that lets a PR comment
  // deploy unmerged code.
  if (YAML::Node a = n["allow_pr_apply"]) {
    std::string v = a.IsScalar() ? a.Scalar() : "";
    if (v != "true" && v != "false") r.fail(a, p + ".allow_pr_apply", "must be true or false");
    c.allow_pr_apply = v == "true";
  }
  c.preview_kubeconfig = r.str(n, p, "preview_kubeconfig", "");
  c.preview_kubeconfig_env = r.str(n, p, "preview_kubeconfig_env", "");
  if (!c.preview_kubeconfig_env.empty() && !valid_env_name(c.preview_kubeconfig_env)) {
    r.fail(n["preview_kubeconfig_env"], p + ".preview_kubeconfig_env", "must be an environment variable name");
  }
  if (!c.preview_kubeconfig.empty() && !c.preview_kubeconfig_env.empty()) {
    r.fail(n["preview_kubeconfig_env"], p + ".preview_kubeconfig_env", "set preview_kubeconfig or preview_kubeconfig_env, not both");
  }
  if (YAML::Node a = n["allow_insecure_tls"]) {
    std::string v = a.IsScalar() ? a.Scalar() : "";
    if (v != "true" && v != "false") r.fail(a, p + ".allow_insecure_tls", "must be true or false");
    c.allow_insecure_tls = v == "true";
  }
  if (YAML::Node d = n["drift"]) read_drift(r, d, p + ".drift", c.drift);
}

// "[KIND/][NAMESPACE/]NAME=PATH" with PATH inside the repository (release::parse_source_mapping reads it).
std::string source_mapping_problem(const std::string& m) {
  const std::string form = " (write [KIND/][NAMESPACE/]NAME=PATH, e.g. ExternalArtifact/flux-system/apps=deploy/apps)";
  auto eq = m.find('=');
  if (eq == std::string::npos || eq == 0) return "'" + m + "' has no NAME=PATH" + form;
  std::string key = m.substr(0, eq);
  if (std::count(key.begin(), key.end(), '/') > 2 || key.back() == '/' || key.front() == '/') {
    return "'" + m + "' must name the source as [KIND/][NAMESPACE/]NAME" + form;
  }
  {
    std::istringstream names(key);
    bool first = true;
    for (std::string part; std::getline(names, part, '/'); first = false) {
      const bool kind = first && key.find('/') != std::string::npos && std::isupper(static_cast<unsigned char>(part[0])) != 0;
      bool ok = !part.empty() && part.size() <= 253 && std::all_of(part.begin(), part.end(), [&](char c) {
        return kind ? std::isalnum(static_cast<unsigned char>(c)) != 0
                    : (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
      });
      if (!ok) return "'" + m + "': '" + part + "' is not a Kubernetes " + (kind ? "kind" : "name or namespace") + form;
    }
  }
  // A first part starting upper case is a kind (namespaces cannot).
  if (auto slash = key.find('/'); slash != std::string::npos && std::isupper(static_cast<unsigned char>(key[0])) != 0) {
    const std::string kind = key.substr(0, slash);
    static const std::set<std::string> kinds = {"GitRepository", "OCIRepository", "Bucket", "ExternalArtifact", "HelmRepository"};
    if (kinds.count(kind) == 0) {
      return "'" + m + "' has kind '" + kind + "'; one of GitRepository, OCIRepository, Bucket, ExternalArtifact, HelmRepository";
    }
  }
  // The rules of core::names::repo_path (this file is also built without it, into the webhook fuzz target).
  const std::string path = m.substr(eq + 1);
  const std::string bad = "the path of '" + m + "' must be a relative path inside the repository (no '..', no part starting with '-')";
  if (path.size() > 4096 || path.find('\\') != std::string::npos || (!path.empty() && path.front() == '/')) return bad;
  if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) return bad;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part == ".." || (!part.empty() && part.front() == '-')) return bad;
  }
  return {};
}

}  // namespace

void read_egress(const Reader& r, const YAML::Node& n, const std::string& p, core::EgressPolicy& e) {
  r.expect_map(n, p, {"allow", "allow_private", "allow_http"});
  e.allow = r.strings(n, p, "allow");
  for (size_t i = 0; i < e.allow.size(); ++i) {
    if (auto ok = core::validate_allow_entry(e.allow[i]); !ok) {
      r.fail(n["allow"][i], p + ".allow[" + std::to_string(i) + "]", "'" + e.allow[i] + "': " + ok.error().message);
    }
  }
  // Strictly true or false, like allow_pr_apply: these switches open the network to pull requests.
  for (auto [key, field] : {std::pair<const char*, bool*>{"allow_private", &e.allow_private}, {"allow_http", &e.allow_http}}) {
    YAML::Node v = n[key];
    if (!v) continue;
    std::string t = v.IsScalar() ? v.Scalar() : "";
    if (t != "true" && t != "false") r.fail(v, p + "." + key, "must be true or false");
    *field = t == "true";
  }
}

void read_repo(const Reader& r, const YAML::Node& n, const std::string& p, Repo& repo, const core::EgressPolicy& egress,
               Use use) {
  r.expect_map(n, p, {"name", "url", "token_env", "username", "forge", "deploy_branch", "clusters", "sensitive_values",
                  "egress", "flux_strict_substitution", "helm_operator_charts_path", "sources", "sops", "ownership",
                  "owners_file"});
  repo.name = r.str(n, p, "name", "", use == Use::server);
  if (!(use == Use::preview && repo.name.empty()) && repo.name.find('/') == std::string::npos) {
    r.fail(n["name"], p + ".name", "must be 'owner/name'");
  }
  repo.url = r.str(n, p, "url", "");
  // Credentials in the file would travel with every job, log line and API answer: refused, and the
  // message never repeats them.
  if (core::url_has_credentials(repo.url)) {
    r.fail(n["url"], p + ".url",
           "must not contain credentials (" + core::redact_url(repo.url) +
               "); put the token in an environment variable and name it in " + p + ".token_env");
  }
  repo.token_env = r.str(n, p, "token_env", "");
  if (!repo.token_env.empty() && !valid_env_name(repo.token_env)) {
    r.fail(n["token_env"], p + ".token_env", "must be an environment variable name");
  }
  repo.username = r.str(n, p, "username", repo.username);
  if (repo.username.empty() || repo.username.find_first_of(":@/ \t\r\n") != std::string::npos) {
    r.fail(n["username"], p + ".username", "must be a user name without ':', '@', '/' or spaces");
  }
  if (!repo.token_env.empty() && repo.url.rfind("https://", 0) != 0 && repo.url.rfind("http://", 0) != 0) {
    r.fail(n["token_env"], p + ".token_env", "is for http(s) URLs; ssh URLs take their key from the ssh agent");
  }
  repo.forge = r.str(n, p, "forge", "", use == Use::server);
  repo.deploy_branch = r.str(n, p, "deploy_branch", repo.deploy_branch);
  repo.sensitive_values = r.strings(n, p, "sensitive_values");
  repo.sources = r.strings(n, p, "sources");
  for (size_t i = 0; i < repo.sources.size(); ++i) {
    if (auto why = source_mapping_problem(repo.sources[i]); !why.empty()) {
      r.fail(n["sources"][i], p + ".sources[" + std::to_string(i) + "]", why);
    }
  }
  repo.flux_strict_substitution = r.boolean(n, p, "flux_strict_substitution", repo.flux_strict_substitution);
  repo.helm_operator_charts_path = r.str(n, p, "helm_operator_charts_path", repo.helm_operator_charts_path);
  if (auto why = core::names::repo_path(repo.helm_operator_charts_path); !why.empty()) {
    r.fail(n["helm_operator_charts_path"], p + ".helm_operator_charts_path", "must be a path in the repository: " + why);
  }
  if (YAML::Node o = n["ownership"]) read_ownership(r, o, p + ".ownership", repo.ownership);
  repo.owners_file = r.str(n, p, "owners_file", repo.owners_file);
  if (auto why = core::names::repo_path(repo.owners_file); !repo.owners_file.empty() && !why.empty()) {
    r.fail(n["owners_file"], p + ".owners_file", "must be a path in the repository: " + why);
  }
  repo.egress = egress;
  if (YAML::Node e = n["egress"]) read_egress(r, e, p + ".egress", repo.egress);
  if (!repo.url.empty()) repo.egress.trusted.push_back(repo.url);
  if (YAML::Node sn = n["sops"]) read_sops(r, sn, p + ".sops", repo.sops);
  for (const auto& v : repo.sensitive_values) {
    if (v.empty() || v.front() == '.' || v.back() == '.' || v.find("..") != std::string::npos) {
      r.fail(n["sensitive_values"], p + ".sensitive_values",
             "'" + v + "' must be a dotted Helm values path such as auth.password or *.apiKey");
    }
  }
  if (YAML::Node cs = n["clusters"]) {
    if (!cs.IsSequence()) r.fail(cs, p + ".clusters", "must be a list");
    std::set<std::string> names;
    for (size_t i = 0; i < cs.size(); ++i) {
      Cluster c;
      std::string cp = p + ".clusters[" + std::to_string(i) + "]";
      read_cluster(r, cs[i], cp, c);
      if (!names.insert(c.name).second) r.fail(cs[i]["name"], cp + ".name", "duplicate cluster '" + c.name + "'");
      repo.clusters.push_back(std::move(c));
    }
    for (size_t i = 0; i < repo.clusters.size(); ++i) {
      for (const auto& req : repo.clusters[i].requires_clusters) {
        if (names.count(req) == 0) {
          r.fail(cs[i]["requires"], p + ".clusters[" + std::to_string(i) + "].requires",
                 "names unknown cluster '" + req + "'");
        }
      }
    }
  }
}

}  // namespace helmgate::config::detail
