#include "queue/queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "queue/internal.hpp"

namespace helmgate::queue {
namespace {

using core::errc;
using core::Error;

// Upper bounds of the duration histogram. Keep in sync with BUCKETS_MS in lua/common.lua.
constexpr std::array<int64_t, 10> duration_buckets_ms{100,   500,   1000,  2000,   5000,
                                                     10000, 30000, 60000, 120000, 300000};

// How many index entries list() examines at most when filters reject most of them.
constexpr size_t list_scan_limit = 20000;
constexpr size_t list_page = 200;

int64_t to_int(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

bool matches(const JobRecord& job, const ListFilter& f) {
  return (f.state.empty() || job.state == f.state) && (f.kind.empty() || job.spec.kind == f.kind) &&
         (f.repo.empty() || job.spec.repo == f.repo);
}

}  // namespace

struct Queue::Impl {
  Impl(RedisUrl url, Options o) : opts(std::move(o)), keys(opts.key_prefix), redis(url.for_prefix(opts.key_prefix)) {}
  Options opts;
  detail::Keys keys;
  Redis redis;
};

Queue::Queue(RedisUrl url, Options opts) : impl_(std::make_unique<Impl>(std::move(url), std::move(opts))) {}
Queue::~Queue() = default;
Queue::Queue(Queue&&) noexcept = default;
Queue& Queue::operator=(Queue&&) noexcept = default;

const Options& Queue::options() const {
  return impl_->opts;
}

core::Result<EnqueueOutcome> Queue::enqueue(std::span<const core::JobSpec> jobs, std::string_view dedupe_id) {
  if (jobs.empty()) return EnqueueOutcome{};
  detail::EnqueueCall call(impl_->keys, impl_->opts);
  if (auto added = call.add(jobs, dedupe_id); !added) return added.error();
  auto r = detail::run_script(impl_->redis, detail::ScriptId::enqueue, call.keys, call.args);
  if (!r)
    return Error(r.error().code, "could not enqueue " + jobs.front().kind + " job: " + r.error().message);
  auto out = std::move(detail::parse_enqueue_replies(r->get(), 1).front());
  if (out && impl_->opts.durability == Options::Durability::replicated) {
    if (auto w = detail::await_replica(impl_->redis, impl_->opts); !w) return w.error();
  }
  if (out && !out->duplicate) {
    for (size_t i = 0; i < out->ids.size() && i < jobs.size(); ++i) {
      spdlog::debug("queue: enqueued job {} ({} {})", out->ids[i], jobs[i].kind, jobs[i].repo);
    }
    for (const auto& s : out->superseded) spdlog::info("queue: job {} superseded by a newer job", s);
  }
  return out;
}

core::Result<std::optional<JobRecord>> Queue::get(std::string_view id, bool with_log) {
  if (id.empty()) return std::optional<JobRecord>{};
  std::vector<std::vector<std::string>> cmds{{"HGETALL", impl_->keys.job(id)}};
  if (with_log) cmds.push_back({"LRANGE", impl_->keys.log(id), "0", "-1"});
  auto r = impl_->redis.pipeline(cmds);
  if (!r) return Error(r.error().code, "could not read job " + std::string(id) + ": " + r.error().message);
  const redisReply* h = (*r)[0].get();
  if (h->type == REDIS_REPLY_ERROR) return Error(errc::internal, "reading job: " + detail::reply_string(h));
  if (h->elements == 0) return std::optional<JobRecord>{};
  auto job = detail::parse_job_hash(h, id);
  if (!job) return job.error();
  if (with_log && (*r)[1]->type == REDIS_REPLY_ARRAY) {
    const redisReply* l = (*r)[1].get();
    for (size_t i = 0; i < l->elements; ++i) job->log.push_back(detail::reply_string(l->element[i]));
  }
  return std::optional<JobRecord>(std::move(job.value()));
}

core::Result<std::vector<JobRecord>> Queue::list(const ListFilter& filter) {
  std::vector<JobRecord> out;
  if (filter.limit == 0) return out;
  // Dead letters have their own index; everything else walks the main one, newest first.
  const std::string& source = filter.state == core::state::dead ? impl_->keys.dead : impl_->keys.index;
  for (size_t start = 0; start < list_scan_limit && out.size() < filter.limit; start += list_page) {
    auto ids = impl_->redis.command(
        {"ZREVRANGE", source, std::to_string(start), std::to_string(start + list_page - 1)});
    if (!ids) return Error(ids.error().code, "could not list jobs: " + ids.error().message);
    const redisReply* arr = ids->get();
    if (arr->type != REDIS_REPLY_ARRAY || arr->elements == 0) break;
    std::vector<std::vector<std::string>> cmds;
    cmds.reserve(arr->elements);
    for (size_t i = 0; i < arr->elements; ++i) {
      cmds.push_back({"HGETALL", impl_->keys.job(detail::reply_string(arr->element[i]))});
    }
    auto recs = impl_->redis.pipeline(cmds);
    if (!recs) return Error(recs.error().code, "could not list jobs: " + recs.error().message);
    for (size_t i = 0; i < recs->size(); ++i) {
      const redisReply* rec = (*recs)[i].get();
      if (rec->type != REDIS_REPLY_ARRAY || rec->elements == 0) continue;  // expired meanwhile
      auto job = detail::parse_job_hash(rec, detail::reply_string(arr->element[i]));
      if (!job) {
        spdlog::warn("queue: skipping unreadable job record: {}", job.error().message);
        continue;
      }
      if (!matches(*job, filter)) continue;
      out.push_back(std::move(job.value()));
      if (out.size() >= filter.limit) break;
    }
    if (arr->elements < list_page) break;
  }
  return out;
}

core::Result<std::string> Queue::replay(std::string_view id) {
  auto job = get(id, false);
  if (!job) return job.error();
  if (!job->has_value()) {
    return Error(errc::not_found, "job " + std::string(id) + " not found (finished jobs are kept for " +
                                      std::to_string(impl_->opts.retention.count()) + " s)");
  }
  const JobRecord& rec = **job;
  if (!core::is_terminal_state(rec.state)) {
    return Error(errc::conflict,
                 "job " + rec.id + " is still " + rec.state + "; replay it once it has finished");
  }
  core::JobSpec spec = rec.spec;
  spec.replay_of = rec.id;
  auto out = enqueue(std::span<const core::JobSpec>(&spec, 1), {});
  if (!out) return out.error();
  if (out->ids.empty()) return Error(errc::internal, "the enqueue script returned no id for the replay");
  spdlog::info("queue: job {} replays job {} ({})", out->ids.front(), rec.id, spec.kind);
  return out->ids.front();
}

core::Result<Stats> Queue::stats() {
  const auto& k = impl_->keys;
  auto r = impl_->redis.pipeline({{"HGETALL", k.counts},
                                  {"LLEN", k.wait},
                                  {"ZCARD", k.delayed},
                                  {"ZCARD", k.leases},
                                  {"ZCARD", k.dead},
                                  {"HGETALL", k.duration}});
  if (!r) return Error(r.error().code, "could not read queue statistics: " + r.error().message);
  for (const auto& rep : *r) {
    if (rep->type == REDIS_REPLY_ERROR)
      return Error(errc::internal, "reading statistics: " + detail::reply_string(rep.get()));
  }
  Stats s;
  const redisReply* counts = (*r)[0].get();
  for (size_t i = 0; i + 1 < counts->elements; i += 2) {
    std::string field = detail::reply_string(counts->element[i]);
    auto bar = field.find('|');
    if (bar == std::string::npos) continue;
    s.by_state_kind[{field.substr(0, bar), field.substr(bar + 1)}] =
        to_int(detail::reply_string(counts->element[i + 1]));
  }
  s.waiting = (*r)[1]->integer;
  s.delayed = (*r)[2]->integer;
  s.active = (*r)[3]->integer;
  s.dead = (*r)[4]->integer;

  std::map<std::string, int64_t, std::less<>> hist;
  const redisReply* d = (*r)[5].get();
  for (size_t i = 0; i + 1 < d->elements; i += 2) {
    hist[detail::reply_string(d->element[i])] = to_int(detail::reply_string(d->element[i + 1]));
  }
  int64_t cumulative = 0;
  for (int64_t b : duration_buckets_ms) {
    s.duration_buckets_s.push_back(static_cast<double>(b) / 1000.0);
    cumulative += hist["le:" + std::to_string(b)];
    s.duration_counts.push_back(cumulative);
  }
  cumulative += hist["le:inf"];
  s.duration_counts.push_back(cumulative);
  s.duration_count = hist["count"];
  s.duration_sum_s = static_cast<double>(hist["sum_ms"]) / 1000.0;
  return s;
}

core::Result<void> Queue::ping() {
  auto r = impl_->redis.command({"PING"});
  if (!r) return r.error();
  return {};
}

core::Result<int64_t> Queue::reap() {
  auto args = detail::base_args(impl_->keys, impl_->opts);
  args.push_back(std::to_string(impl_->opts.worker_timeout.count()));
  args.emplace_back("500");
  int64_t total = 0;
  // Each call does bounded work so Redis is never blocked long; catch up on a backlog in rounds.
  for (int round = 0; round < 20; ++round) {
    auto r = detail::run_script(impl_->redis, detail::ScriptId::reap, impl_->keys.fixed(), args);
    if (!r) return Error(r.error().code, "the queue reaper failed: " + r.error().message);
    total += (*r)->integer;
    if ((*r)->integer < 500) break;
  }
  return total;
}

}  // namespace helmgate::queue
