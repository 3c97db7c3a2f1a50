#include "queue/redis.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <optional>
#include <utility>

namespace helmgate::queue {
namespace {

using core::errc;
using core::Error;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// User info may be percent-encoded so that passwords can hold ':', '@' or '/'.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

Error bad_url(std::string_view why) {
  return Error(errc::invalid_config, "invalid Redis URL: " + std::string(why) +
                                         " (expected redis://[[user]:password@]host[:port][/db], redis+cluster://[[user]:password@]host:port[,host:port...] or redis+sentinel://[[user]:password@]host:port[,host:port...]/<primary name>[/db])");
}

std::vector<const char*> argv_ptrs(const std::vector<std::string>& argv, std::vector<size_t>& lens) {
  std::vector<const char*> ptrs;
  ptrs.reserve(argv.size());
  lens.clear();
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return ptrs;
}

std::string reply_text(const redisReply* r) {
  return std::string(r->str, r->len);
}

}  // namespace

bool server_closed(int fd) {
  char byte = 0;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return false;
}

int append_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<size_t> lens;
  auto ptrs = argv_ptrs(argv, lens);
  return redisAppendCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
}

bool is_transient_error(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_ERROR || r->str == nullptr) return false;
  std::string_view msg(r->str, r->len);
  for (std::string_view transient :
       {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "MOVED", "ASK",
        "UNBLOCKED"}) {
    if (msg.starts_with(transient)) return true;
  }
  return false;
}

core::Error error_from_reply(const redisReply* r, std::string_view what) {
  std::string msg = r != nullptr && r->str != nullptr ? reply_text(r) : std::string("unexpected reply");
  if (is_transient_error(r)) {
    return Error(errc::unavailable, "Redis cannot serve " + std::string(what) + " right now: " + msg);
  }
  return Error(errc::internal, "Redis " + std::string(what) + " failed: " + msg);
}

namespace {

// "host[:port]" or "[v6]:port" into n (port defaults to 6379).
core::Result<void> parse_host_port(std::string_view authority, RedisNode& n) {
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad_url("the host is missing");
  n.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_int(port);
    if (!p || *p < 1 || *p > 65535)
      return bad_url("port \"" + std::string(port) + "\" is not a number in 1..65535");
    n.port = *p;
  } else if (authority.ends_with(':')) {
    return bad_url("the port after ':' is empty");
  }
  return {};
}

core::Result<void> parse_userinfo(std::string_view userinfo, RedisUrl& out) {
  std::string_view user = userinfo;
  std::string_view pass;
  bool has_pass = false;
  if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
    user = userinfo.substr(0, colon);
    pass = userinfo.substr(colon + 1);
    has_pass = true;
  }
  auto u = percent_decode(user);
  auto p = percent_decode(pass);
  if (!u || !p) return bad_url("bad percent-encoding in the user or password");
  if (!has_pass) {
    // "redis://secret@host" is how many tools spell a password-only URL.
    out.password = std::move(*u);
  } else {
    out.username = std::move(*u);
    out.password = std::move(*p);
  }
  return {};
}

core::Result<int> parse_db(std::string_view path) {
  auto db = parse_int(path);
  if (!db || *db < 0) return bad_url("database \"" + std::string(path) + "\" is not a non-negative number");
  return *db;
}

bool valid_master_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

core::Result<RedisUrl> RedisUrl::parse(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  constexpr std::string_view cluster_scheme = "redis+cluster://";
  constexpr std::string_view sentinel_scheme = "redis+sentinel://";
  if (url.starts_with("rediss://"))
    return bad_url("TLS (rediss://) is not supported; use redis:// on a trusted network");
  RedisUrl out;
  std::string_view rest;
  if (url.starts_with(scheme)) {
    rest = url.substr(scheme.size());
  } else if (url.starts_with(cluster_scheme)) {
    out.mode = RedisMode::cluster;
    rest = url.substr(cluster_scheme.size());
  } else if (url.starts_with(sentinel_scheme)) {
    out.mode = RedisMode::sentinel;
    rest = url.substr(sentinel_scheme.size());
  } else {
    return bad_url("it must start with redis://, redis+cluster:// or redis+sentinel://");
  }

  std::string_view authority = rest;
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (auto r = parse_userinfo(authority.substr(0, at), out); !r) return r.error();
    authority = authority.substr(at + 1);
  }

  if (out.mode == RedisMode::single) {
    RedisNode n;
    if (auto r = parse_host_port(authority, n); !r) return r.error();
    out.host = n.host;
    out.port = n.port;
    if (!path.empty()) {
      auto db = parse_db(path);
      if (!db) return db.error();
      out.db = *db;
    }
    return out;
  }

  const char* what = out.mode == RedisMode::cluster ? "seed node" : "sentinel";
  while (true) {
    auto comma = authority.find(',');
    std::string_view one = authority.substr(0, comma);
    RedisNode n;
    n.port = out.mode == RedisMode::sentinel ? 26379 : 6379;  // Sentinel's own default port
    if (one.empty()) return bad_url(std::string("an empty ") + what + " address in the list");
    if (auto r = parse_host_port(one, n); !r) return r.error();
    out.nodes.push_back(std::move(n));
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  if (out.mode == RedisMode::cluster) {
    if (!path.empty()) return bad_url("a Redis Cluster has only database 0; drop the /" + std::string(path));
    out.host = out.nodes.front().host;
    out.port = out.nodes.front().port;
    return out;
  }
  std::string_view db;
  if (auto slash = path.find('/'); slash != std::string_view::npos) {
    db = path.substr(slash + 1);
    path = path.substr(0, slash);
  }
  if (!valid_master_name(path)) {
    return bad_url("the name of the Sentinel-monitored primary (redis+sentinel://sentinels/<name>) is missing or "
                   "holds characters other than letters, digits, '.', '-', '_'");
  }
  out.master = std::string(path);
  if (!db.empty()) {
    auto d = parse_db(db);
    if (!d) return d.error();
    out.db = *d;
  }
  out.host.clear();
  out.port = 0;
  return out;
}

std::string RedisNode::display() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string RedisUrl::display() const {
  std::string s = mode == RedisMode::cluster    ? "redis+cluster://"
                  : mode == RedisMode::sentinel ? "redis+sentinel://"
                                                : "redis://";
  if (!username.empty() || !password.empty()) {
    s += username;
    if (!password.empty()) s += ":***";
    s += "@";
  }
  if (mode == RedisMode::single) {
    s += RedisNode{host, port}.display();
  } else {
    for (size_t i = 0; i < nodes.size(); ++i) s += (i ? "," : "") + nodes[i].display();
  }
  if (mode == RedisMode::sentinel) s += "/" + master;
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

RedisUrl RedisUrl::for_prefix(std::string_view key_prefix) const {
  RedisUrl u = *this;
  u.route_key = "{" + std::string(key_prefix) + "}";
  return u;
}

Redis::Redis(RedisUrl url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {
  if (url_.mode == RedisMode::single) node_ = RedisNode{url_.host, url_.port};
}

core::Error Redis::io_error(std::string_view what) {
  std::string detail = ctx_ && ctx_->err != 0 ? std::string(ctx_->errstr) : std::string("connection lost");
  ctx_.reset();  // reconnect on the next command
  moved_to_.reset();
  std::string where = url_.mode == RedisMode::single ? url_.display() : node_.display() + " (" + url_.display() + ")";
  return Error(errc::unavailable, "Redis at " + where + " is unavailable (" + std::string(what) + ": " + detail +
                                      "); check that Redis is running and reachable");
}

namespace {

// One command on a connection that is being set up; errors are errc::unavailable.
core::Result<ReplyPtr> setup_command(redisContext* c, const RedisNode& n, const std::vector<std::string>& argv,
                                     std::string_view what) {
  std::vector<size_t> lens;
  auto ptrs = argv_ptrs(argv, lens);
  ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
  if (!r) {
    return Error(errc::unavailable, "Redis at " + n.display() + ": " + std::string(what) +
                                        " failed: " + (c->err != 0 ? c->errstr : "connection lost"));
  }
  if (r->type == REDIS_REPLY_ERROR) {
    return Error(errc::unavailable, "Redis at " + n.display() + " rejected " + std::string(what) + ": " +
                                        reply_text(r.get()));
  }
  return r;
}

}  // namespace

core::Result<ContextPtr> Redis::open(const RedisNode& n, std::chrono::milliseconds timeout, bool data_node) {
  ContextPtr c(redisConnectWithTimeout(n.host.c_str(), n.port, to_timeval(timeout)));
  if (!c) return Error(errc::unavailable, "cannot allocate a Redis connection");
  if (c->err != 0) {
    return Error(errc::unavailable, "cannot connect to Redis at " + n.display() + ": " + c->errstr +
                                        "; check that Redis is running and the URL is right");
  }
  redisSetTimeout(c.get(), to_timeval(timeout));
  redisEnableKeepAlive(c.get());
  if (!data_node) return c;
  if (!url_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!url_.username.empty()) auth.push_back(url_.username);
    auth.push_back(url_.password);
    if (auto r = setup_command(c.get(), n, auth, "AUTH"); !r) {
      return Error(errc::unavailable, r.error().message + "; check the credentials in the Redis URL");
    }
  }
  if (url_.db != 0) {
    if (auto r = setup_command(c.get(), n, {"SELECT", std::to_string(url_.db)}, "SELECT " + std::to_string(url_.db));
        !r) {
      return Error(errc::unavailable, r.error().message + "; check the database in the Redis URL");
    }
  }
  return c;
}

core::Result<void> Redis::ensure_connected() {
  // A connection the server closed while we were idle (Redis restarted, idle timeout, Sentinel's
  // CLIENT KILL after a failover) would fail the next command although Redis is back; notice that
  // before sending anything, when it is certain that nothing was executed.
  if (ctx_ && server_closed(ctx_->fd)) {
    ctx_.reset();
    moved_to_.reset();
  }
  if (ctx_) return {};
  core::Result<ContextPtr> c = Error(errc::internal, "no connection");
  switch (url_.mode) {
    case RedisMode::single:
      c = open(node_, timeout_, true);
      break;
    case RedisMode::cluster:
      c = discover_cluster();
      break;
    case RedisMode::sentinel:
      c = discover_sentinel();
      break;
  }
  if (!c) return c.error();
  ctx_ = std::move(c.value());
  redisSetTimeout(ctx_.get(), to_timeval(timeout_ + block_));
  return {};
}

core::Result<ContextPtr> Redis::release() {
  if (auto c = ensure_connected(); !c) return c.error();
  moved_to_.reset();
  return std::move(ctx_);
}

bool Redis::note_error(const redisReply* r) {
  std::string_view msg(r->str, r->len);
  if (msg.starts_with("MOVED ")) {
    // "MOVED <slot> <host>:<port>": the slot lives elsewhere now; nothing ran.
    ctx_.reset();
    auto space = msg.rfind(' ');
    RedisNode n;
    if (url_.mode == RedisMode::cluster && space != std::string_view::npos) {
      std::string_view addr = msg.substr(space + 1);
      auto colon = addr.rfind(':');
      auto port = colon == std::string_view::npos ? std::nullopt : parse_int(addr.substr(colon + 1));
      if (port && colon > 0) {
        n.host = std::string(addr.substr(0, colon));
        n.port = *port;
        moved_to_ = n;
        return true;
      }
    }
    moved_to_.reset();
    return false;
  }
  for (std::string_view role_change : {"READONLY", "MASTERDOWN", "UNBLOCKED", "CLUSTERDOWN"}) {
    if (msg.starts_with(role_change)) {
      ctx_.reset();  // a replica now, or the cluster is reconfiguring: ask again where to go
      moved_to_.reset();
      return false;
    }
  }
  return false;
}

core::Result<ReplyPtr> Redis::command(const std::vector<std::string>& argv) {
  const std::string what = argv.empty() ? "command" : argv.front();
  for (int hop = 0;; ++hop) {
    if (auto c = ensure_connected(); !c) return c.error();
    std::vector<size_t> lens;
    auto ptrs = argv_ptrs(argv, lens);
    ReplyPtr r(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
    if (!r) return io_error(what);
    if (r->type != REDIS_REPLY_ERROR) return r;
    if (url_.mode == RedisMode::cluster && hop < 5 && std::string_view(r->str, r->len).starts_with("ASK ")) {
      return ask(r.get(), argv);
    }
    if (note_error(r.get()) && hop < 5) continue;
    return error_from_reply(r.get(), what);
  }
}

core::Result<std::vector<ReplyPtr>> Redis::pipeline(const std::vector<std::vector<std::string>>& cmds) {
  for (int hop = 0;; ++hop) {
    if (auto c = ensure_connected(); !c) return c.error();
    for (const auto& argv : cmds) {
      if (append_command(ctx_.get(), argv) != REDIS_OK) return io_error("pipeline");
    }
    std::vector<ReplyPtr> out;
    out.reserve(cmds.size());
    for (size_t i = 0; i < cmds.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) return io_error("pipeline");
      out.emplace_back(static_cast<redisReply*>(raw));
    }
    // Every reply MOVED: nothing ran, send it all to the new owner. Some: the callers see the errors
    // (unavailable) and the connection asks again where to go.
    size_t moved = 0;
    bool retarget = false;
    for (const auto& r : out) {
      if (r->type != REDIS_REPLY_ERROR) continue;
      if (std::string_view(r->str, r->len).starts_with("MOVED ")) ++moved;
      if (note_error(r.get())) retarget = true;
    }
    if (retarget && moved == out.size() && hop < 5) continue;
    if (retarget) moved_to_.reset();
    return out;
  }
}

core::Result<std::vector<ReplyPtr>> Redis::pipeline(const std::vector<std::vector<std::string>>& cmds,
                                                    std::chrono::milliseconds block) {
  block_ = block;
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(block_ + timeout_));
  auto out = pipeline(cmds);
  block_ = std::chrono::milliseconds(0);
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout_));
  return out;
}

core::Result<ReplyPtr> Redis::blocking_command(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds block) {
  block_ = block;
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(block_ + timeout_));
  auto out = command(argv);
  block_ = std::chrono::milliseconds(0);
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout_));
  return out;
}

core::Result<int64_t> Redis::wait_replicas(int replicas, std::chrono::milliseconds timeout) {
  auto r = blocking_command({"WAIT", std::to_string(replicas), std::to_string(timeout.count())}, timeout);
  if (!r) return r.error();
  if ((*r)->type != REDIS_REPLY_INTEGER) return Error(errc::internal, "WAIT answered something other than a number");
  return static_cast<int64_t>((*r)->integer);
}

}  // namespace helmgate::queue
