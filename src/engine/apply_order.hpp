#pragma once
// The order of one cluster's releases within an apply, and running them in it with a bounded number at
// once. Only Flux's spec.dependsOn orders releases (the helm-operator generations have none): a release
// waits until the releases it depends on that the same apply installs or upgrades are done, and is not
// applied when one of them failed. Removed releases are uninstalled the other way round: a release that
// depended on another (at the base) is uninstalled before it. A dependency the apply does not touch is
// taken as in place (it was applied before). Everything else runs in parallel, up to the limit.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "release/release.hpp"

namespace helmgate::engine {

struct ApplyOrder {
  // before[i]: the indexes (into the affected list) that must succeed before i starts.
  std::vector<std::vector<size_t>> before;
};

// Edges from dependsOn among the affected releases of one cluster.
ApplyOrder apply_order(const std::vector<release::Affected>& affected);

// What became of a task that did not run.
struct NotRun {
  // The prerequisite that failed or did not run; nullopt when the task is in (or waits on) a dependsOn cycle.
  std::optional<size_t> because_of;
};

// Runs run(i) for every index of order.before, at most `limit` at once (at least 1), each only after every
// index in before[i] ran and returned true. A task whose prerequisite failed or did not run gets
// not_run(i, why) instead, as do the tasks of a cycle once nothing else can run. run and not_run are called
// from worker threads (never two at once for the same index); returns when every index was handled.
void run_ordered(const ApplyOrder& order, size_t limit, const std::function<bool(size_t)>& run,
                  const std::function<void(size_t, NotRun)>& not_run);

}  // namespace helmgate::engine
