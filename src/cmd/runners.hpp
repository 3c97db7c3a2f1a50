#pragma once
// The job runners this binary knows, by kind. Kinds without a runner here fail their jobs with
// "no runner for kind X" (the queue's Worker does that), so nothing is dropped silently.
#include <memory>

#include "config/config.hpp"
#include "engine/workspace.hpp"
#include "queue/queue.hpp"

namespace helmgate::cmd {

// workspace: the one the runners share (null: made here, as runners::runner_workspace does).
queue::RunnerTable make_runners(const config::Config& cfg, std::shared_ptr<engine::Workspace> workspace = nullptr);

// queue::Options from the configuration's queue section.
queue::Options queue_options(const config::Config& cfg);

}  // namespace helmgate::cmd
