#include "render/sandbox.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace fs = std::filesystem;

namespace helmgate::render {

namespace {

std::mutex g_mu;
SandboxSettings g_settings;
// Decided by the probe: false when running as root where user namespaces are refused.
std::atomic<bool> g_use_userns{true};

// The steps of the child's setup, for messages.
enum Step : int {
  st_ok = 0,
  st_stdio,
  st_setgroups,
  st_uid_map,
  st_gid_map,
  st_private,
  st_tmpfs_root,
  st_pivot_root,
  st_tmp,
  st_mkdir,
  st_bind,
  st_remount,
  st_symlink,
  st_dev,
  st_umount_old,
  st_remount_root,
  st_hostname,
  st_chdir,
  st_rlimit,
  st_caps,
  st_no_new_privs,
  st_exec,
  st_forced,
};

const char* step_text(int s) {
  switch (s) {
    case st_stdio: return "connecting stdin/stdout/stderr";
    case st_setgroups: return "writing /proc/self/setgroups in the new user namespace";
    case st_uid_map: return "writing the uid map of the new user namespace";
    case st_gid_map: return "writing the gid map of the new user namespace";
    case st_private: return "making the mount namespace private";
    case st_tmpfs_root: return "mounting the tmpfs for the new root";
    case st_pivot_root: return "pivot_root into the new root";
    case st_tmp: return "mounting a private /tmp";
    case st_mkdir: return "creating a mount point";
    case st_bind: return "bind-mounting";
    case st_remount: return "remounting a bind mount read-only/nosuid";
    case st_symlink: return "creating a symlink in the new root";
    case st_dev: return "populating /dev";
    case st_umount_old: return "detaching the old root";
    case st_remount_root: return "remounting the new root read-only";
    case st_hostname: return "setting the hostname";
    case st_chdir: return "changing to the working directory";
    case st_rlimit: return "setting resource limits";
    case st_caps: return "dropping capabilities";
    case st_no_new_privs: return "setting no_new_privs";
    case st_exec: return "executing";
    case st_forced: return "creating the user namespace (forced failure: HELMGATE_TEST_SANDBOX_FAIL is set)";
    default: return "setting up the sandbox";
  }
}

struct Report {
  int step = 0;
  int err = 0;
  int op = -1;  // index into Plan::ops when the step concerns one mount
};

enum OpKind : int { op_bind_dir, op_bind_file, op_symlink };

struct Op {
  OpKind kind = op_bind_dir;
  std::string src;  // "/.oldroot/<host path>" for binds, the link target for symlinks
  std::string dst;  // path inside the new root
  bool ro = true;
  bool dev = false;  // a device node: keep it usable (no nodev)
};

// Everything the child needs, prepared before clone: the child only reads it and makes system calls.
struct Plan {
  bool sandbox = true;
  bool userns = true;
  bool network = false;
  bool probe = false;
  bool drop_caps = false;
  std::string uid_map, gid_map;
  std::vector<Op> ops;
  std::string cwd;
  bool cwd_optional = false;  // stay at / when cwd does not exist inside the sandbox
  std::string exec_path;
  std::vector<char*> argv, envp;
  int out_fd = -1, err_fd = -1, report_fd = -1;
  struct Lim {
    int resource;
    rlimit value;
  };
  Lim limits[8];
  int nlimits = 0;
};

constexpr const char* kOld = "/.oldroot";

// ---- the child: async-signal-safe calls only (no allocation, no locks) ----

[[noreturn]] void child_fail(const Plan& p, int step, int op = -1) {
  Report r{step, errno, op};
  ssize_t w = ::write(p.report_fd, &r, sizeof r);
  (void)w;
  ::_exit(127);
}

bool write_text(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t n = ::strlen(text);
  bool ok = ::write(fd, text, n) == static_cast<ssize_t>(n);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

// mkdir -p for the directory `path` (or its parent when parent_only).
bool mkdir_p(const char* path, bool parent_only) {
  char buf[PATH_MAX];
  size_t n = ::strlen(path);
  if (n == 0 || n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return false;
  }
  ::memcpy(buf, path, n + 1);
  if (parent_only) {
    char* slash = ::strrchr(buf, '/');
    if (slash == nullptr || slash == buf) return true;
    *slash = '\0';
    n = static_cast<size_t>(slash - buf);
  }
  for (size_t i = 1; i <= n; ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    if (::mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
    buf[i] = c;
  }
  return true;
}

unsigned long locked_flags(const char* path) {
  struct statfs sf {};
  if (::statfs(path, &sf) != 0) return 0;
  unsigned long f = 0;
  if (sf.f_flags & ST_NOSUID) f |= MS_NOSUID;
  if (sf.f_flags & ST_NODEV) f |= MS_NODEV;
  if (sf.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
  if (sf.f_flags & ST_NOATIME) f |= MS_NOATIME;
  if (sf.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sf.f_flags & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

void setup_root(const Plan& p) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(p, st_private);
  // The new root is a tmpfs mounted over /tmp of this (private) mount namespace; after pivot_root the host's
  // tree is at /.oldroot, including the original /tmp underneath.
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) child_fail(p, st_tmpfs_root);
  if (::mkdir("/tmp/.oldroot", 0700) != 0) child_fail(p, st_tmpfs_root);
  if (::syscall(SYS_pivot_root, "/tmp", "/tmp/.oldroot") != 0) child_fail(p, st_pivot_root);
  if (::chdir("/") != 0) child_fail(p, st_pivot_root);
  if (::mkdir("/tmp", 01777) != 0 ||
      ::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") != 0) {
    child_fail(p, st_tmp);
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    const int idx = static_cast<int>(i);
    const char* dst = op.dst.c_str();
    if (op.kind == op_symlink) {
      if (!mkdir_p(dst, true)) child_fail(p, st_mkdir, idx);
      if (::symlink(op.src.c_str(), dst) != 0 && errno != EEXIST) child_fail(p, st_symlink, idx);
      continue;
    }
    if (op.kind == op_bind_dir) {
      if (!mkdir_p(dst, false)) child_fail(p, st_mkdir, idx);
    } else {
      if (!mkdir_p(dst, true)) child_fail(p, st_mkdir, idx);
      int fd = ::open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST && errno != EROFS && errno != EACCES) child_fail(p, st_mkdir, idx);
      if (fd >= 0) ::close(fd);
    }
    if (::mount(op.src.c_str(), dst, nullptr, MS_BIND | MS_REC, nullptr) != 0) child_fail(p, st_bind, idx);
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | locked_flags(dst);
    if (!op.dev) flags |= MS_NODEV;
    if (op.ro) flags |= MS_RDONLY;
    if (::mount(nullptr, dst, nullptr, flags, nullptr) != 0) child_fail(p, st_remount, idx);
  }
  // A /proc of the new pid namespace: only the sandbox's own processes. Inside some containers the kernel
  // refuses a new proc mount (the runtime masks parts of /proc); then there is no /proc at all, which hides
  // even more.
  if (::mkdir("/proc", 0555) == 0) (void)::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  if ((::mkdir("/dev", 0755) != 0 && errno != EEXIST) ||
      (::symlink("/proc/self/fd", "/dev/fd") != 0 && errno != EEXIST)) {
    child_fail(p, st_dev);
  }
  if (::umount2(kOld, MNT_DETACH) != 0) child_fail(p, st_umount_old);
  if (::rmdir(kOld) != 0) child_fail(p, st_umount_old);
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    child_fail(p, st_remount_root);
  }
  static const char kHost[] = "helmgate-sandbox";
  if (::sethostname(kHost, sizeof kHost - 1) != 0) child_fail(p, st_hostname);
}

void drop_capabilities(const Plan& p) {
  for (int c = 0; c <= 63; ++c) {
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) child_fail(p, st_caps);
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &hdr, data) != 0) child_fail(p, st_caps);
}

int child_main(void* arg) {
  const Plan& p = *static_cast<const Plan*>(arg);
  // Signal handlers of the server must never run here: default dispositions, nothing blocked.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);
  // Die with the thread that started us.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(p.out_fd, 1) < 0 || ::dup2(p.err_fd, 2) < 0) {
    child_fail(p, st_stdio);
  }
  // Nothing else of the server's descriptors survives exec (the report pipe is close-on-exec already).
  ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);

  if (p.sandbox) {
    if (p.userns) {
      if (!write_text("/proc/self/setgroups", "deny")) child_fail(p, st_setgroups);
      if (!write_text("/proc/self/uid_map", p.uid_map.c_str())) child_fail(p, st_uid_map);
      if (!write_text("/proc/self/gid_map", p.gid_map.c_str())) child_fail(p, st_gid_map);
    }
    setup_root(p);
  }
  if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0 && !p.cwd_optional) child_fail(p, st_chdir);
  for (int i = 0; i < p.nlimits; ++i) {
    if (::setrlimit(static_cast<__rlimit_resource_t>(p.limits[i].resource), &p.limits[i].value) != 0) {
      child_fail(p, st_rlimit);
    }
  }
  if (p.drop_caps) drop_capabilities(p);
  if (p.sandbox && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(p, st_no_new_privs);
  if (p.probe) ::_exit(0);
  ::execve(p.exec_path.c_str(), p.argv.data(), p.envp.data());
  child_fail(p, st_exec);
}

// ---- the parent side ----

bool path_under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

struct Want {
  std::string dst;  // absolute, lexically normal
  bool ro = true;
};

// Adds binds for the host paths in `wants` (same path inside), skipping missing ones and ones already
// visible through an earlier bind with the same or a stricter mode.
void add_binds(Plan& plan, std::vector<Want> wants) {
  std::sort(wants.begin(), wants.end(), [](const Want& a, const Want& b) { return a.dst < b.dst; });
  std::vector<Want> done;
  for (auto& w : wants) {
    // The innermost earlier bind that holds this path decides: same mode, nothing to do; otherwise (a writable
    // scratch dir under a read-only tree, or a read-only path under a writable one) the path gets its own bind.
    const Want* holder = nullptr;
    for (const auto& d : done) {
      if (path_under(w.dst, d.dst)) holder = &d;
    }
    if (holder != nullptr && holder->ro == w.ro) continue;
    std::error_code ec;
    fs::path real = fs::canonical(w.dst, ec);
    if (ec) continue;
    auto st = fs::status(real, ec);
    if (ec) continue;
    Op op;
    op.kind = fs::is_directory(st) ? op_bind_dir : op_bind_file;
    op.src = std::string(kOld) + real.string();
    op.dst = w.dst;
    op.ro = w.ro;
    op.dev = fs::is_character_file(st);
    plan.ops.push_back(std::move(op));
    done.push_back(w);
  }
}

void add_system(Plan& plan, std::vector<Want>& wants, bool network) {
  // Top-level system directories: a symlink (merged /usr: /bin -> usr/bin) is recreated as a symlink.
  for (const char* d : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    auto st = fs::symlink_status(d, ec);
    if (ec || !fs::exists(st)) continue;
    if (fs::is_symlink(st)) {
      auto target = fs::read_symlink(d, ec);
      if (ec) continue;
      Op op;
      op.kind = op_symlink;
      op.src = target.string();
      op.dst = d;
      plan.ops.push_back(std::move(op));
    } else if (fs::is_directory(st)) {
      wants.push_back({d, true});
    }
  }
  // CA certificates (helm pull, helm upgrade over https), and name resolution when the network is kept.
  for (const char* d : {"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/crypto-policies"}) wants.push_back({d, true});
  if (network) {
    for (const char* f : {"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf"}) {
      wants.push_back({f, true});
    }
  }
  for (const char* d : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}) wants.push_back({d, false});
}

std::string lexical(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Plan make_plan(const SandboxSettings& set, bool userns, const std::vector<std::string>& argv, const std::string& cwd,
               const SandboxMounts& mounts) {
  Plan plan;
  plan.sandbox = set.enabled;
  plan.userns = set.enabled && userns;
  plan.network = mounts.network;
  plan.drop_caps = set.enabled;
  plan.uid_map = std::to_string(::geteuid()) + " " + std::to_string(::geteuid()) + " 1\n";
  plan.gid_map = std::to_string(::getegid()) + " " + std::to_string(::getegid()) + " 1\n";
  plan.cwd = cwd;
  if (!argv.empty()) {
    std::error_code ec;
    fs::path real = fs::canonical(argv[0], ec);
    plan.exec_path = ec ? argv[0] : real.string();
  }
  if (plan.sandbox) {
    std::vector<Want> wants;
    add_system(plan, wants, mounts.network);
    if (!plan.exec_path.empty() && plan.exec_path[0] == '/') {
      wants.push_back({fs::path(plan.exec_path).parent_path().string(), true});
    }
    // Relative paths (a relative cache directory) mean what they mean to this process: they are mounted at
    // their absolute place, and the child starts in this process's working directory when that exists inside.
    std::error_code ec;
    for (const auto& p : mounts.read_only) {
      if (!p.empty()) wants.push_back({lexical(fs::absolute(p, ec).string()), true});
    }
    for (const auto& p : mounts.writable) {
      if (!p.empty()) wants.push_back({lexical(fs::absolute(p, ec).string()), false});
    }
    if (plan.cwd.empty()) {
      plan.cwd = fs::current_path(ec).string();
      plan.cwd_optional = true;
    }
    add_binds(plan, std::move(wants));
  }
  auto lim = [&](int res, uint64_t soft, uint64_t hard) {
    if (plan.nlimits < 8) plan.limits[plan.nlimits++] = {res, {static_cast<rlim_t>(soft), static_cast<rlim_t>(hard)}};
  };
  const Limits& l = set.limits;
  if (l.memory_bytes != 0) lim(RLIMIT_AS, l.memory_bytes, l.memory_bytes);
  if (l.cpu_seconds != 0) lim(RLIMIT_CPU, l.cpu_seconds, l.cpu_seconds + 5);
  if (l.file_bytes != 0) lim(RLIMIT_FSIZE, l.file_bytes, l.file_bytes);
  if (l.open_files != 0) lim(RLIMIT_NOFILE, l.open_files, l.open_files);
  if (set.enabled || l.memory_bytes != 0) lim(RLIMIT_CORE, 0, 0);
  // RLIMIT_NPROC counts every process of the uid in its user namespace: only meaningful in our own one
  // (outside, it would count the server's threads too).
  if (plan.userns && l.processes != 0) lim(RLIMIT_NPROC, l.processes, l.processes);
  return plan;
}

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

}  // namespace helmgate::render
