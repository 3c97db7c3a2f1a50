#pragma once
// The render sandbox at start-up: serve (with in-process workers), worker and preview apply the render
// settings and probe the sandbox once. It fails closed: when the kernel refuses it, the command stops with
// what failed and the switch that turns it off; when it is off, a warning says so at every start.
#include <string>

#include "config/config.hpp"

namespace helmgate::cmd {

// Throws std::runtime_error when the sandbox is on and cannot be created. off_switch names the setting that
// turns it off, for the message ("render.sandbox: off in helmgate.yaml"). quiet_stdout: messages go to
// stderr directly (preview prints its report on stdout), not through the log.
void start_sandbox(const config::RenderSettings& settings, const std::string& off_switch, bool quiet_stdout = false);

}  // namespace helmgate::cmd
