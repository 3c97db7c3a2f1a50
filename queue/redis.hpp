#pragma once
// A thin owner of hiredis connections and replies (unique_ptr with deleters).
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace helmgate::queue {

struct RedisNode {
  std::string host;
  int port = 6379;
  std::string display() const;  // host:port ([v6]:port)
  bool operator==(const RedisNode&) const = default;
};

// How helmgate reaches Redis: one server, a Redis Cluster (seed nodes; the connection goes to the
// primary owning the slot of route_key, following MOVED/ASK), or a primary found through Sentinel
// (asked again on every reconnect; a server whose ROLE is not master is never written to).
enum class RedisMode { single, cluster, sentinel };

struct RedisUrl {
  RedisMode mode = RedisMode::single;
  std::string host = "127.0.0.1";  // single
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;          // never logged: use display(); for cluster/sentinel: the data nodes'
  std::vector<RedisNode> nodes;  // cluster: seed nodes; sentinel: the sentinels
  std::string master;            // sentinel: the monitored primary's name
  // cluster: the connection serves the slot of this key. Every key of the product lives under the
  // hash tag "{<queue.key_prefix>}"; the classes of queue/ set it with for_prefix().
  std::string route_key = "{helmgate}";

  // redis://[[user]:password@]host[:port][/db]
  // redis+cluster://[[user]:password@]host:port[,host:port...]
  // redis+sentinel://[[user]:password@]host:port[,host:port...]/<master>[/db]
  static core::Result<RedisUrl> parse(std::string_view url);
  std::string display() const;  // without the password
  RedisUrl for_prefix(std::string_view key_prefix) const;  // route_key = "{<key_prefix>}"
};

// The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, mod 16384).
int cluster_slot(std::string_view key);

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// The error for an error reply: errc::unavailable when the server cannot serve right now (LOADING,
// BUSY, READONLY/MASTERDOWN during a failover, TRYAGAIN/CLUSTERDOWN), errc::internal otherwise.
core::Error error_from_reply(const redisReply* r, std::string_view what);
// True for an error reply of that first kind: the server refused the command, which did not run.
bool is_transient_error(const redisReply* r);

// Appends one command to a connection's output buffer (sent by the next read or buffer write).
int append_command(redisContext* c, const std::vector<std::string>& argv);
// True when the peer closed this socket (end of file or a reset) and no reply is waiting on it.
bool server_closed(int fd);

// One connection; reconnects on the next command after an I/O error. Not thread-safe.
class Redis {
 public:
  explicit Redis(RedisUrl url, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // One command. errc::unavailable on connection trouble; a Redis error reply becomes errc::internal
  // with the server's message.
  core::Result<ReplyPtr> command(const std::vector<std::string>& argv);
  // Several commands in one round trip; replies in order.
  core::Result<std::vector<ReplyPtr>> pipeline(const std::vector<std::vector<std::string>>& cmds);
  // Blocking command with its own timeout (BLMOVE ...), so the socket timeout does not cut it short.
  core::Result<ReplyPtr> blocking_command(const std::vector<std::string>& argv,
                                          std::chrono::milliseconds block);
  // A pipeline whose last command may block for up to `block`.
  core::Result<std::vector<ReplyPtr>> pipeline(const std::vector<std::vector<std::string>>& cmds,
                                               std::chrono::milliseconds block);

  // Drops the connection; the next command reconnects (and, for cluster/sentinel, asks again where).
  void disconnect() { ctx_.reset(); }
  // Connects where the URL's topology says (if not connected) and gives the connection away, for a
  // caller that drives it on its own event loop; node() says where it goes. This object is left
  // without a connection.
  core::Result<ContextPtr> release();

  // WAIT <replicas> <timeout>: how many replicas acknowledged every write this connection made.
  core::Result<int64_t> wait_replicas(int replicas, std::chrono::milliseconds timeout);

  const RedisUrl& url() const { return url_; }
  // The server this connection talks to now (for single: the URL's host:port).
  const RedisNode& node() const { return node_; }

 private:
  core::Result<void> ensure_connected();
  core::Result<ContextPtr> open(const RedisNode& n, std::chrono::milliseconds timeout, bool data_node);
  core::Result<ContextPtr> discover_sentinel();
  core::Result<ContextPtr> discover_cluster();
  // Looks at an error reply: MOVED (cluster) re-targets the connection and returns true (send again,
  // nothing ran); READONLY/MASTERDOWN/UNBLOCKED drop it so the next command asks again where.
  bool note_error(const redisReply* r);
  core::Result<ReplyPtr> ask(const redisReply* r, const std::vector<std::string>& argv);
  core::Error io_error(std::string_view what);
  RedisUrl url_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds block_{0};  // extra socket timeout while a blocking command runs
  ContextPtr ctx_;
  RedisNode node_;
  std::optional<RedisNode> moved_to_;  // cluster: where the last MOVED pointed
  size_t next_seed_ = 0;               // cluster/sentinel: which node to ask first
};

}  // namespace helmgate::queue
