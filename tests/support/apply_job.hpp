#pragma once
// Runs an apply job the way the worker does (a context that records the job's log) and reads the typed
// result the runner logs. Header-only: tests that include it link helmgate_runners.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/apply_result.hpp"
#include "queue/queue.hpp"

namespace helmgate::test {

struct RecordingContext : queue::JobContext {
  queue::JobRecord rec;
  std::vector<std::string> lines;
  std::mutex mu;
  const queue::JobRecord& job() const override { return rec; }
  void log(std::string_view line) override {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  }
  bool superseded() const override { return false; }
};

struct ApplyRun {
  queue::RunOutcome outcome;
  engine::ApplyResult result;
  std::vector<std::string> log;
  std::map<std::string, std::map<std::string, std::string>> outcomes;  // cluster -> release name -> outcome
  std::map<std::string, std::string> status;                           // cluster -> status
  // release name -> outcome, over every cluster (tests with one cluster)
  std::map<std::string, std::string> releases() const {
    std::map<std::string, std::string> out;
    for (const auto& [cluster, rels] : outcomes) out.insert(rels.begin(), rels.end());
    return out;
  }
};

// An apply of platform/fleet on forge "gitea" from the repository at repo_dir, before..after on main.
inline ApplyRun run_apply_job(queue::Runner& runner, const std::string& repo_dir, const std::string& before,
                              const std::string& after, const std::string& replay_of = "") {
  static int n = 0;
  RecordingContext ctx;
  ctx.rec.id = "job-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
  ctx.rec.spec.kind = "apply";
  ctx.rec.spec.forge = "gitea";
  ctx.rec.spec.repo = "platform/fleet";
  ctx.rec.spec.clone_url = repo_dir;
  ctx.rec.spec.ref = "refs/heads/main";
  ctx.rec.spec.before = before;
  ctx.rec.spec.after = after;
  ctx.rec.spec.replay_of = replay_of;
  ApplyRun r;
  r.outcome = runner(ctx);
  r.log = ctx.lines;
  std::string json, all;
  for (const auto& l : ctx.lines) {
    all += l + "\n";
    if (l.rfind("apply result: ", 0) == 0) json = l.substr(14);
  }
  INFO(r.outcome.error << "\n" << all);
  REQUIRE_FALSE(json.empty());
  auto parsed = engine::ApplyResult::from_json(json);
  REQUIRE(parsed.ok());
  r.result = std::move(*parsed);
  for (const auto& c : r.result.clusters) {
    r.status[c.name] = std::string(engine::to_string(c.status));
    for (const auto& rel : c.releases) r.outcomes[c.name][rel.release_name] = std::string(engine::to_string(rel.outcome));
  }
  return r;
}

}  // namespace helmgate::test
