#include "runners/drift_schedule.hpp"

#include <unistd.h>

#include <random>

#include <spdlog/spdlog.h>

#include "runners/drift_fleet.hpp"
#include "runners/drift_signals.hpp"

namespace helmgate::runners {

std::vector<std::pair<const config::Repo*, const config::Cluster*>> drift_clusters(const config::Config& cfg) {
  std::vector<std::pair<const config::Repo*, const config::Cluster*>> out;
  for (const auto& r : cfg.repos) {
    for (const auto& c : r.clusters) {
      if (c.drift.enabled) out.emplace_back(&r, &c);
    }
  }
  return out;
}

DriftScheduler::DriftScheduler(const config::Config& cfg, std::shared_ptr<engine::Workspace> ws, DriftSchedulerOptions options)
    : cfg_(cfg), ws_(std::move(ws)), opt_(std::move(options)) {
  auto url = queue::RedisUrl::parse(cfg_.redis_url);
  if (!url) throw std::runtime_error(cfg_.source + ": redis.url: " + url.error().message);
  if (opt_.owner.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    opt_.owner = std::string(host) + ":" + std::to_string(::getpid());
  }
  store_ = std::make_unique<queue::FleetStore>(*url, cfg_.queue.key_prefix);
  queue_ = std::make_unique<queue::Queue>(*url, opt_.queue);
}

DriftScheduler::~DriftScheduler() { stop(); }

void DriftScheduler::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void DriftScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DriftScheduler::loop() {
  std::mt19937_64 rng(std::random_device{}());
  const auto clusters = drift_clusters(cfg_);
  spdlog::info("drift schedule started: {} cluster(s), owner {}", clusters.size(), opt_.owner);
  for (;;) {
    // The clusters whose lease this process took now are scanned together: a release several of them
    // declare alike is rendered once (runners/drift_fleet.hpp).
    std::vector<ScanTarget> due;
    for (const auto& target : clusters) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      const auto* cluster = target.second;
      const auto jitter = cluster->drift.jitter.count();
      std::chrono::milliseconds lease = cluster->drift.interval +
                                        std::chrono::milliseconds(jitter > 0 ? static_cast<int64_t>(rng() % (jitter + 1)) : 0);
      auto taken = store_->take_scan(cluster->name, opt_.owner, lease);
      if (!taken) {
        spdlog::warn("drift schedule: cluster {}: {}", cluster->name, taken.error().message);
        continue;
      }
      if (*taken) due.push_back(target);
    }
    if (!due.empty()) {
      auto scans = scan_clusters(due, *ws_);
      for (size_t i = 0; i < due.size(); ++i) record(*due[i].first, *due[i].second, std::move(scans[i]), nullptr);
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, opt_.tick, [this] { return stopping_; })) return;
  }
}

DriftScan DriftScheduler::scan_now(const config::Repo& repo, const config::Cluster& cluster, ScanFollowUp* out) {
  return record(repo, cluster, scan_cluster(repo, cluster, *ws_), out);
}

DriftScan DriftScheduler::record(const config::Repo& repo, const config::Cluster& cluster, DriftScan scan, ScanFollowUp* out) {
  std::string previous;
  if (auto prev = store_->get(queue::FleetKind::drift, cluster.name); prev && prev->has_value()) previous = (*prev)->json;
  if (auto st = store_scan(*store_, scan, wall_ms()); !st) {
    spdlog::error("drift scan {}: storing the result: {}", cluster.name, st.error().message);
  }
  spdlog::info("{}", scan_summary(scan));
  auto done = follow_up(repo, cluster, scan, previous);
  for (const auto& e : done.errors) spdlog::warn("drift scan {}: {}", cluster.name, e);
  if (!done.job_id.empty()) {
    spdlog::info("drift scan {}: remediation job {} for {} release(s)", cluster.name, done.job_id, done.remediated.size());
  }
  if (opt_.on_scan) opt_.on_scan(scan);
  if (out != nullptr) *out = std::move(done);
  return scan;
}

ScanFollowUp DriftScheduler::follow_up(const config::Repo& repo, const config::Cluster& cluster, const DriftScan& scan,
                                       const std::string& previous) {
  ScanFollowUp out;
  const auto& d = cluster.drift;
  // Signals: only when something started or stopped drifting.
  auto changes = drift_changes(previous, scan.drift);
  if (!changes.empty()) {
    const std::string text = drift_message(cluster.name, changes);
    if (auto url = drift_webhook_url(d); !url.empty()) {
      if (auto r = post_drift_webhook(url, repo.egress, text); r) out.signals.push_back("webhook");
      else out.errors.push_back(r.error().message);
    }
    if (d.tracking_issue > 0) {
      auto client = opt_.forges ? opt_.forges->client(repo.forge) : core::Result<forge::ForgeClient*>(core::Error(
                                                                        core::errc::invalid_config, "no forge access"));
      auto r = client ? upsert_tracking_comment(**client, repo.name, d.tracking_issue, tracking_comment(scan.drift, text))
                      : core::Result<void>(client.error());
      if (r) out.signals.push_back("issue");
      else out.errors.push_back("tracking issue #" + std::to_string(d.tracking_issue) + ": " + r.error().message);
    }
  }
  // Remediation: drifted releases at the commit just compared, within the hourly budget.
  if (!d.remediate || scan.commit.empty()) return out;
  const int64_t now = wall_ms();
  auto done = store_->remediations_last_hour(cluster.name, now);
  if (!done) {
    out.errors.push_back("remediation budget: " + done.error().message);
    return out;
  }
  auto ids = engine::remediation_candidates(scan.drift, d, *done);
  if (ids.empty()) return out;
  auto granted = store_->reserve_remediations(cluster.name, static_cast<int>(ids.size()), d.max_remediations_per_hour, now);
  if (!granted) {
    out.errors.push_back("remediation budget: " + granted.error().message);
    return out;
  }
  ids.resize(static_cast<size_t>(*granted));
  if (ids.empty()) return out;
  core::JobSpec spec;
  spec.kind = std::string(core::kind::apply);
  spec.forge = repo.forge;
  spec.repo = repo.name;
  spec.ref = "refs/heads/" + repo.deploy_branch;
  spec.before = scan.commit;
  spec.after = scan.commit;
  spec.clusters = {cluster.name};
  spec.remediate = ids;
  auto enq = queue_->enqueue(std::span<const core::JobSpec>(&spec, 1),
                             "drift-remediation:" + cluster.name + ":" + std::to_string(now));
  if (!enq) {
    out.errors.push_back("enqueueing the remediation: " + enq.error().message);
    return out;
  }
  out.remediated = ids;
  if (!enq->ids.empty()) out.job_id = enq->ids.front();
  return out;
}

}  // namespace helmgate::runners
