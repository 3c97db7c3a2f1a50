#pragma once
// A real redis-server (the Debian package) for one test: a free loopback port, its own data
// directory with AOF on, killed when the object goes away. It never skips: if Redis cannot start,
// the constructor throws with the tail of the server's log.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

namespace helmgate::test {

class RedisServer {
 public:
  // extra_args are appended to the command line (e.g. {"--requirepass", "s3cret"}).
  explicit RedisServer(std::vector<std::string> extra_args = {}) : extra_(std::move(extra_args)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "helmgate-redis-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    dir_ = tmpl;
    std::string last_error;
    for (int attempt = 0; attempt < 5; ++attempt) {  // another process may grab the free port first
      port_ = free_port();
      try {
        start();
        return;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
    }
    throw std::runtime_error("could not start redis-server: " + last_error);
  }
  // A server on a port chosen by the caller (cluster nodes, sentinel-managed nodes), started at once.
  RedisServer(int port, std::vector<std::string> extra_args) : extra_(std::move(extra_args)), port_(port) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "helmgate-redis-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    dir_ = tmpl;
    start();
  }
  ~RedisServer() {
    proc_.kill(SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // Arguments for the next start() (a node restarted as a replica of the new primary, say).
  void set_extra_args(std::vector<std::string> extra_args) { extra_ = std::move(extra_args); }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  bool running() { return proc_.running(); }

  // (Re)starts on the same port and data directory; returns once it answers PING (AOF loaded).
  void start() {
    std::vector<std::string> argv{"/usr/bin/redis-server",
                                  "--port",
                                  std::to_string(port_),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "yes",
                                  "--appendfsync",
                                  "everysec",
                                  "--dir",
                                  dir_,
                                  "--daemonize",
                                  "no",
                                  "--logfile",
                                  dir_ + "/redis.log"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    proc_.start(argv);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!proc_.running()) throw std::runtime_error("redis-server exited at start; log:\n" + log_tail());
      if (answers_ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    proc_.kill(SIGKILL);
    throw std::runtime_error("redis-server did not answer PING within 15 s; log:\n" + log_tail());
  }
  // A crash: nothing is flushed beyond what appendfsync already wrote.
  void kill() { proc_.kill(SIGKILL); }
  // A clean shutdown: Redis fsyncs the AOF before exiting.
  void stop() { proc_.terminate(); }

  std::string log_tail() const {
    std::ifstream in(dir_ + "/redis.log");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
  }

 public:
  static int free_port() { return any_free_port(); }
  // A free loopback port below 55535, so that port + 10000 (a cluster bus default) is valid too.
  static int free_port_below_55535() {
    for (int i = 0; i < 50; ++i) {
      int p = any_free_port();
      if (p < 55535) return p;
    }
    throw std::runtime_error("cannot find a free loopback port below 55535");
  }

 private:
  static int any_free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // A raw PING, so the helper does not depend on the code under test. "-LOADING" means not yet.
  bool answers_ping() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      const char ping[] = "PING\r\n";
      char buf[64] = {};
      if (::write(fd, ping, sizeof(ping) - 1) == static_cast<ssize_t>(sizeof(ping) - 1)) {
        ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
        // With requirepass an unauthenticated PING answers -NOAUTH, which still means "up".
        ok = n > 0 && (std::string(buf, static_cast<size_t>(n)).starts_with("+PONG") ||
                       std::string(buf, static_cast<size_t>(n)).starts_with("-NOAUTH"));
      }
    }
    ::close(fd);
    return ok;
  }

  std::vector<std::string> extra_;
  std::string dir_;
  int port_ = 0;
  ChildProcess proc_;
};

}  // namespace helmgate::test
