#pragma once
// A thin owner of hiredis connections and replies (unique_ptr with deleters).
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace helmgate::queue {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;  // never logged: use display()

  // redis://[[user]:password@]host[:port][/db]
  static core::Result<RedisUrl> parse(std::string_view url);
  std::string display() const;  // without the password
};

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

  // Drops the connection; the next command reconnects.
  void disconnect() { ctx_.reset(); }

  const RedisUrl& url() const { return url_; }

 private:
  core::Result<void> ensure_connected();
  core::Error io_error(std::string_view what);
  RedisUrl url_;
  std::chrono::milliseconds timeout_;
  ContextPtr ctx_;
};

}  // namespace helmgate::queue
