#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdint>
#include <set>

#include "config/reader.hpp"
#include "config/redis.hpp"
#include "config/repos.hpp"
#include "config/sops.hpp"
#include "config/ui.hpp"
#include "core/env.hpp"
#include "core/files.hpp"

namespace helmgate::config {
namespace {

using detail::Reader;
using detail::read_egress;
using detail::read_repo;
using detail::valid_env_name;

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
                      "dedupe_ttl", "durability", "replica_timeout"});
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
  std::string durability = r.str(n, p, "durability", "local");
  if (durability != "local" && durability != "replicated") {
    r.fail(n["durability"], p + ".durability",
           "must be local (acknowledged once the primary has the job) or replicated (once a replica has it too); "
           "got '" + durability + "'");
  }
  q.replicated = durability == "replicated";
  q.replica_timeout = r.duration(n, p, "replica_timeout", q.replica_timeout);
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
                          "render", "ui", "sops"});
  if (YAML::Node n = root["server"]) read_server(r, n, cfg.server);
  if (YAML::Node n = root["limits"]) read_limits(r, n, cfg.limits);
  if (YAML::Node n = root["redis"]) {
    detail::read_redis(r, n, cfg);
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
  if (YAML::Node n = root["ui"]) detail::read_ui(r, n, cfg.ui);
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
  if (YAML::Node n = root["sops"]) detail::read_sops(r, n, "sops", cfg.sops);
  if (YAML::Node rs = root["repos"]) {
    if (!rs.IsSequence()) r.fail(rs, "repos", "must be a list");
    for (size_t i = 0; i < rs.size(); ++i) {
      Repo repo;
      std::string rp = "repos[" + std::to_string(i) + "]";
      repo.sops = cfg.sops;
      read_repo(r, rs[i], rp, repo, cfg.egress, use);
      if (!(use == Use::preview && repo.forge.empty()) && cfg.find_forge(repo.forge) == nullptr) {
        r.fail(rs[i]["forge"], rp + ".forge", "names unknown forge '" + repo.forge + "' (define it under forges)");
      }
      cfg.repos.push_back(std::move(repo));
    }
  }
  return cfg;
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
  auto text = core::read_file(path);
  if (!text) throw ConfigError(path + ": cannot read the configuration file");
  return load_string(*text, path, use);
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
    std::string v = core::env_or(var);
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
      f.token = needs.forge_tokens ? need(p + ".token_env", f.token_env) : core::env_or(f.token_env);
    }
    if (f.github_app) {
      const auto& var = f.github_app->private_key_env;
      f.github_app->private_key = needs.forge_tokens ? need(p + ".github_app.private_key_env", var) : core::env_or(var);
    }
  }
  for (size_t i = 0; i < cfg.repos.size(); ++i) {
    auto& r = cfg.repos[i];
    if (r.token_env.empty()) continue;
    r.token = needs.forge_tokens ? need("repos[" + std::to_string(i) + "].token_env", r.token_env) : core::env_or(r.token_env);
  }
  if (needs.api_token) cfg.api_token = need("api.token_env", cfg.api_token_env);
  detail::resolve_redis(cfg, need);
  if (needs.api_token) detail::resolve_ui_token(cfg);
}

}  // namespace helmgate::config
