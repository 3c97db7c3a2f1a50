#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <random>

#include "queue/internal.hpp"
#include "queue/lua_scripts.hpp"

namespace helmgate::queue::detail {
namespace {

using core::errc;
using core::Error;

std::string sha1_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha1(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 0xf]);
  }
  return out;
}

int64_t to_int(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

Keys::Keys(std::string_view prefix)
    : tag("{" + std::string(prefix) + "}"),
      wait(tag + ":wait"),
      delayed(tag + ":delayed"),
      leases(tag + ":leases"),
      dead(tag + ":dead"),
      index(tag + ":index"),
      counts(tag + ":counts"),
      duration(tag + ":duration"),
      expiring(tag + ":expiring"),
      workers(tag + ":workers"),
      seq(tag + ":seq") {}

std::vector<std::string> Keys::fixed() const {
  return {wait, delayed, leases, dead, index, counts, duration, expiring, workers, seq};
}

const Script& script(ScriptId id) {
  static const std::array<Script, 7> table = [] {
    auto make = [](std::string_view name, std::string_view src) { return Script{name, src, sha1_hex(src)}; };
    return std::array<Script, 7>{make("enqueue", lua::enqueue),     make("claim", lua::claim),
                                 make("heartbeat", lua::heartbeat), make("complete", lua::complete),
                                 make("fail", lua::fail),           make("reap", lua::reap),
                                 make("release", lua::release)};
  }();
  return table.at(static_cast<size_t>(id));
}

std::vector<std::string> base_args(const Keys& keys, const Options& opts) {
  return {keys.tag, std::to_string(std::max<int64_t>(1, opts.retention.count()))};
}

std::vector<std::string> evalsha_argv(const Script& s, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(s.sha);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

bool is_noscript(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR &&
         std::string_view(r->str, r->len).starts_with("NOSCRIPT");
}

bool is_noscript(const core::Error& e) {
  return e.message.find("NOSCRIPT") != std::string::npos;
}

core::Result<void> load_script(Redis& redis, const Script& s) {
  auto r = redis.command({"SCRIPT", "LOAD", std::string(s.source)});
  if (!r) return r.error();
  if (reply_string(r->get()) != s.sha) {
    return Error(errc::internal,
                 "Redis returned an unexpected SHA1 for the " + std::string(s.name) + " script");
  }
  return {};
}

core::Result<ReplyPtr> run_script(Redis& redis, ScriptId id, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args) {
  const Script& s = script(id);
  auto argv = evalsha_argv(s, keys, args);
  auto r = redis.command(argv);
  if (r || !is_noscript(r.error())) return r;
  // Scripts vanish when Redis restarts (or SCRIPT FLUSH): load it again. NOSCRIPT means nothing ran.
  auto loaded = load_script(redis, s);
  if (loaded) return redis.command(argv);
  if (loaded.error().code == make_error_code(errc::unavailable)) return loaded.error();
  argv[0] = "EVAL";
  argv[1] = std::string(s.source);
  return redis.command(argv);
}

EnqueueCall::EnqueueCall(const Keys& key_names, const Options& opts)
    : names(key_names), keys(key_names.fixed()), args(base_args(key_names, opts)) {
  args.push_back(std::to_string(std::max(1, opts.max_attempts)));
  args.push_back(std::to_string(std::max<int64_t>(1, opts.dedupe_ttl.count())));
  args.emplace_back("0");  // ARGV[5], the number of deliveries, kept up to date by add()
}

core::Result<void> EnqueueCall::add(std::span<const core::JobSpec> jobs, std::string_view dedupe_id) {
  for (const auto& spec : jobs) {
    if (spec.kind.empty()) return Error(errc::bad_request, "cannot enqueue a job without a kind");
  }
  keys.push_back(names.dedupe(dedupe_id));
  args.emplace_back(dedupe_id.empty() ? "0" : "1");
  args.push_back(std::to_string(jobs.size()));
  for (const auto& spec : jobs) {
    std::string ck = spec.coalesce_key();
    keys.push_back(names.coalesce(ck));
    args.push_back(spec.to_json());
    args.push_back(spec.kind);
    args.push_back(spec.head_sha);
    args.push_back(spec.replay_of);
    args.emplace_back(ck.empty() ? "0" : "1");
  }
  args[4] = std::to_string(++deliveries);
  return {};
}

std::vector<core::Result<EnqueueOutcome>> parse_enqueue_replies(const redisReply* r, size_t deliveries) {
  auto all = [&](const Error& e) {
    return std::vector<core::Result<EnqueueOutcome>>(deliveries, core::Result<EnqueueOutcome>(e));
  };
  if (r != nullptr && r->type == REDIS_REPLY_ERROR) return all(error_from_reply(r, "the enqueue script"));
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != deliveries) {
    return all(Error(errc::internal, "unexpected reply from the enqueue script"));
  }
  std::vector<core::Result<EnqueueOutcome>> out;
  out.reserve(deliveries);
  for (size_t i = 0; i < deliveries; ++i) {
    const redisReply* e = r->element[i];
    if (e == nullptr || e->type != REDIS_REPLY_ARRAY || e->elements != 3) {
      out.emplace_back(Error(errc::internal, "unexpected reply from the enqueue script"));
      continue;
    }
    EnqueueOutcome one;
    one.duplicate = e->element[0]->type == REDIS_REPLY_INTEGER && e->element[0]->integer == 1;
    one.ids = split_csv(reply_string(e->element[1]));
    one.superseded = split_csv(reply_string(e->element[2]));
    out.emplace_back(std::move(one));
  }
  return out;
}

core::Result<JobRecord> parse_job_hash(const redisReply* r, std::string_view id) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
    return Error(errc::internal, "unexpected reply for a job record");
  }
  JobRecord job;
  job.id = id;
  std::string spec;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    std::string k = reply_string(r->element[i]);
    std::string v = reply_string(r->element[i + 1]);
    if (k == "spec")
      spec = std::move(v);
    else if (k == "state")
      job.state = std::move(v);
    else if (k == "attempts")
      job.attempts = static_cast<int>(to_int(v));
    else if (k == "max_attempts")
      job.max_attempts = static_cast<int>(to_int(v));
    else if (k == "created_ms")
      job.created_ms = to_int(v);
    else if (k == "updated_ms")
      job.updated_ms = to_int(v);
    else if (k == "started_ms")
      job.started_ms = to_int(v);
    else if (k == "finished_ms")
      job.finished_ms = to_int(v);
    else if (k == "next_run_ms")
      job.next_run_ms = to_int(v);
    else if (k == "worker")
      job.worker = std::move(v);
    else if (k == "result")
      job.result = std::move(v);
    else if (k == "error")
      job.error = std::move(v);
    else if (k == "replay_of")
      job.replay_of = std::move(v);
    else if (k == "superseded_by")
      job.superseded_by = std::move(v);
  }
  // Every record has its spec from its creation on; a hash without one is a leftover, not a job.
  if (spec.empty()) return Error(errc::not_found, "job " + job.id + " has no record");
  if (job.updated_ms == 0) job.updated_ms = job.created_ms;  // not written at creation
  auto parsed = core::JobSpec::from_json(spec);
  if (!parsed)
    return Error(errc::internal, "job " + job.id + " has a corrupt spec: " + parsed.error().message);
  job.spec = std::move(parsed.value());
  return job;
}

core::Error no_replica_error(const Options& opts, int64_t acked) {
  return core::Error(core::errc::unavailable,
                     "no replica acknowledged the job within " + std::to_string(opts.replica_timeout.count()) +
                         " ms (queue.durability: replicated; " + std::to_string(acked) +
                         " replicas answered WAIT); it is not acknowledged, deliver it again");
}

core::Result<void> await_replica(Redis& redis, const Options& opts) {
  auto w = redis.wait_replicas(1, opts.replica_timeout);
  if (!w) return core::Error(w.error().code, "waiting for a replica: " + w.error().message);
  if (*w < 1) return no_replica_error(opts, *w);
  return {};
}

std::string reply_string(const redisReply* r) {
  if (r == nullptr) return {};
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    default:
      return {};
  }
}

std::vector<std::string> split_csv(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string random_token() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int j = 0; j < 16; ++j) {
      out.push_back(hex[v & 0xf]);
      v >>= 4;
    }
  }
  return out;
}

}  // namespace helmgate::queue::detail
