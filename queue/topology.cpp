// Where the connection of a Redis object goes in cluster and sentinel mode (see redis.hpp).
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdint>

#include "queue/redis.hpp"

namespace helmgate::queue {
namespace {

using core::errc;
using core::Error;

// Asking a sentinel or a seed must not take the whole command timeout when one of them is down.
constexpr std::chrono::milliseconds discovery_timeout{1000};

core::Result<ReplyPtr> run(redisContext* c, const RedisNode& n, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
  if (!r) {
    return Error(errc::unavailable, "Redis at " + n.display() + ": " + argv.front() +
                                        " failed: " + (c->err != 0 ? c->errstr : "connection lost"));
  }
  if (r->type == REDIS_REPLY_ERROR) {
    return Error(errc::unavailable,
                 "Redis at " + n.display() + " rejected " + argv.front() + ": " + std::string(r->str, r->len));
  }
  return r;
}

std::string text(const redisReply* r) {
  if (r == nullptr || r->str == nullptr) return {};
  return std::string(r->str, r->len);
}

}  // namespace

int cluster_slot(std::string_view key) {
  // Only the part inside the first non-empty {...} is hashed (the hash tag).
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  uint16_t crc = 0;  // CRC16/XMODEM: polynomial 0x1021, initial value 0
  for (char ch : key) {
    crc ^= static_cast<uint16_t>(static_cast<uint8_t>(ch) << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc % 16384;
}

core::Result<ReplyPtr> Redis::ask(const redisReply* r, const std::vector<std::string>& argv) {
  // "ASK <slot> <host>:<port>" during a slot migration: this one command goes to the importing node,
  // preceded by ASKING; the connection stays where it is.
  std::string_view msg(r->str, r->len);
  std::string_view addr = msg.substr(msg.rfind(' ') + 1);
  auto colon = addr.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), port).ec != std::errc()) {
    return error_from_reply(r, argv.front());
  }
  RedisNode n{std::string(addr.substr(0, colon)), port};
  auto c = open(n, timeout_ + block_, true);
  if (!c) return c.error();
  if (auto a = run(c->get(), n, {"ASKING"}); !a) return a.error();
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr out(static_cast<redisReply*>(
      redisCommandArgv(c->get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
  if (!out) return Error(errc::unavailable, "Redis at " + n.display() + " lost the connection during " + argv.front());
  if (out->type == REDIS_REPLY_ERROR) return error_from_reply(out.get(), argv.front());
  return out;
}

core::Result<ContextPtr> Redis::discover_sentinel() {
  std::string last_error = "no sentinel configured";
  const size_t n = url_.nodes.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_seed_ + k) % n;
    const RedisNode& s = url_.nodes[i];
    auto c = open(s, std::min(timeout_, discovery_timeout), false);
    if (!c) {
      last_error = c.error().message;
      continue;
    }
    if (!url_.password.empty()) {
      // A sentinel with its own requirepass takes the same password; one without it refuses AUTH,
      // which is fine.
      std::vector<std::string> auth{"AUTH"};
      if (!url_.username.empty()) auth.push_back(url_.username);
      auth.push_back(url_.password);
      (void)run(c->get(), s, auth);
    }
    auto addr = run(c->get(), s, {"SENTINEL", "get-master-addr-by-name", url_.master});
    if (!addr) {
      last_error = addr.error().message;
      continue;
    }
    const redisReply* a = addr->get();
    if (a->type != REDIS_REPLY_ARRAY || a->elements != 2) {
      last_error = "sentinel " + s.display() + " does not monitor a primary named \"" + url_.master + "\"";
      continue;
    }
    RedisNode primary{text(a->element[0]), 0};
    try {
      primary.port = std::stoi(text(a->element[1]));
    } catch (const std::exception&) {
      last_error = "sentinel " + s.display() + " answered a bad port for \"" + url_.master + "\"";
      continue;
    }
    auto data = open(primary, timeout_, true);
    if (!data) {
      last_error = data.error().message + " (the primary \"" + url_.master + "\" according to sentinel " +
                   s.display() + ")";
      continue;
    }
    // The sentinels may still name a primary that has just been demoted: never write to a replica.
    auto role = run(data->get(), primary, {"ROLE"});
    if (!role) return role.error();
    const redisReply* r = role->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || text(r->element[0]) != "master") {
      return Error(errc::unavailable, "Redis at " + primary.display() + ", named primary \"" + url_.master +
                                          "\" by sentinel " + s.display() +
                                          ", is not a primary (ROLE " + text(r->elements ? r->element[0] : nullptr) +
                                          "): a failover is under way; try again shortly");
    }
    next_seed_ = i;
    if (!(node_ == primary)) {
      if (!node_.host.empty()) spdlog::info("redis: primary \"{}\" is now {}", url_.master, primary.display());
      node_ = primary;
    }
    return std::move(data.value());
  }
  return Error(errc::unavailable, "no sentinel of " + url_.display() + " named a reachable primary: " + last_error);
}

core::Result<ContextPtr> Redis::discover_cluster() {
  if (moved_to_) {
    RedisNode target = *moved_to_;
    moved_to_.reset();
    auto c = open(target, timeout_, true);
    if (c) {
      node_ = target;
      return c;
    }
  }
  const int slot = cluster_slot(url_.route_key);
  std::vector<RedisNode> candidates;
  if (!node_.host.empty()) candidates.push_back(node_);  // the last owner first
  for (const auto& seed : url_.nodes) candidates.push_back(seed);
  std::string last_error = "no seed node configured";
  for (size_t k = 0; k < candidates.size(); ++k) {
    const RedisNode& cand = candidates[k];
    auto c = open(cand, std::min(timeout_, discovery_timeout), true);
    if (!c) {
      last_error = c.error().message;
      continue;
    }
    auto slots = run(c->get(), cand, {"CLUSTER", "SLOTS"});
    if (!slots) {
      last_error = slots.error().message + " (is it a Redis Cluster node?)";
      continue;
    }
    std::optional<RedisNode> owner;
    const redisReply* arr = slots->get();
    for (size_t i = 0; arr->type == REDIS_REPLY_ARRAY && i < arr->elements && !owner; ++i) {
      const redisReply* range = arr->element[i];
      if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
      if (range->element[0]->integer > slot || range->element[1]->integer < slot) continue;
      const redisReply* primary = range->element[2];
      if (primary->type != REDIS_REPLY_ARRAY || primary->elements < 2) continue;
      std::string host = text(primary->element[0]);
      owner = RedisNode{host.empty() || host == "?" ? cand.host : host, static_cast<int>(primary->element[1]->integer)};
    }
    if (!owner) {
      last_error = "Redis Cluster node " + cand.display() + " knows no primary for slot " + std::to_string(slot) +
                   " (key " + url_.route_key + "); is the cluster fully set up (redis-cli --cluster create)?";
      continue;
    }
    if (*owner == cand) {  // ensure_connected() sets the full timeout
      node_ = cand;
      return std::move(c.value());
    }
    auto data = open(*owner, timeout_, true);
    if (!data) {
      last_error = data.error().message + " (owner of slot " + std::to_string(slot) + " according to " +
                   cand.display() + ")";
      continue;
    }
    node_ = *owner;
    return std::move(data.value());
  }
  return Error(errc::unavailable, "no node of the Redis Cluster " + url_.display() + " led to the owner of " +
                                      url_.route_key + ": " + last_error);
}

}  // namespace helmgate::queue
