#pragma once
// The `redis:` section: one server (url / url_env), a Redis Cluster (cluster.nodes) or a primary
// found through Sentinel (sentinel.addresses + sentinel.master). The latter two become the URL forms
// redis+cluster://... and redis+sentinel://.../<master> that queue/redis.hpp connects with; their
// password comes only from the environment variable named in password_env.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

#include "config/config.hpp"
#include "config/reader.hpp"

namespace helmgate::config::detail {

void read_redis(const Reader& r, const YAML::Node& n, Config& cfg);
// After the environment is read: the URL from url_env, or the password from password_env put into
// the URL (percent-encoded). need(key, var) returns the variable's value or throws.
void resolve_redis(Config& cfg, const std::function<std::string(const std::string&, const std::string&)>& need);

}  // namespace helmgate::config::detail
