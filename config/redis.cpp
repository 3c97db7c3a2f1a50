#include "config/redis.hpp"

#include <cctype>
#include <charconv>

namespace helmgate::config::detail {
namespace {

// "host:port" or "[v6]:port"; the port is required (a cluster or a sentinel has no obvious default).
bool valid_address(const std::string& a) {
  std::string_view s(a);
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = s.substr(0, colon);
  std::string_view port = s.substr(colon + 1);
  if (host.starts_with('[') != host.ends_with(']')) return false;
  if (!host.starts_with('[') && host.find(':') != std::string_view::npos) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;
  }
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  return ec == std::errc() && end == port.data() + port.size() && p >= 1 && p <= 65535;
}

bool valid_master(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

std::string addresses(const Reader& r, const YAML::Node& n, const std::string& p, const char* key) {
  if (!n[key]) r.fail(n, p + "." + key, "is required: a list of host:port");
  auto list = r.strings(n, p, key);
  if (list.empty()) r.fail(n[key], p + "." + key, "must name at least one host:port");
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!valid_address(list[i])) {
      r.fail(n[key][i], p + "." + key + "[" + std::to_string(i) + "]",
             "must be host:port (got '" + list[i] + "'); IPv6 as [addr]:port");
    }
    out += (i ? "," : "") + list[i];
  }
  return out;
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

void read_redis(const Reader& r, const YAML::Node& n, Config& cfg) {
  r.expect_map(n, "redis", {"url", "url_env", "cluster", "sentinel", "password_env"});
  cfg.redis_url = r.str(n, "redis", "url", cfg.redis_url);
  cfg.redis_url_env = r.str(n, "redis", "url_env", "");
  if (cfg.redis_url.find('@') != std::string::npos) {
    r.fail(n["url"], "redis.url", "must not contain a password; put the whole URL in an environment variable and "
                                  "name it in redis.url_env");
  }
  int ways = (n["url"] ? 1 : 0) + (n["url_env"] ? 1 : 0) + (n["cluster"] ? 1 : 0) + (n["sentinel"] ? 1 : 0);
  if (ways > 1) {
    r.fail(n, "redis", "give one of url, url_env, cluster or sentinel (they are different ways to reach Redis)");
  }
  if (YAML::Node c = n["cluster"]) {
    r.expect_map(c, "redis.cluster", {"nodes"});
    cfg.redis_url = "redis+cluster://" + addresses(r, c, "redis.cluster", "nodes");
  }
  if (YAML::Node s = n["sentinel"]) {
    r.expect_map(s, "redis.sentinel", {"addresses", "master", "db"});
    std::string list = addresses(r, s, "redis.sentinel", "addresses");
    std::string master = r.str(s, "redis.sentinel", "master", "", true);
    if (!valid_master(master)) {
      r.fail(s["master"], "redis.sentinel.master",
             "must be the name the sentinels monitor the primary under (letters, digits, '.', '-', '_')");
    }
    int64_t db = r.integer(s, "redis.sentinel", "db", 0, 0, 1'000'000);
    cfg.redis_url = "redis+sentinel://" + list + "/" + master + (db != 0 ? "/" + std::to_string(db) : "");
  }
  cfg.redis_password_env = r.str(n, "redis", "password_env", "");
  if (!cfg.redis_password_env.empty()) {
    if (!n["cluster"] && !n["sentinel"]) {
      r.fail(n["password_env"], "redis.password_env",
             "is for redis.cluster and redis.sentinel; with one server put the whole URL in redis.url_env");
    }
    if (!valid_env_name(cfg.redis_password_env)) {
      r.fail(n["password_env"], "redis.password_env", "must be an environment variable name");
    }
  }
}

void resolve_redis(Config& cfg, const std::function<std::string(const std::string&, const std::string&)>& need) {
  if (!cfg.redis_url_env.empty()) cfg.redis_url = need("redis.url_env", cfg.redis_url_env);
  if (!cfg.redis_password_env.empty()) {
    std::string pw = need("redis.password_env", cfg.redis_password_env);
    auto scheme_end = cfg.redis_url.find("://");
    if (scheme_end != std::string::npos) {
      cfg.redis_url.insert(scheme_end + 3, ":" + percent_encode(pw) + "@");
    }
  }
}

}  // namespace helmgate::config::detail
