#pragma once
// Inside the sandbox (sandbox.hpp): the plan the parent prepares before clone (sandbox_plan.cpp) and the
// child carries out with async-signal-safe calls only (sandbox_child.cpp), and the report the child sends
// back when a step fails. Not for use outside src/process/.
#include <sys/resource.h>

#include <string>
#include <vector>

#include "process/sandbox.hpp"

namespace helmgate::process::sandbox_internal {

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

// The step as a message ("bind-mounting", "pivot_root into the new root").
const char* step_text(int s);

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

inline constexpr const char* kOld = "/.oldroot";

// The plan for argv under `set` (userns: whether to ask for a user namespace); argv, envp and the
// descriptors are the caller's to fill in.
Plan make_plan(const SandboxSettings& set, bool userns, const std::vector<std::string>& argv, const std::string& cwd,
               const SandboxMounts& mounts);

// The child's entry point (clone): sets up what the plan says, then executes it or reports the failed step
// on plan.report_fd.
int child_main(void* arg);

}  // namespace helmgate::process::sandbox_internal
