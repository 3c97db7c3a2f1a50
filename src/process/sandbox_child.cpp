// The sandbox's child side: from clone to execve. Runs on the parent's memory (CLONE_VM | CLONE_VFORK), so
// async-signal-safe calls only: no allocation, no locks; a failed step is reported through plan.report_fd.
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "process/sandbox_plan.hpp"

namespace helmgate::process::sandbox_internal {

namespace {

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

}  // namespace

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

}  // namespace helmgate::process::sandbox_internal
