#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "core/names.hpp"
#include "core/redact.hpp"

namespace helmgate::config {
namespace {

// Walks the YAML tree with the key path and file name at hand, so every error points at its place.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& why) const {
    std::ostringstream out;
    out << source_;
    if (node.IsDefined() && !node.Mark().is_null()) out << ":" << node.Mark().line + 1 << ":" << node.Mark().column + 1;
    out << ": " << (path.empty() ? "(top level)" : path) << ": " << why;
    throw ConfigError(out.str());
  }

  void expect_map(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const {
    if (!node.IsMap()) fail(node, path, "must be a mapping");
    std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      if (ok.count(key) == 0) {
        std::string list;
        for (const auto* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(kv.first, join(path, key), "unknown key (allowed: " + list + ")");
      }
    }
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string str(const YAML::Node& parent, const std::string& path, const char* key, const std::string& def,
                  bool required = false) const {
    YAML::Node n = parent[key];
    if (!n) {
      if (required) fail(parent, join(path, key), "is required");
      return def;
    }
    if (!n.IsScalar()) fail(n, join(path, key), "must be a string");
    auto v = n.as<std::string>();
    if (required && v.empty()) fail(n, join(path, key), "must not be empty");
    return v;
  }

  int64_t integer(const YAML::Node& parent, const std::string& path, const char* key, int64_t def, int64_t min,
                  int64_t max) const {
    YAML::Node n = parent[key];
    if (!n) return def;
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) fail(n, join(path, key), "must be an integer");
    if (v < min || v > max) {
      fail(n, join(path, key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }

  bool boolean(const YAML::Node& parent, const std::string& path, const char* key, bool def) const {
    YAML::Node n = parent[key];
    if (!n) return def;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) fail(n, join(path, key), "must be true or false");
    return v;
  }

  std::chrono::milliseconds duration(const YAML::Node& parent, const std::string& path, const char* key,
                                     std::chrono::milliseconds def) const {
    YAML::Node n = parent[key];
    if (!n) return def;
    if (!n.IsScalar()) fail(n, join(path, key), "must be a duration like 30s, 5m, 2h");
    auto d = parse_duration(n.as<std::string>());
    if (!d || d->count() <= 0) fail(n, join(path, key), "must be a positive duration like 500ms, 30s, 5m, 2h, 7d");
    return *d;
  }

  std::vector<std::string> strings(const YAML::Node& parent, const std::string& path, const char* key) const {
    YAML::Node n = parent[key];
    std::vector<std::string> out;
    if (!n) return out;
    if (!n.IsSequence()) fail(n, join(path, key), "must be a list of strings");
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) fail(n[i], join(path, key) + "[" + std::to_string(i) + "]", "must be a string");
      out.push_back(n[i].as<std::string>());
    }
    return out;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

bool valid_env_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return std::isdigit(static_cast<unsigned char>(s[0])) == 0;
}

void read_server(const Reader& r, const YAML::Node& n, ServerSettings& s) {
  const std::string p = "server";
  r.expect_map(n, p, {"listen", "threads", "max_body_bytes", "header_timeout", "body_timeout", "idle_timeout",
                      "shutdown_grace", "max_connections"});
  s.listen = r.str(n, p, "listen", s.listen);
  s.threads = static_cast<int>(r.integer(n, p, "threads", s.threads, 0, 256));
  s.max_body_bytes =
      static_cast<uint64_t>(r.integer(n, p, "max_body_bytes", static_cast<int64_t>(s.max_body_bytes), 1024, 1LL << 31));
  s.header_timeout = r.duration(n, p, "header_timeout", s.header_timeout);
  s.body_timeout = r.duration(n, p, "body_timeout", s.body_timeout);
  s.idle_timeout = r.duration(n, p, "idle_timeout", s.idle_timeout);
  s.shutdown_grace = r.duration(n, p, "shutdown_grace", s.shutdown_grace);
  s.max_connections = static_cast<int>(r.integer(n, p, "max_connections", s.max_connections, 1, 1'000'000));
}

void read_limits(const Reader& r, const YAML::Node& n, core::Limits& l) {
  const std::string p = "limits";
  r.expect_map(n, p, {"yaml_max_bytes", "yaml_max_documents", "yaml_max_depth", "yaml_max_nodes",
                      "rendered_max_bytes", "rendered_max_documents", "rendered_max_depth", "rendered_max_nodes",
                      "max_files", "max_releases", "json_max_depth"});
  auto u = [&](const char* key, uint64_t& v, int64_t min, int64_t max) {
    v = static_cast<uint64_t>(r.integer(n, p, key, static_cast<int64_t>(v), min, max));
  };
  constexpr int64_t kMaxBytes = 1LL << 32;
  u("yaml_max_bytes", l.yaml.max_bytes, 1024, kMaxBytes);
  u("yaml_max_documents", l.yaml.max_documents, 1, 10'000'000);
  u("yaml_max_depth", l.yaml.max_depth, 8, 10'000);
  u("yaml_max_nodes", l.yaml.max_nodes, 1000, 1'000'000'000);
  u("rendered_max_bytes", l.rendered.max_bytes, 1024, kMaxBytes);
  u("rendered_max_documents", l.rendered.max_documents, 1, 10'000'000);
  u("rendered_max_depth", l.rendered.max_depth, 8, 10'000);
  u("rendered_max_nodes", l.rendered.max_nodes, 1000, 1'000'000'000);
  u("max_files", l.max_files, 1, 100'000'000);
  u("max_releases", l.max_releases, 1, 10'000'000);
  u("json_max_depth", l.json_max_depth, 8, 100'000);
}

void read_queue(const Reader& r, const YAML::Node& n, QueueSettings& q) {
  const std::string p = "queue";
  r.expect_map(n, p, {"key_prefix", "visibility_timeout", "max_attempts", "backoff_base", "backoff_max", "retention",
                      "dedupe_ttl"});
  q.key_prefix = r.str(n, p, "key_prefix", q.key_prefix);
  if (q.key_prefix.empty() || q.key_prefix.find_first_of("{}") != std::string::npos) {
    r.fail(n["key_prefix"], p + ".key_prefix", "must be non-empty and contain no braces (they form the hash tag)");
  }
  q.visibility_timeout = r.duration(n, p, "visibility_timeout", q.visibility_timeout);
  q.max_attempts = static_cast<int>(r.integer(n, p, "max_attempts", q.max_attempts, 1, 100));
  q.backoff_base = r.duration(n, p, "backoff_base", q.backoff_base);
  q.backoff_max = r.duration(n, p, "backoff_max", q.backoff_max);
  q.retention = std::chrono::duration_cast<std::chrono::seconds>(r.duration(n, p, "retention", q.retention));
  q.dedupe_ttl = std::chrono::duration_cast<std::chrono::seconds>(r.duration(n, p, "dedupe_ttl", q.dedupe_ttl));
}

void read_forge(const Reader& r, const YAML::Node& n, const std::string& p, Forge& f, Use use) {
  r.expect_map(n, p, {"name", "kind", "api_url", "webhook_secret_env", "token_env", "github_app"});
  auto kind = r.str(n, p, "kind", "", true);
  if (!core::parse_forge_kind(kind, f.kind)) {
    r.fail(n["kind"], p + ".kind", "must be " + core::forge_kind_names() + " (got '" + kind + "')");
  }
  const core::ForgeKindInfo& info = core::forge_kind_info(f.kind);
  f.name = r.str(n, p, "name", kind);
  for (char c : f.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      r.fail(n["name"], p + ".name", "may contain only letters, digits, '-' and '_' (it is part of the webhook URL)");
    }
  }
  f.api_url = r.str(n, p, "api_url", std::string(info.default_api_url));
  if (f.api_url.empty()) {
    r.fail(n, p + ".api_url", "is required for a " + std::string(info.name) + " forge (e.g. " +
                                  std::string(info.api_url_example) + ")");
  }
  f.webhook_secret_env = r.str(n, p, "webhook_secret_env", "", use == Use::server);
  if (!(use == Use::preview && f.webhook_secret_env.empty()) && !valid_env_name(f.webhook_secret_env)) {
    r.fail(n["webhook_secret_env"], p + ".webhook_secret_env", "must be an environment variable name");
  }
  f.token_env = r.str(n, p, "token_env", "");
  if (!f.token_env.empty() && !valid_env_name(f.token_env)) {
    r.fail(n["token_env"], p + ".token_env", "must be an environment variable name");
  }
  if (YAML::Node app = n["github_app"]) {
    const std::string ap = p + ".github_app";
    if (!info.github_app) r.fail(app, ap, "is only for a github forge");
    if (!f.token_env.empty()) r.fail(app, ap, "use either token_env or github_app, not both");
    r.expect_map(app, ap, {"app_id", "installation_id", "private_key_env"});
    GitHubAppConfig g;
    g.app_id = r.str(app, ap, "app_id", "", true);
    g.installation_id = r.integer(app, ap, "installation_id", 0, 1, INT64_MAX);
    if (!app["installation_id"]) r.fail(app, ap + ".installation_id", "is required");
    g.private_key_env = r.str(app, ap, "private_key_env", "", true);
    if (!valid_env_name(g.private_key_env)) {
      r.fail(app["private_key_env"], ap + ".private_key_env", "must be an environment variable name");
    }
    f.github_app = std::move(g);
  }
}

void read_cluster(const Reader& r, const YAML::Node& n, const std::string& p, Cluster& c) {
  r.expect_map(n, p, {"name", "paths", "kubeconfig", "kubeconfig_env", "kube_version", "auto_apply", "prune", "requires",
                       "allow_pr_apply", "preview_kubeconfig", "preview_kubeconfig_env", "allow_insecure_tls"});
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
}

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

void read_repo(const Reader& r, const YAML::Node& n, const std::string& p, Repo& repo, const core::EgressPolicy& egress,
               Use use) {
  r.expect_map(n, p, {"name", "url", "token_env", "username", "forge", "deploy_branch", "clusters", "sensitive_values",
                  "egress", "flux_strict_substitution", "helm_operator_charts_path", "sources"});
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
  repo.egress = egress;
  if (YAML::Node e = n["egress"]) read_egress(r, e, p + ".egress", repo.egress);
  if (!repo.url.empty()) repo.egress.trusted.push_back(repo.url);
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

void read_render(const Reader& r, const YAML::Node& n, RenderSettings& s) {
  r.expect_map(n, "render", {"sandbox", "memory_limit_mib", "cpu_limit_seconds"});
  if (YAML::Node sb = n["sandbox"]) {
    std::string v = sb.IsScalar() ? sb.Scalar() : "";
    // true/false too: YAML 1.1 tools (Helm's toYaml) turn on/off into booleans.
    if (v != "on" && v != "off" && v != "true" && v != "false") r.fail(sb, "render.sandbox", "must be on or off");
    s.sandbox = v == "on" || v == "true";
  }
  s.memory_limit_mib = static_cast<uint64_t>(r.integer(n, "render", "memory_limit_mib",
                                                       static_cast<int64_t>(s.memory_limit_mib), 1024, 1 << 20));
  s.cpu_limit_seconds = static_cast<uint64_t>(r.integer(n, "render", "cpu_limit_seconds",
                                                        static_cast<int64_t>(s.cpu_limit_seconds), 1, 86400));
}

Config parse(const YAML::Node& root, const std::string& source, Use use) {
  Reader r(source);
  Config cfg;
  cfg.source = source;
  if (!root || root.IsNull()) return cfg;  // an empty file means all defaults
  r.expect_map(root, "", {"server", "redis", "queue", "workers", "api", "log", "forges", "repos", "egress", "limits",
                          "render"});
  if (YAML::Node n = root["server"]) read_server(r, n, cfg.server);
  if (YAML::Node n = root["limits"]) read_limits(r, n, cfg.limits);
  if (YAML::Node n = root["redis"]) {
    r.expect_map(n, "redis", {"url", "url_env"});
    cfg.redis_url = r.str(n, "redis", "url", cfg.redis_url);
    cfg.redis_url_env = r.str(n, "redis", "url_env", "");
    if (cfg.redis_url.find('@') != std::string::npos) {
      r.fail(n["url"], "redis.url", "must not contain a password; put the whole URL in an environment variable and "
                                    "name it in redis.url_env");
    }
  }
  if (YAML::Node n = root["queue"]) read_queue(r, n, cfg.queue);
  cfg.workers = static_cast<int>(r.integer(root, "", "workers", cfg.workers, 0, 256));
  if (YAML::Node n = root["api"]) {
    r.expect_map(n, "api", {"token_env"});
    cfg.api_token_env = r.str(n, "api", "token_env", cfg.api_token_env);
    if (!valid_env_name(cfg.api_token_env)) r.fail(n["token_env"], "api.token_env", "must be an environment variable name");
  }
  if (YAML::Node n = root["log"]) {
    r.expect_map(n, "log", {"level", "format"});
    cfg.log_level = r.str(n, "log", "level", cfg.log_level);
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (levels.count(cfg.log_level) == 0) r.fail(n["level"], "log.level", "must be one of trace, debug, info, warn, error");
    cfg.log_format = r.str(n, "log", "format", cfg.log_format);
    if (cfg.log_format != "text" && cfg.log_format != "json") r.fail(n["format"], "log.format", "must be text or json");
  }
  if (YAML::Node n = root["render"]) read_render(r, n, cfg.render);
  if (YAML::Node fs = root["forges"]) {
    if (!fs.IsSequence()) r.fail(fs, "forges", "must be a list");
    for (size_t i = 0; i < fs.size(); ++i) {
      Forge f;
      std::string fp = "forges[" + std::to_string(i) + "]";
      read_forge(r, fs[i], fp, f, use);
      if (cfg.find_forge(f.name) != nullptr) r.fail(fs[i], fp + ".name", "duplicate forge name '" + f.name + "'");
      cfg.forges.push_back(std::move(f));
    }
  }
  if (YAML::Node n = root["egress"]) read_egress(r, n, "egress", cfg.egress);
  if (YAML::Node rs = root["repos"]) {
    if (!rs.IsSequence()) r.fail(rs, "repos", "must be a list");
    for (size_t i = 0; i < rs.size(); ++i) {
      Repo repo;
      std::string rp = "repos[" + std::to_string(i) + "]";
      read_repo(r, rs[i], rp, repo, cfg.egress, use);
      if (!(use == Use::preview && repo.forge.empty()) && cfg.find_forge(repo.forge) == nullptr) {
        r.fail(rs[i]["forge"], rp + ".forge", "names unknown forge '" + repo.forge + "' (define it under forges)");
      }
      cfg.repos.push_back(std::move(repo));
    }
  }
  return cfg;
}

std::string env_or_empty(const std::string& name) {
  const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

const Forge* Config::find_forge(std::string_view name) const {
  for (const auto& f : forges) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Repo* Config::find_repo(std::string_view forge, std::string_view full_name) const {
  for (const auto& r : repos) {
    if (r.forge == forge && r.name == full_name) return &r;
  }
  return nullptr;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    if (n > (1ULL << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view unit = text.substr(i);
  uint64_t ms = 0;
  if (unit.empty() || unit == "s") {
    ms = n * 1000;
  } else if (unit == "ms") {
    ms = n;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else if (unit == "d") {
    ms = n * 86'400'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(ms);
}

Config load_string(const std::string& yaml, const std::string& source_name, Use use) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  return parse(root, source_name, use);
}

Config load_file(const std::string& path, Use use) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), path, use);
}

std::string fetch_url(const Repo& repo) {
  if (repo.token.empty()) return repo.url;
  size_t scheme = repo.url.find("://");
  if (scheme == std::string::npos) return repo.url;
  // Percent-encode what would end the userinfo early.
  std::string tok;
  for (unsigned char c : repo.token) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      tok += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      tok += '%';
      tok += hex[c >> 4];
      tok += hex[c & 15];
    }
  }
  return repo.url.substr(0, scheme + 3) + repo.username + ":" + tok + "@" + repo.url.substr(scheme + 3);
}

void resolve_secrets(Config& cfg, SecretNeeds needs) {
  auto need = [&](const std::string& key, const std::string& var) -> std::string {
    std::string v = env_or_empty(var);
    if (v.empty()) {
      throw ConfigError(cfg.source + ": " + key + ": environment variable " + var +
                        " is not set (it must hold the secret; the file never does)");
    }
    return v;
  };
  for (size_t i = 0; i < cfg.forges.size(); ++i) {
    auto& f = cfg.forges[i];
    std::string p = "forges[" + std::to_string(i) + "]";
    if (needs.webhook_secrets) f.webhook_secret = need(p + ".webhook_secret_env", f.webhook_secret_env);
    if (!f.token_env.empty()) {
      f.token = needs.forge_tokens ? need(p + ".token_env", f.token_env) : env_or_empty(f.token_env);
    }
    if (f.github_app) {
      const auto& var = f.github_app->private_key_env;
      f.github_app->private_key = needs.forge_tokens ? need(p + ".github_app.private_key_env", var) : env_or_empty(var);
    }
  }
  for (size_t i = 0; i < cfg.repos.size(); ++i) {
    auto& r = cfg.repos[i];
    if (r.token_env.empty()) continue;
    r.token = needs.forge_tokens ? need("repos[" + std::to_string(i) + "].token_env", r.token_env) : env_or_empty(r.token_env);
  }
  if (needs.api_token) cfg.api_token = need("api.token_env", cfg.api_token_env);
  if (!cfg.redis_url_env.empty()) cfg.redis_url = need("redis.url_env", cfg.redis_url_env);
}

}  // namespace helmgate::config
