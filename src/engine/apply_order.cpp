#include "engine/apply_order.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace helmgate::engine {

ApplyOrder apply_order(const std::vector<release::Affected>& affected) {
  ApplyOrder order;
  order.before.resize(affected.size());
  // "namespace/name" of the HelmRelease object -> index, separately for what stays and what goes.
  std::map<std::string, size_t> present, removed;
  for (size_t i = 0; i < affected.size(); ++i) {
    const auto& a = affected[i];
    if (a.head != nullptr) {
      present.emplace(a.head->namespace_ + "/" + a.head->name, i);
    } else if (a.base != nullptr && !a.head_failed) {
      removed.emplace(a.base->namespace_ + "/" + a.base->name, i);
    }
  }
  auto add = [&](size_t first, size_t then) {
    auto& b = order.before[then];
    if (first != then && std::find(b.begin(), b.end(), first) == b.end()) b.push_back(first);
  };
  for (size_t i = 0; i < affected.size(); ++i) {
    const auto& a = affected[i];
    if (a.head != nullptr) {
      for (const auto& dep : a.head->spec.depends_on(a.head->namespace_)) {
        if (auto it = present.find(dep); it != present.end()) add(it->second, i);
      }
    } else if (a.base != nullptr && removed.count(a.base->namespace_ + "/" + a.base->name) != 0) {
      // Both go: the one that depended on the other is uninstalled first.
      for (const auto& dep : a.base->spec.depends_on(a.base->namespace_)) {
        if (auto it = removed.find(dep); it != removed.end()) add(i, it->second);
      }
    }
  }
  return order;
}

void run_ordered(const ApplyOrder& order, size_t limit, const std::function<bool(size_t)>& run,
                 const std::function<void(size_t, NotRun)>& not_run) {
  const size_t n = order.before.size();
  if (n == 0) return;
  std::vector<std::vector<size_t>> after(n);  // after[j]: the tasks waiting for j
  std::vector<size_t> waiting(n, 0);          // prerequisites not finished yet
  std::vector<std::optional<size_t>> blocked(n);  // a prerequisite that failed or did not run
  for (size_t i = 0; i < n; ++i) {
    for (size_t j : order.before[i]) {
      if (j >= n || j == i) continue;
      after[j].push_back(i);
      ++waiting[i];
    }
  }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> ready;  // in index order at first: the affected list's order where nothing else decides
  for (size_t i = 0; i < n; ++i) {
    if (waiting[i] == 0) ready.push_back(i);
  }
  size_t finished = 0, running = 0;
  bool cycles_released = false;

  // Under the lock: j is done (ok or not); its dependents may become ready.
  auto finish = [&](size_t j, bool ok) {
    ++finished;
    for (size_t d : after[j]) {
      if (!ok && !blocked[d]) blocked[d] = j;
      if (--waiting[d] == 0) ready.push_back(d);
    }
  };
  auto worker = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return !ready.empty() || finished == n || (running == 0 && !cycles_released); });
      if (finished == n) return;
      if (ready.empty()) {
        // Nothing runs and nothing is ready, yet tasks remain: they are in or behind a dependsOn cycle.
        cycles_released = true;
        std::vector<size_t> stuck;
        for (size_t i = 0; i < n; ++i) {
          if (waiting[i] > 0) stuck.push_back(i);
        }
        for (size_t i : stuck) {
          waiting[i] = 0;
          ++finished;
        }
        lock.unlock();
        for (size_t i : stuck) not_run(i, NotRun{std::nullopt});
        lock.lock();
        cv.notify_all();
        continue;
      }
      size_t i = ready.front();
      ready.pop_front();
      ++running;
      std::optional<size_t> why = blocked[i];
      lock.unlock();
      bool ok = false;
      if (why) {
        not_run(i, NotRun{why});
      } else {
        ok = run(i);
      }
      lock.lock();
      --running;
      finish(i, ok);
      cv.notify_all();
    }
  };
  const size_t threads = std::min(std::max<size_t>(limit, 1), n);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace helmgate::engine
