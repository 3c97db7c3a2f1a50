#pragma once
// The drift schedule (issue 13): a thread in every worker process that, every `tick`, tries the scan lease
// (queue::FleetStore::take_scan) of each configured cluster with drift enabled, for the cluster's interval
// plus a random part of its jitter. The process that takes it scans (runners/drift_fleet.hpp: the
// clusters it took in one tick together, each shared render once), stores, signals
// (runners/drift_signals.hpp) and, with drift.remediate, enqueues an apply job for the drifted releases
// within the cluster's hourly budget. Any number of processes share one Redis without scanning a
// cluster twice in one interval.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "engine/workspace.hpp"
#include "queue/fleet_store.hpp"
#include "queue/queue.hpp"
#include "runners/drift_runner.hpp"
#include "runners/forge_access.hpp"

namespace helmgate::runners {

struct DriftSchedulerOptions {
  std::string owner;                          // the lease holder's name (host:pid); "" picks one
  std::chrono::milliseconds tick{5'000};      // how often the leases are tried
  queue::Options queue;                       // where remediation jobs go
  std::shared_ptr<ForgeAccess> forges;        // for tracking issues (null: none)
  std::function<void(const DriftScan&)> on_scan;  // after each scan is stored (tests, logs)
};

// What one scan did besides storing: the remediation jobs it enqueued, the signals it sent.
struct ScanFollowUp {
  std::vector<std::string> remediated;  // release ids in the apply job
  std::string job_id;
  std::vector<std::string> signals;     // "webhook", "issue"
  std::vector<std::string> errors;      // what failed (logged)
};

class DriftScheduler {
 public:
  DriftScheduler(const config::Config& cfg, std::shared_ptr<engine::Workspace> ws, DriftSchedulerOptions options);
  ~DriftScheduler();
  DriftScheduler(const DriftScheduler&) = delete;
  DriftScheduler& operator=(const DriftScheduler&) = delete;

  void start();
  void stop();  // the scan under way finishes; then the thread ends

  // One scan now (no lease): scan, store, signal, remediate. What `helmgate drift` and the thread run.
  DriftScan scan_now(const config::Repo& repo, const config::Cluster& cluster, ScanFollowUp* follow_up = nullptr);

 private:
  void loop();
  // After a scan: store, signal, remediate.
  DriftScan record(const config::Repo& repo, const config::Cluster& cluster, DriftScan scan, ScanFollowUp* follow_up);
  ScanFollowUp follow_up(const config::Repo& repo, const config::Cluster& cluster, const DriftScan& scan,
                         const std::string& previous);

  config::Config cfg_;
  std::shared_ptr<engine::Workspace> ws_;
  DriftSchedulerOptions opt_;
  std::unique_ptr<queue::FleetStore> store_;
  std::unique_ptr<queue::Queue> queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// The clusters the schedule scans: every configured cluster with drift enabled, with its repository.
std::vector<std::pair<const config::Repo*, const config::Cluster*>> drift_clusters(const config::Config& cfg);

}  // namespace helmgate::runners
