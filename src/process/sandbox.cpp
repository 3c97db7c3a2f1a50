#include "process/sandbox.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "process/sandbox_plan.hpp"

namespace helmgate::process {

using namespace sandbox_internal;

namespace {

std::mutex g_mu;
SandboxSettings g_settings;
// Decided by the probe: false when running as root where user namespaces are refused.
std::atomic<bool> g_use_userns{true};

core::Error setup_error(const Report& r, const Plan& plan, const std::string& what) {
  std::string m = "sandbox: " + std::string(step_text(r.step));
  if (r.op >= 0 && static_cast<size_t>(r.op) < plan.ops.size()) {
    const Op& op = plan.ops[static_cast<size_t>(r.op)];
    m += " " + op.dst;
  }
  m += " failed for " + what + ": " + std::strerror(r.err);
  if (r.step == st_exec) m = "cannot start " + what + ": " + std::strerror(r.err) + " (check the binary path)";
  return core::Error(std::error_code(r.err != 0 ? r.err : EPERM, std::generic_category()), m);
}

struct Fds {
  int r = -1, w = -1;
  ~Fds() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

// Runs the plan in a new child; returns its pid, or the setup failure the child reported.
core::Result<int> launch(Plan& plan, const std::string& what, bool wait_for_probe) {
  Fds rep;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return core::Error(std::error_code(errno, std::generic_category()), "creating a pipe");
  rep.r = p[0];
  rep.w = p[1];
  plan.report_fd = rep.w;

  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
  if (plan.sandbox) {
    flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (plan.userns) flags |= CLONE_NEWUSER;
    if (!plan.network) flags |= CLONE_NEWNET;
  }
  constexpr size_t kStack = 512 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return core::Error(std::error_code(errno, std::generic_category()), "allocating a stack");
  // No signal handler of ours may run in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pid = ::clone(child_main, static_cast<char*>(stack) + kStack, flags, &plan);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStack);
  if (pid < 0) {
    std::string m = "sandbox: creating the namespaces (clone";
    if (flags & CLONE_NEWUSER) m += " with a new user namespace";
    m += ") failed for " + what + ": " + std::strerror(clone_errno);
    return core::Error(std::error_code(clone_errno, std::generic_category()), m);
  }
  ::close(rep.w);
  rep.w = -1;
  // CLONE_VFORK: we get here once the child has exec'd or exited; a report is in the pipe if it failed.
  Report r;
  ssize_t got;
  do {
    got = ::read(rep.r, &r, sizeof r);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof r)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return setup_error(r, plan, what);
  }
  if (wait_for_probe) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return core::Error(core::errc::internal, "sandbox: the probe child ended abnormally (status " +
                                                   std::to_string(status) + ")");
    }
  }
  return pid;
}

}  // namespace

void configure_sandbox(const SandboxSettings& settings) {
  std::lock_guard lk(g_mu);
  g_settings = settings;
}

SandboxSettings sandbox_settings() {
  std::lock_guard lk(g_mu);
  return g_settings;
}

core::Result<std::string> probe_sandbox() {
  SandboxSettings set = sandbox_settings();
  if (!set.enabled) return std::string("off");
  if (const char* f = std::getenv("HELMGATE_TEST_SANDBOX_FAIL"); f != nullptr && *f != '\0') {
    return core::Error(std::error_code(EPERM, std::generic_category()),
                       std::string("sandbox: ") + step_text(st_forced) + ": " + std::strerror(EPERM));
  }
  auto attempt = [&](bool userns) {
    Plan plan = make_plan(set, userns, {}, "/", {});
    plan.probe = true;
    plan.envp.push_back(nullptr);
    plan.argv.push_back(nullptr);
    plan.out_fd = 1;
    plan.err_fd = 2;
    return launch(plan, "the start-up probe", true);
  };
  auto r = attempt(true);
  if (r) {
    g_use_userns = true;
    return std::string("user, mount, pid, ipc, uts and net namespaces");
  }
  if (::geteuid() == 0) {
    auto r2 = attempt(false);
    if (r2) {
      g_use_userns = false;
      return std::string("mount, pid, ipc, uts and net namespaces as root without capabilities (user namespaces "
                         "refused: " + r.error().message + ")");
    }
  }
  return r.error();
}

std::string sandbox_failure_advice(const std::string& error, const std::string& off_switch) {
  return error +
         ". helmgate runs helm and kubectl in Linux namespaces (user, mount, pid, net) and refuses to render without "
         "them. Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
         "user.max_user_namespaces>0, kernel.apparmor_restrict_unprivileged_userns=0; in Kubernetes a seccomp "
         "profile that allows clone/unshare/mount/pivot_root, see deploy/helm/helmgate values "
         "`sandbox`), or turn the sandbox off with " +
         off_switch + " (PR content then runs with the server's view of the machine)";
}

namespace detail {

core::Result<int> spawn_sandboxed(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                  const std::string& cwd, bool isolate, const SandboxMounts& mounts, int out_fd,
                                  int err_fd) {
  if (argv.empty()) return core::Error(core::errc::internal, "spawn: empty argv");
  SandboxSettings set = sandbox_settings();
  if (!isolate) {
    set.enabled = false;
    set.limits = Limits{0, 0, 0, 0, 0};
  }
  Plan plan = make_plan(set, g_use_userns.load(), argv, cwd, mounts);
  if (plan.exec_path.empty() || (set.enabled && plan.exec_path[0] != '/')) {
    return core::Error(std::error_code(ENOENT, std::generic_category()),
                       "cannot start " + argv[0] + ": " + std::strerror(ENOENT) + " (check the binary path)");
  }
  std::vector<std::string> env_copy = env;
  if (set.enabled && std::none_of(env_copy.begin(), env_copy.end(), [](const std::string& e) { return e.rfind("TMPDIR=", 0) == 0; })) {
    env_copy.emplace_back("TMPDIR=/tmp");
  }
  // Go binaries: collect garbage harder as the heap nears the address-space limit instead of failing early.
  if (set.limits.memory_bytes > (2048ull << 20) &&
      std::none_of(env_copy.begin(), env_copy.end(), [](const std::string& e) { return e.rfind("GOMEMLIMIT=", 0) == 0; })) {
    env_copy.push_back("GOMEMLIMIT=" + std::to_string((set.limits.memory_bytes - (1280ull << 20)) >> 20) + "MiB");
  }
  for (const auto& a : argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  for (const auto& e : env_copy) plan.envp.push_back(const_cast<char*>(e.c_str()));
  plan.envp.push_back(nullptr);
  plan.out_fd = out_fd;
  plan.err_fd = err_fd;
  return launch(plan, argv[0], false);
}

}  // namespace detail

}  // namespace helmgate::process
