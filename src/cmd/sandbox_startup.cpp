#include "cmd/sandbox_startup.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <stdexcept>

#include "process/sandbox.hpp"

namespace helmgate::cmd {

void start_sandbox(const config::RenderSettings& settings, const std::string& off_switch, bool quiet_stdout) {
  process::SandboxSettings s;
  s.enabled = settings.sandbox;
  s.limits.memory_bytes = settings.memory_limit_mib << 20;
  s.limits.cpu_seconds = settings.cpu_limit_seconds;
  process::configure_sandbox(s);
  if (!s.enabled) {
    const std::string warning =
        "RENDER SANDBOX OFF (" + off_switch +
        "): helm and kubectl run PR content without namespaces, with this process's view of the file system, its "
        "network and the other processes' /proc; only the resource limits and the clean environment remain. Turn "
        "it on again unless this machine cannot create user namespaces.";
    if (quiet_stdout) {
      std::fprintf(stderr, "helmgate: warning: %s\n", warning.c_str());
    } else {
      spdlog::warn("{}", warning);
    }
    return;
  }
  auto probe = process::probe_sandbox();
  if (!probe) throw std::runtime_error(process::sandbox_failure_advice(probe.error().message, off_switch));
  if (quiet_stdout) return;
  spdlog::info("render sandbox ready: {}; limits: {} MiB address space, {} s CPU per helm/kubectl run", *probe,
               settings.memory_limit_mib, settings.cpu_limit_seconds);
}

}  // namespace helmgate::cmd
