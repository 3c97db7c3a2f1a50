#include "process/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace helmgate::process {

namespace {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int f = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = f;
  }

 private:
  int fd_ = -1;
};

bool make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  r.reset(p[0]);
  w.reset(p[1]);
  return true;
}

bool contains(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

// Tells a child that ran into a resource limit from one that failed on its own. Go programs report an
// address-space limit as "fatal error: runtime: out of memory" (or, before the heap exists, as a failed
// reservation) and a process limit as a failed thread creation.
void classify_limit(ProcessResult& res, const rusage& usage) {
  const Limits lim = sandbox_settings().limits;
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (lim.memory_bytes != 0 &&
      (contains(res.err, "runtime: out of memory") || contains(res.err, "failed to reserve page summary memory") ||
       contains(res.err, "cannot allocate memory") || contains(res.err, "std::bad_alloc") ||
       contains(res.err, "out of memory allocating heap arena"))) {
    res.limit = "memory";
    res.limit_text = "the memory limit of " + std::to_string(lim.memory_bytes >> 20) +
                     " MiB of address space (render.memory_limit_mib)";
  } else if (lim.cpu_seconds != 0 && (res.signal == SIGXCPU || (res.signal == SIGKILL && cpu + 0.5 >= static_cast<double>(lim.cpu_seconds)))) {
    res.limit = "cpu";
    res.limit_text = "the CPU time limit of " + std::to_string(lim.cpu_seconds) + " s (render.cpu_limit_seconds)";
  } else if (res.signal == SIGXFSZ) {
    res.limit = "file size";
    res.limit_text = "the file size limit of " + std::to_string(lim.file_bytes >> 20) + " MiB";
  } else if (contains(res.err, "failed to create new OS thread") || contains(res.err, "newosproc")) {
    res.limit = "processes";
    res.limit_text = "the limit of " + std::to_string(lim.processes) + " processes/threads";
  }
}

}  // namespace

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

core::Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return core::Error(core::errc::internal, "run_process: empty argv");
  Fd out_r, out_w, err_r, err_w;
  if (!make_pipe(out_r, out_w) || !make_pipe(err_r, err_w)) {
    return core::Error(std::error_code(errno, std::generic_category()), "creating pipes for " + argv[0]);
  }
  auto start = std::chrono::steady_clock::now();
  auto spawned = detail::spawn_sandboxed(argv, options.env, options.cwd, options.sandboxed, options.sandbox, out_w.get(),
                                          err_w.get());
  if (!spawned) return spawned.error();
  const pid_t pid = *spawned;
  out_w.reset();
  err_w.reset();

  ProcessResult res;
  auto deadline = start + options.timeout;
  bool killed = false;
  auto kill_group = [&] {
    if (!killed) {
      ::kill(-pid, SIGKILL);
      killed = true;
    }
  };
  std::array<char, 65536> buf;
  while (out_r.get() >= 0 || err_r.get() >= 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      res.timed_out = true;
      kill_group();
      break;
    }
    int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
    pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      kill_group();
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      Fd& fd = i == 0 ? out_r : err_r;
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        fd.reset();
        continue;
      }
      std::string& dst = i == 0 ? res.out : res.err;
      size_t cap = i == 0 ? options.max_stdout : options.max_stderr;
      size_t room = cap > dst.size() ? cap - dst.size() : 0;
      dst.append(buf.data(), std::min(room, static_cast<size_t>(got)));
      if (static_cast<size_t>(got) > room && i == 0) {
        res.stdout_truncated = true;
        kill_group();
        out_r.reset();
        err_r.reset();
      }
    }
  }
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
  if (options.sandboxed && !res.timed_out && !res.stdout_truncated && (res.exit_code != 0 || res.signal != 0)) classify_limit(res, usage);
  return res;
}

}  // namespace helmgate::process
