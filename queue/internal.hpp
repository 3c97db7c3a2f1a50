#pragma once
// Shared by the queue's translation units: key names, the embedded Lua scripts and how to run them,
// and the encoding of job records. Not part of the public interface.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue/queue.hpp"
#include "queue/redis.hpp"

namespace helmgate::queue::detail {

// Every key lives under the hash tag "{prefix}" so a script's keys share one Cluster slot.
struct Keys {
  explicit Keys(std::string_view prefix);
  std::string tag;  // "{prefix}"
  std::string wait, delayed, leases, dead, index, counts, duration, expiring, workers, seq;

  // KEYS[1..10] of every script, in the order lua/common.lua expects.
  std::vector<std::string> fixed() const;
  std::string job(std::string_view id) const { return tag + ":job:" + std::string(id); }
  std::string log(std::string_view id) const { return tag + ":log:" + std::string(id); }
  std::string fetched(std::string_view fetcher) const { return tag + ":fetched:" + std::string(fetcher); }
  std::string dedupe(std::string_view delivery) const { return tag + ":dedupe:" + std::string(delivery); }
  std::string coalesce(std::string_view key) const { return tag + ":coalesce:" + std::string(key); }
};

enum class ScriptId { enqueue, claim, heartbeat, complete, fail, reap, release };

struct Script {
  std::string_view name;
  std::string_view source;
  std::string sha;  // hex SHA1 of source, what EVALSHA wants
};
const Script& script(ScriptId id);

// ARGV[1..2] of every script.
std::vector<std::string> base_args(const Keys& keys, const Options& opts);

// {"EVALSHA", sha, numkeys, keys..., args...}
std::vector<std::string> evalsha_argv(const Script& s, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args);
bool is_noscript(const redisReply* r);
bool is_noscript(const core::Error& e);
core::Result<void> load_script(Redis& redis, const Script& s);
// EVALSHA; after a Redis restart (NOSCRIPT) loads the script and retries, and falls back to EVAL
// when the server refuses SCRIPT LOAD.
core::Result<ReplyPtr> run_script(Redis& redis, ScriptId id, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

// The keys and values of one call of the enqueue script (lua/enqueue.lua), for any number of
// deliveries: one call for a batch saves Redis the per-call work of each.
struct EnqueueCall {
  EnqueueCall(const Keys& names, const Options& opts);
  // Adds one delivery's jobs; a job without a kind refuses the delivery and adds nothing.
  core::Result<void> add(std::span<const core::JobSpec> jobs, std::string_view dedupe_id);
  const Keys& names;  // how the queue's keys are spelled (outlives the call)
  std::vector<std::string> keys, args;
  size_t deliveries = 0;
};
// One outcome per delivery, in the order they were added; an error reply is every delivery's error.
std::vector<core::Result<EnqueueOutcome>> parse_enqueue_replies(const redisReply* r, size_t deliveries);

// A job hash as HGETALL returns it (flat field/value array).
core::Result<JobRecord> parse_job_hash(const redisReply* r, std::string_view id);

// queue.durability replicated: WAIT until a replica has every write of this connection, or fail
// with errc::unavailable (nothing is acknowledged that only the primary holds).
core::Result<void> await_replica(Redis& redis, const Options& opts);
core::Error no_replica_error(const Options& opts, int64_t acked);

std::string reply_string(const redisReply* r);
std::vector<std::string> split_csv(std::string_view s);
std::string random_token();

}  // namespace helmgate::queue::detail
