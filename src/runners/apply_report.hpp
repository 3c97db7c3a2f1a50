#pragma once
// Reporting an apply job on the forge: after the apply runner finishes, the PR the pushed commit was
// merged by gets one comment (upserted, so a retry or replay of the same commit edits it) with the
// per-cluster, per-release outcome, and the merge commit gets a status per cluster. Failures show the
// reason and the `/helmgate replay <job-id>` command that runs the job again.
#include <string>

#include "config/config.hpp"
#include "engine/apply_result.hpp"
#include "runners/apply_runner.hpp"
#include "runners/forge_access.hpp"

namespace helmgate::runners {

// The apply's result rendered as the PR comment's markdown.
// job_id names the job for the replay hint; will_retry says the queue runs it again by itself.
std::string apply_report_markdown(const engine::ApplyResult& result, const std::string& job_id, bool will_retry);

// The apply runner's reporter: the forge is told about every apply that ran. A forge failure is logged on
// the job and never turns a successful apply into a failed job.
ApplyReporter apply_reporter(const config::Config& cfg, ForgeAccess forges);

}  // namespace helmgate::runners
