// The sandbox's parent side before clone: which system directories, tool directory and caller paths the
// child's new root gets (as bind mounts, read-only unless asked), and the resource limits.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "process/sandbox_plan.hpp"

namespace fs = std::filesystem;

namespace helmgate::process::sandbox_internal {

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

namespace {

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

}  // namespace

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

}  // namespace helmgate::process::sandbox_internal
