#pragma once
// A child process owned by a test: started with an argv vector (no shell), killed with SIGKILL when
// the owner goes away, and also when the test process itself dies (PR_SET_PDEATHSIG), so a crashed
// test never leaves servers or workers behind. Header-only so any test target can use it.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace helmgate::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  // argv[0] must be a path (no PATH search). stdout/stderr go to `log_file` when given (appended).
  explicit ChildProcess(std::vector<std::string> argv, const std::string& log_file = {}) {
    start(std::move(argv), log_file);
  }
  ~ChildProcess() { kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
      kill(SIGKILL);
      pid_ = o.pid_;
      status_ = o.status_;
      o.pid_ = -1;
    }
    return *this;
  }

  void start(std::vector<std::string> argv, const std::string& log_file = {}) {
    kill(SIGKILL);
    if (argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int log_fd = -1;
    if (!log_file.empty()) {
      log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd < 0) throw std::runtime_error("cannot open " + log_file + ": " + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      if (log_fd >= 0) {
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
      }
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    pid_ = pid;
    status_ = 0;
  }

  pid_t pid() const { return pid_; }

  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Sends `sig` and reaps the process. Returns its wait status.
  int kill(int sig) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, sig);
    return wait();
  }

  // Sends SIGTERM, waits up to `grace`, then SIGKILL.
  int terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(10000)) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) return kill(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }

  int wait() {
    if (pid_ <= 0) return status_;
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = st;
    pid_ = -1;
    return st;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace helmgate::test
