#include "queue/apply_state.hpp"

namespace helmgate::queue {

ApplyState::ApplyState(RedisUrl url, std::string key_prefix) : redis_(url.for_prefix(key_prefix)), prefix_(std::move(key_prefix)) {}

std::string ApplyState::key(const std::string& repo, const std::string& cluster, const char* what) const {
  return "{" + prefix_ + "}:apply:" + repo + ":" + cluster + ":" + what;
}

core::Result<std::optional<AppliedRecord>> ApplyState::last_applied(const std::string& repo, const std::string& cluster) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HGETALL", key(repo, cluster, "last")});
  if (!r) return r.error();
  const redisReply* rep = r->get();
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) return std::optional<AppliedRecord>();
  AppliedRecord rec;
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    std::string k(rep->element[i]->str, rep->element[i]->len);
    std::string v(rep->element[i + 1]->str, rep->element[i + 1]->len);
    if (k == "commit") rec.commit = v;
    if (k == "clean") rec.clean = v == "1";
    if (k == "job") rec.job = v;
    if (k == "at") rec.at_ms = std::atoll(v.c_str());
  }
  return std::optional<AppliedRecord>(rec);
}

core::Result<void> ApplyState::record_applied(const std::string& repo, const std::string& cluster, const AppliedRecord& rec) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HSET", key(repo, cluster, "last"), "commit", rec.commit, "clean", rec.clean ? "1" : "0", "job",
                           rec.job, "at", std::to_string(rec.at_ms)});
  if (!r) return r.error();
  return {};
}

core::Result<std::map<std::string, std::string>> ApplyState::digests(const std::string& repo, const std::string& cluster) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"HGETALL", key(repo, cluster, "digests")});
  if (!r) return r.error();
  std::map<std::string, std::string> out;
  const redisReply* rep = r->get();
  if (rep->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    out[std::string(rep->element[i]->str, rep->element[i]->len)] =
        std::string(rep->element[i + 1]->str, rep->element[i + 1]->len);
  }
  return out;
}

core::Result<void> ApplyState::set_digest(const std::string& repo, const std::string& cluster, const std::string& release_id,
                                          const std::string& digest) {
  std::lock_guard lock(mu_);
  auto r = digest.empty() ? redis_.command({"HDEL", key(repo, cluster, "digests"), release_id})
                          : redis_.command({"HSET", key(repo, cluster, "digests"), release_id, digest});
  if (!r) return r.error();
  return {};
}

core::Result<bool> ApplyState::try_lock(const std::string& repo, const std::string& cluster, const std::string& token,
                                        std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  auto r = redis_.command({"SET", key(repo, cluster, "lock"), token, "NX", "PX", std::to_string(ttl.count())});
  if (!r) return r.error();
  return (*r)->type == REDIS_REPLY_STATUS;
}

core::Result<bool> ApplyState::extend_lock(const std::string& repo, const std::string& cluster, const std::string& token,
                                           std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  static const char* script =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
  auto r = redis_.command({"EVAL", script, "1", key(repo, cluster, "lock"), token, std::to_string(ttl.count())});
  if (!r) return r.error();
  return (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1;
}

core::Result<void> ApplyState::unlock(const std::string& repo, const std::string& cluster, const std::string& token) {
  std::lock_guard lock(mu_);
  // Delete only our own lock: it may have expired and been taken by another worker meanwhile.
  static const char* script =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
  auto r = redis_.command({"EVAL", script, "1", key(repo, cluster, "lock"), token});
  if (!r) return r.error();
  return {};
}

}  // namespace helmgate::queue
