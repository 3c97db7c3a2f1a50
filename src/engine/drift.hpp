#pragma once
// The drift verdict of the releases of one cluster: what the deploy branch declares (the desired render
// and values digest of each release) against Helm's record of it (kube/helm_records.hpp, read without a
// helm process) and against the live objects, compared by server-side dry-run as the preview's live diff
// does (the answer of a forced apply with dryRun=All is what the object would be; the difference from
// the live object is what someone or something changed). Per release:
//   in_sync   record deployed, chart and values as declared, no live difference;
//   drifted   a live object differs (which ones, the diff, redacted; Secrets by key names only) or is
//             gone, or Helm's record has another chart version or other values than Git declares;
//   missing   declared, but Helm has no record of it (never installed, or uninstalled by hand);
//   failed    Helm's latest record is not deployed (failed, pending-*, ...);
//   extra     Helm has a release here that Git does not declare;
//   unknown   it could not be told (the record or the live objects could not be read): `error` says why.
// Ignore rules are data (config::DriftIgnore): fields a controller owns are removed from both sides
// before they are compared; /spec/replicas of a workload an HPA of the same release scales is always.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "diff/normalize.hpp"
#include "kube/client.hpp"
#include "kube/helm_records.hpp"

namespace helmgate::engine {

enum class DriftState { in_sync, drifted, missing, failed, extra, unknown };
std::string_view to_string(DriftState s);

// One release as the deploy branch declares it for this cluster.
struct DesiredRelease {
  std::string id;            // cluster/namespace/name, as release::Release::id()
  std::string release_name;
  std::string namespace_;    // the release's target namespace (Helm's record lives there)
  std::string manifest;      // the render (helm template), as engine::render_request + Renderer produce
                             // (may be left empty when `objects` below holds it)
  std::string chart_name;    // "" : not compared
  std::string chart_version; // "" : not compared
  std::string values_digest; // engine::values_digest(values_json); "" : not compared
  std::string render_error;  // the release could not be rendered: its state is unknown
  // The manifest split into objects, made once per render and shared by every cluster that declares the
  // same release (drift_desired.hpp: prepare_objects); null: live_drift splits `manifest` itself.
  std::shared_ptr<const std::vector<kube::ManifestObject>> objects;
};

struct DriftedResource {
  std::string key;     // "apps/Deployment/team-a/podinfo" (group "core" for the core group)
  std::string object;  // "apps/v1 Deployment team-a/podinfo"
  std::string change;  // changed | missing (gone from the cluster) | not-owned (someone else's object now)
  std::string diff;    // unified diff live -> desired, redacted; key names only for Secrets; "" for not-owned
};

struct ReleaseDrift {
  std::string id, release_name, namespace_;
  DriftState state = DriftState::unknown;
  std::vector<std::string> reasons;  // why, one sentence each
  std::vector<DriftedResource> resources;
  std::optional<kube::HelmRecord> record;  // Helm's latest record, when there is one
  std::string error;
};

struct ClusterDrift {
  std::string cluster;
  std::vector<ReleaseDrift> releases;  // declared ones in the given order, then extra ones by namespace/name
  std::string error;                   // the cluster could not be scanned at all (then every release unknown)
  std::string observed_at;             // RFC 3339 UTC
  int64_t duration_ms = 0;
  size_t count(DriftState s) const;
  bool needs_attention() const;        // anything but in_sync
};

class LiveReads;  // engine/drift_reads.hpp

// What the live comparison of a cluster asked the API server (counted as it goes).
struct DriftCounters {
  std::atomic<size_t> gets{0};       // single-object GETs
  std::atomic<size_t> dry_runs{0};   // server-side apply dry-runs
  std::atomic<size_t> list_hits{0};  // live objects read from a list of their namespace and type
  std::atomic<size_t> rereads{0};    // GETs after a dry-run answer showed the listed object had changed
};

struct DriftOptions {
  std::vector<config::DriftIgnore> ignore;
  bool ignore_hpa_replicas = true;  // /spec/replicas of a workload an HPA of the release targets
  const diff::Redactor* redactor = nullptr;
  size_t concurrency = 4;           // releases compared at once
  bool live = true;                 // false: Helm's records only (no dry-run)
  int context_lines = 3;
  // Live objects read by list per namespace and type (null: a GET per object). The cluster's own.
  LiveReads* reads = nullptr;
  DriftCounters* counters = nullptr;  // null: not counted
};

// The ignore rules that apply to one object: each matching rule's paths, plus /spec/replicas when an HPA
// of the same manifest scales it.
std::vector<std::string> ignored_paths(const std::vector<config::DriftIgnore>& rules, std::string_view kind,
                                       std::string_view namespace_, std::string_view name);
// (kind, name) of the workloads the HorizontalPodAutoscalers of a manifest scale.
std::vector<std::pair<std::string, std::string>> hpa_targets(const std::string& manifest);
std::vector<std::pair<std::string, std::string>> hpa_targets(const std::vector<kube::ManifestObject>& objects);

// The record-level verdict alone (no cluster access): missing, failed, chart/values drift, else in_sync.
ReleaseDrift classify_record(const DesiredRelease& desired, const std::optional<kube::HelmRecord>& record);

// The live comparison of one release: every object it renders, read and dry-run, the differences.
core::Result<std::vector<DriftedResource>> live_drift(kube::Client& client, const DesiredRelease& desired,
                                                      const DriftOptions& options);

// The whole verdict of a cluster: records read once (every namespace), each declared release classified
// and (when its record is deployed) compared live, records Git does not declare reported extra.
// records: Helm's records as engine::read_release_records returns them (an error there: every declared
// release is unknown and the error says why).
ClusterDrift detect_drift(kube::Client* client, const std::vector<DesiredRelease>& desired,
                          const core::Result<kube::HelmRecords>& records, const DriftOptions& options);
// The same verdict while the releases are still being rendered: `declared` names them (id, release_name,
// namespace_; nothing else is read from it), ready(i) blocks until release i is rendered and returns it.
// Releases are compared in order as they become ready, options.concurrency at a time.
ClusterDrift detect_drift(kube::Client* client, const std::vector<DesiredRelease>& declared,
                          const std::function<const DesiredRelease&(size_t)>& ready,
                          const core::Result<kube::HelmRecords>& records, const DriftOptions& options);

// The releases a remediation may apply now: drifted ones (not missing, failed or extra: those need a
// person or the regular apply), at most max_per_hour minus done_last_hour of them, in scan order.
std::vector<std::string> remediation_candidates(const ClusterDrift& drift, const config::DriftSettings& settings,
                                                int done_last_hour);

// {"cluster","error"?,"observed_at","duration_ms","counts":{"in_sync":n,...,"unknown":n},
//  "releases":[{"id","release","namespace","state","reasons":[..],"resources":[{"key","object","change","diff"}],
//               "helm"?:{kube::write_json of the record},"error"?}]}
void write_json(core::json::Writer& w, const ClusterDrift& d);
std::string to_json(const ClusterDrift& d);

}  // namespace helmgate::engine
