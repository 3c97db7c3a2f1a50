#pragma once
// The render sandbox: every helm/kubectl child runs in fresh Linux namespaces (user, mount, pid, ipc,
// uts and, unless asked otherwise, net) with a root of its own: a read-only tmpfs holding read-only bind
// mounts of the system directories (/usr, /lib*, /bin, CA certificates), the tool's own directory and the
// paths the caller names, a private /tmp, a minimal /dev and a /proc of its own pid namespace. Nothing of
// the server is visible: not its environment, configuration, kubeconfigs, caches of other repositories
// or other processes. On top come resource limits (setrlimit) and the caller's wall-clock timeout.
//
// helmgate does this itself (clone + mount + pivot_root) rather than through bubblewrap or a renderer
// container: no extra package or pod to deploy, the same code runs on a laptop, in CI and in Kubernetes,
// and the probe at start-up can say exactly which kernel step failed.
//
// sandbox.cpp holds the settings, the launcher (clone) and the probe; sandbox_plan.cpp decides what the new
// root shows and which limits apply; sandbox_child.cpp is the child's side, from clone to execve.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace helmgate::process {

// Per-child resource limits. memory is RLIMIT_AS (address space): Go binaries reserve about 0.8 GiB of
// address space before they allocate anything (helm 4 peaks at ~1.3 GiB rendering ingress-nginx with 50
// MiB resident), so the default of 3 GiB leaves ~1.7 GiB of heap. A memory cgroup would count resident
// memory instead, but it needs a delegated cgroup v2 subtree that an unprivileged developer rarely has.
struct Limits {
  uint64_t memory_bytes = 3072ull << 20;  // RLIMIT_AS; 0: unlimited
  uint64_t cpu_seconds = 300;             // RLIMIT_CPU (SIGXCPU, then SIGKILL 5 s later); 0: unlimited
  uint64_t processes = 256;               // RLIMIT_NPROC (threads count): inside the sandbox's user namespace only
  uint64_t file_bytes = 512ull << 20;     // RLIMIT_FSIZE: largest file the child may write
  uint64_t open_files = 4096;             // RLIMIT_NOFILE
};

struct SandboxSettings {
  bool enabled = true;  // false: `render.sandbox: off` (the children still get the limits, a clean env)
  Limits limits;
};

// Process-wide; set once at start-up before the first child runs (serve, worker, preview). Without a call
// the sandbox is on with the default limits: code that forgets to configure it fails closed.
void configure_sandbox(const SandboxSettings& settings);
SandboxSettings sandbox_settings();

// What one child may see besides the system directories and its own binary's directory. Paths are absolute;
// each appears at the same path inside the sandbox (so argv needs no rewriting). Missing paths are skipped.
struct SandboxMounts {
  bool network = false;                // keep the host's network namespace (helm pull, helm upgrade)
  std::vector<std::string> read_only;  // chart directories, archives, kubeconfig files
  std::vector<std::string> writable;   // scratch directories (cwd, helm homes)
};

// Creates the sandbox once in a child that exits right after setting it up. The error names the step the
// kernel refused (e.g. "creating the user namespace: Operation not permitted"). The result also selects the
// mode: as root, when user namespaces are refused but root may create the others, they are used without one.
// HELMGATE_TEST_SANDBOX_FAIL (tests only) makes the probe fail as if the kernel had refused it.
core::Result<std::string> probe_sandbox();

// The probe's failure, with what to do: used by serve, worker and preview.
std::string sandbox_failure_advice(const std::string& error, const std::string& off_switch);

namespace detail {
// Spawns argv[0] (an absolute or relative path, not searched in PATH), when isolate under the current settings
// (else as a plain child without limits), with
// stdin = /dev/null, stdout = out_fd, stderr = err_fd, in its own process group. Returns the pid; fails
// when the child could not be set up (naming the step) or the binary could not be executed.
core::Result<int> spawn_sandboxed(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                  const std::string& cwd, bool isolate, const SandboxMounts& mounts, int out_fd,
                                  int err_fd);
}  // namespace detail

}  // namespace helmgate::process
