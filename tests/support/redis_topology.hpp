#pragma once
// The Redis a redis-label test runs against, in one of three topologies (Debian's redis-server on
// loopback ports, torn down with the object):
//   single    one server (RedisServer), URL redis://127.0.0.1:<port>
//   cluster   a 3-primary Redis Cluster (--cluster-enabled, `redis-cli --cluster create`),
//             URL redis+cluster://<the three nodes>
//   sentinel  a primary, one replica and 3 sentinels (quorum 2) monitoring it as "helmgate",
//             URL redis+sentinel://<the three sentinels>/helmgate
// The topology comes from the constructor or from HELMGATE_TEST_REDIS_TOPOLOGY (single when unset),
// which is how tests/redis/queue runs the same tests on all three. kill()/stop()/start() act on every
// data node ("Redis is down" / "Redis is back"); sentinel tests also have failover() and
// kill_primary(). Like RedisServer it never skips: a topology that cannot start throws with the logs.
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/redis_server.hpp"

namespace helmgate::test {

enum class Topology { single, cluster, sentinel };

inline const char* topology_name(Topology t) {
  return t == Topology::cluster ? "cluster" : t == Topology::sentinel ? "sentinel" : "single";
}

inline Topology topology_from_env() {
  const char* v = std::getenv("HELMGATE_TEST_REDIS_TOPOLOGY");
  std::string s = v != nullptr ? v : "";
  if (s.empty() || s == "single") return Topology::single;
  if (s == "cluster") return Topology::cluster;
  if (s == "sentinel") return Topology::sentinel;
  throw std::runtime_error("HELMGATE_TEST_REDIS_TOPOLOGY must be single, cluster or sentinel (got '" + s + "')");
}

// One command on a fresh loopback connection (hiredis directly, not the code under test). Returns the
// reply as text: a status/string/integer as is, an array as its elements joined by '\n', an error as
// "ERR..."; "" when the server does not answer.
inline std::string redis_ask(int port, const std::vector<std::string>& argv) {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return "";
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()));
  std::string out;
  auto text = [](const redisReply* e) -> std::string {
    if (e->type == REDIS_REPLY_INTEGER) return std::to_string(e->integer);
    if (e->str != nullptr) return std::string(e->str, e->len);
    return "";
  };
  if (r != nullptr) {
    if (r->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < r->elements; ++i) out += (i ? "\n" : "") + text(r->element[i]);
    } else {
      out = text(r);
    }
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

class RedisTopology {
 public:
  explicit RedisTopology(Topology t = topology_from_env()) : topology_(t) {
    switch (t) {
      case Topology::single:
        nodes_.push_back(std::make_unique<RedisServer>());
        break;
      case Topology::cluster:
        start_cluster();
        break;
      case Topology::sentinel:
        start_sentinel();
        break;
    }
  }
  ~RedisTopology() {
    for (auto& s : sentinels_) s.proc.kill(SIGKILL);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  RedisTopology(const RedisTopology&) = delete;
  RedisTopology& operator=(const RedisTopology&) = delete;

  Topology topology() const { return topology_; }
  static constexpr const char* master_name = "helmgate";

  std::string url() const {
    switch (topology_) {
      case Topology::single:
        return nodes_.front()->url();
      case Topology::cluster: {
        std::string u = "redis+cluster://";
        for (size_t i = 0; i < nodes_.size(); ++i) u += (i ? "," : "") + addr(nodes_[i]->port());
        return u;
      }
      case Topology::sentinel: {
        std::string u = "redis+sentinel://";
        for (size_t i = 0; i < sentinels_.size(); ++i) u += (i ? "," : "") + addr(sentinels_[i].port);
        return u + "/" + master_name;
      }
    }
    return {};
  }
  // Sentinel: "127.0.0.1:<port>" of each sentinel (for a redis.sentinel configuration).
  std::vector<std::string> sentinel_addresses() const {
    std::vector<std::string> out;
    for (const auto& s : sentinels_) out.push_back(addr(s.port));
    return out;
  }
  // A scratch directory for the test's own files (the first node's data directory).
  const std::string& dir() const { return nodes_.front()->dir(); }
  RedisServer& node(size_t i) { return *nodes_.at(i); }
  size_t node_count() const { return nodes_.size(); }

  // A crash of every data node: nothing is flushed beyond what appendfsync already wrote.
  void kill() {
    for (auto& n : nodes_) n->kill();
  }
  // A clean shutdown of every data node (each fsyncs its AOF).
  void stop() {
    for (auto& n : nodes_) n->stop();
  }
  // Starts every data node that is down and waits until the topology takes writes again.
  void start() {
    if (topology_ == Topology::sentinel) {
      // The primary first, the others as its replicas (a restarted node must not come back as a
      // second primary).
      follow_sentinels();
      if (!nodes_[primary_]->running()) {
        nodes_[primary_]->set_extra_args({});  // it may have been started as a replica before
        nodes_[primary_]->start();
      }
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (i == primary_ || nodes_[i]->running()) continue;
        nodes_[i]->set_extra_args(replica_args(nodes_[primary_]->port()));
        nodes_[i]->start();
      }
      wait_replication("after a restart");
      return;
    }
    for (auto& n : nodes_) {
      if (!n->running()) n->start();
    }
    if (topology_ == Topology::cluster) wait_cluster_ok("after a restart");
  }

  // Sentinel: the data node the sentinels currently name as primary.
  RedisServer& primary() { return *nodes_.at(primary_); }

  // Sentinel: SENTINEL FAILOVER, then waits until the replica is the primary the sentinels name and
  // the old primary replicates from it.
  void failover() {
    require_sentinel("failover");
    wait_replication("before a failover");
    wait_sentinels_ready();
    size_t old = primary_;
    std::string answer = redis_ask(sentinels_.front().port, {"SENTINEL", "FAILOVER", master_name});
    if (answer != "OK") throw std::runtime_error("SENTINEL FAILOVER answered '" + answer + "'" + logs());
    wait_new_primary(old, "SENTINEL FAILOVER");
    wait_replication("after SENTINEL FAILOVER");
  }

  // Sentinel: SIGKILLs the primary, waits until the sentinels promote the replica, then restarts the
  // old primary as a replica of the new one and waits until it has caught up.
  void kill_primary() {
    require_sentinel("kill_primary");
    wait_replication("before killing the primary");
    wait_sentinels_ready();
    size_t old = primary_;
    nodes_[old]->kill();
    wait_new_primary(old, "the primary was killed");
    nodes_[old]->set_extra_args(replica_args(nodes_[primary_]->port()));
    nodes_[old]->start();
    wait_replication("after the killed primary came back");
  }

  std::string logs() const {
    std::string out;
    for (size_t i = 0; i < nodes_.size(); ++i) out += "\n--- node " + std::to_string(i) + " ---\n" + nodes_[i]->log_tail();
    for (const auto& s : sentinels_) out += "\n--- sentinel " + std::to_string(s.port) + " ---\n" + tail(s.log);
    return out;
  }

 private:
  struct Sentinel {
    int port = 0;
    std::string conf, log;
    ChildProcess proc;
  };

  static std::string addr(int port) { return "127.0.0.1:" + std::to_string(port); }
  static std::string tail(const std::string& file) {
    std::ifstream in(file);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
  }
  static bool poll(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cond();
  }
  void require_sentinel(const char* what) const {
    if (topology_ != Topology::sentinel) throw std::logic_error(std::string(what) + " needs the sentinel topology");
  }
  static std::vector<std::string> replica_args(int primary_port) {
    return {"--replicaof", "127.0.0.1", std::to_string(primary_port)};
  }

  void start_cluster() {
    for (int i = 0; i < 3; ++i) {
      int bus = RedisServer::free_port();
      nodes_.push_back(std::make_unique<RedisServer>(
          RedisServer::free_port(),
          std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                   "--cluster-node-timeout", "2000", "--cluster-port", std::to_string(bus)}));
    }
    std::vector<std::string> argv{"/usr/bin/redis-cli", "--cluster", "create"};
    for (auto& n : nodes_) argv.push_back(addr(n->port()));
    argv.insert(argv.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    std::string log = nodes_.front()->dir() + "/cluster-create.log";
    ChildProcess create(argv, log);
    int st = create.wait();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      throw std::runtime_error("redis-cli --cluster create failed:\n" + tail(log) + logs());
    }
    wait_cluster_ok("after redis-cli --cluster create");
  }

  void wait_cluster_ok(const std::string& when) {
    bool ok = poll(
        [&] {
          for (auto& n : nodes_) {
            if (redis_ask(n->port(), {"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) return false;
          }
          return true;
        },
        std::chrono::seconds(30));
    if (!ok) throw std::runtime_error("the Redis Cluster is not ok " + when + " within 30 s" + logs());
  }

  void start_sentinel() {
    char tmpl[] = "/tmp/helmgate-sentinel-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    nodes_.push_back(std::make_unique<RedisServer>(RedisServer::free_port(), std::vector<std::string>{}));
    nodes_.push_back(
        std::make_unique<RedisServer>(RedisServer::free_port(), replica_args(nodes_.front()->port())));
    primary_ = 0;
    wait_replication("at start");
    for (int i = 0; i < 3; ++i) {
      Sentinel& s = sentinels_.emplace_back();
      s.port = RedisServer::free_port();
      s.conf = dir_ + "/sentinel-" + std::to_string(i) + ".conf";
      s.log = dir_ + "/sentinel-" + std::to_string(i) + ".log";
      std::ofstream(s.conf) << "port " << s.port << "\nbind 127.0.0.1\ndir " << dir_ << "\n"
                            << "sentinel monitor " << master_name << " 127.0.0.1 " << nodes_.front()->port() << " 2\n"
                            << "sentinel down-after-milliseconds " << master_name << " 1000\n"
                            << "sentinel failover-timeout " << master_name << " 4000\n"
                            << "sentinel parallel-syncs " << master_name << " 1\n";
      s.proc.start({"/usr/bin/redis-server", s.conf, "--sentinel"}, s.log);
    }
    // Every sentinel names the primary (what a client needs). Seeing the others (hello messages every
    // 2 s) matters only for a failover: failover() and kill_primary() wait for that.
    bool up = poll(
        [&] {
          for (auto& s : sentinels_) {
            if (!s.proc.running()) return false;
            if (redis_ask(s.port, {"SENTINEL", "get-master-addr-by-name", master_name}).empty()) return false;
          }
          return true;
        },
        std::chrono::seconds(30));
    if (!up) throw std::runtime_error("the sentinels did not start within 30 s" + logs());
  }

  // Every sentinel knows the replica and sees the other two (the quorum a failover needs).
  void wait_sentinels_ready() {
    bool ready = poll(
        [&] {
          for (auto& s : sentinels_) {
            if (!s.proc.running()) return false;
            std::string m = redis_ask(s.port, {"SENTINEL", "MASTER", master_name});
            auto field = [&](const std::string& key) {
              auto at = m.find("\n" + key + "\n");
              if (at == std::string::npos) return std::string();
              auto start = at + key.size() + 2;
              return m.substr(start, m.find('\n', start) - start);
            };
            if (field("num-slaves") != "1" || field("num-other-sentinels") != "2") return false;
          }
          return true;
        },
        std::chrono::seconds(30));
    if (!ready) throw std::runtime_error("the sentinels did not see the replica and each other within 30 s" + logs());
  }

  // Waits until every running data node but the primary replicates from it with the link up, and
  // the primary has caught up (its replica's offset equals the primary's).
  void wait_replication(const std::string& when) {
    bool ok = poll(
        [&] {
          follow_sentinels();
          int pport = nodes_[primary_]->port();
          if (redis_ask(pport, {"ROLE"}).rfind("master", 0) != 0) return false;
          std::string info = redis_ask(pport, {"INFO", "replication"});
          size_t running = 0;
          for (size_t i = 0; i < nodes_.size(); ++i) {
            if (i == primary_ || !nodes_[i]->running()) continue;
            ++running;
            std::string r = redis_ask(nodes_[i]->port(), {"INFO", "replication"});
            if (r.find("master_link_status:up") == std::string::npos) return false;
            if (r.find("master_port:" + std::to_string(pport)) == std::string::npos) return false;
          }
          return info.find("connected_slaves:" + std::to_string(running)) != std::string::npos;
        },
        std::chrono::seconds(30));
    if (!ok) throw std::runtime_error("replication is not up " + when + " within 30 s" + logs());
  }

  // Sentinel: the primary is the node the sentinels name. A stop or restart that outlasts
  // down-after-milliseconds (a loaded machine) lets them promote the replica meanwhile; they then turn
  // the node started as primary into its replica, and waiting for the old one would never end.
  void follow_sentinels() {
    if (topology_ != Topology::sentinel || sentinels_.empty()) return;
    std::string named = primary_named_by(sentinels_.front().port);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (is_node(named, i)) primary_ = i;
    }
  }

  // The primary's address as a sentinel names it ("127.0.0.1\n<port>": redis_ask joins an array's
  // elements with newlines), and whether that is node i.
  std::string primary_named_by(int sentinel_port) const {
    return redis_ask(sentinel_port, {"SENTINEL", "get-master-addr-by-name", master_name});
  }
  bool is_node(const std::string& named, size_t i) const {
    return named == "127.0.0.1\n" + std::to_string(nodes_[i]->port());
  }

  void wait_new_primary(size_t old, const std::string& why) {
    bool ok = poll(
        [&] {
          for (auto& s : sentinels_) {
            std::string a = primary_named_by(s.port);
            if (a.empty() || is_node(a, old)) return false;
          }
          for (size_t i = 0; i < nodes_.size(); ++i) {
            if (i != old && redis_ask(nodes_[i]->port(), {"ROLE"}).rfind("master", 0) == 0) {
              primary_ = i;
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(30));
    if (!ok) throw std::runtime_error("no new primary within 30 s after " + why + logs());
  }

  Topology topology_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<Sentinel> sentinels_;
  size_t primary_ = 0;
  std::string dir_;
};

}  // namespace helmgate::test
