#include "queue/fleet_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace helmgate::queue {

const char* fleet_kind_name(FleetKind k) {
  switch (k) {
    case FleetKind::drift: return "drift";
    case FleetKind::inventory: return "inventory";
  }
  return "drift";
}

FleetStore::FleetStore(RedisUrl url, std::string key_prefix) : redis_(url.for_prefix(key_prefix)), prefix_(std::move(key_prefix)) {}

std::string FleetStore::key(const char* what) const { return "{" + prefix_ + "}:fleet:" + what; }

// One hash per kind: field <cluster> holds the JSON, field <cluster>@at the time it was stored, written together.
core::Result<void> FleetStore::put(FleetKind kind, const std::string& cluster, const std::string& json, int64_t at_ms) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HSET", key(fleet_kind_name(kind)), cluster, json, cluster + "@at", std::to_string(at_ms)});
  if (!r) return r.error();
  return {};
}

core::Result<std::optional<FleetEntry>> FleetStore::get(FleetKind kind, const std::string& cluster) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HMGET", key(fleet_kind_name(kind)), cluster, cluster + "@at"});
  if (!r) return r.error();
  const redisReply* rep = r->get();
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING) {
    return std::optional<FleetEntry>();
  }
  FleetEntry e{cluster, std::string(rep->element[0]->str, rep->element[0]->len), 0};
  if (rep->element[1]->type == REDIS_REPLY_STRING) e.at_ms = std::atoll(rep->element[1]->str);
  return std::optional<FleetEntry>(std::move(e));
}

core::Result<std::vector<FleetEntry>> FleetStore::all(FleetKind kind) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HGETALL", key(fleet_kind_name(kind))});
  if (!r) return r.error();
  const redisReply* rep = r->get();
  std::vector<FleetEntry> out;
  std::vector<std::pair<std::string, int64_t>> times;
  if (rep->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    std::string field(rep->element[i]->str, rep->element[i]->len);
    std::string value(rep->element[i + 1]->str, rep->element[i + 1]->len);
    if (field.size() > 3 && field.ends_with("@at")) {
      times.emplace_back(field.substr(0, field.size() - 3), std::atoll(value.c_str()));
    } else {
      out.push_back(FleetEntry{field, std::move(value), 0});
    }
  }
  for (auto& e : out) {
    for (const auto& [c, at] : times) {
      if (c == e.cluster) e.at_ms = at;
    }
  }
  std::sort(out.begin(), out.end(), [](const FleetEntry& a, const FleetEntry& b) { return a.cluster < b.cluster; });
  return out;
}

core::Result<bool> FleetStore::take_scan(const std::string& cluster, const std::string& owner,
                                         std::chrono::milliseconds interval) {
  std::lock_guard lock(mu_);
  auto r = redis_.command(
      {"SET", key("scan") + ":" + cluster, owner, "NX", "PX", std::to_string(std::max<int64_t>(1, interval.count()))});
  if (!r) return r.error();
  return (*r)->type == REDIS_REPLY_STATUS;
}

namespace {
constexpr int64_t kHourMs = 3600 * 1000;
// KEYS[1] the cluster's sorted set (score: when); ARGV: now, wanted, max, a unique member stem.
constexpr const char* kReserve = R"(
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
local n = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]))
if n < 0 then n = 0 end
for i = 1, n do redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], 3600000)
return n
)";
}  // namespace

core::Result<int> FleetStore::reserve_remediations(const std::string& cluster, int wanted, int max_per_hour, int64_t now_ms) {
  if (wanted <= 0) return 0;
  std::lock_guard lock(mu_);
  static std::atomic<uint64_t> seq{0};
  std::string member = std::to_string(now_ms) + ":" + std::to_string(::getpid()) + ":" + std::to_string(seq++);
  auto r = redis_.command({"EVAL", kReserve, "1", key("remediations") + ":" + cluster, std::to_string(now_ms),
                           std::to_string(wanted), std::to_string(max_per_hour), member});
  if (!r) return r.error();
  return (*r)->type == REDIS_REPLY_INTEGER ? static_cast<int>((*r)->integer) : 0;
}

core::Result<int> FleetStore::remediations_last_hour(const std::string& cluster, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"ZCOUNT", key("remediations") + ":" + cluster, std::to_string(now_ms - kHourMs + 1), "+inf"});
  if (!r) return r.error();
  return (*r)->type == REDIS_REPLY_INTEGER ? static_cast<int>((*r)->integer) : 0;
}

}  // namespace helmgate::queue
