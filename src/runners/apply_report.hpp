#pragma once
// Reporting an apply job on the forge: after the apply runner finishes, the PR the pushed commit was
// merged by gets one comment (upserted, so a retry or replay of the same commit edits it) with the
// per-cluster, per-release outcome, and the merge commit gets a status per cluster. Failures show the
// reason and the `/helmgate replay <job-id>` command that runs the job again.
#include <string>

#include "config/config.hpp"
#include "queue/queue.hpp"
#include "runners/preview_runner.hpp"

namespace helmgate::runners {

// The apply runner's result (the JSON it records) rendered as the PR comment's markdown.
// job_id names the job for the replay hint; will_retry says the queue runs it again by itself.
std::string apply_report_markdown(const std::string& result_json, const std::string& job_id, bool will_retry);

// Wraps an apply runner: the outcome is unchanged; the forge is told about it. A forge failure is
// logged on the job and never turns a successful apply into a failed job.
queue::Runner with_apply_report(queue::Runner apply, const config::Config& cfg, ForgeAccess forges);

}  // namespace helmgate::runners
