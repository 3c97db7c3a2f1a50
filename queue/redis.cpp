#include "queue/redis.hpp"

#include <sys/socket.h>
#include <sys/time.h>

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
                                         " (expected redis://[[user]:password@]host[:port][/db])");
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

// True when the peer has closed the socket (EOF or a reset) and no reply is pending.
bool server_closed(int fd) {
  char byte = 0;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return false;
}

}  // namespace

core::Error error_from_reply(const redisReply* r, std::string_view what) {
  std::string msg = r != nullptr && r->str != nullptr ? reply_text(r) : std::string("unexpected reply");
  for (std::string_view transient :
       {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"}) {
    if (std::string_view(msg).starts_with(transient)) {
      return Error(errc::unavailable, "Redis cannot serve " + std::string(what) + " right now: " + msg);
    }
  }
  return Error(errc::internal, "Redis " + std::string(what) + " failed: " + msg);
}

core::Result<RedisUrl> RedisUrl::parse(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.starts_with("rediss://"))
    return bad_url("TLS (rediss://) is not supported; use redis:// on a trusted network");
  if (!url.starts_with(scheme)) return bad_url("it must start with redis://");
  std::string_view rest = url.substr(scheme.size());
  RedisUrl out;

  std::string_view authority = rest;
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
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
  }

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
  out.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_int(port);
    if (!p || *p < 1 || *p > 65535)
      return bad_url("port \"" + std::string(port) + "\" is not a number in 1..65535");
    out.port = *p;
  } else if (authority.ends_with(':')) {
    return bad_url("the port after ':' is empty");
  }
  if (!path.empty()) {
    auto db = parse_int(path);
    if (!db || *db < 0) return bad_url("database \"" + std::string(path) + "\" is not a non-negative number");
    out.db = *db;
  }
  return out;
}

std::string RedisUrl::display() const {
  std::string s = "redis://";
  if (!username.empty() || !password.empty()) {
    s += username;
    if (!password.empty()) s += ":***";
    s += "@";
  }
  s += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  s += ":" + std::to_string(port);
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

Redis::Redis(RedisUrl url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}

core::Error Redis::io_error(std::string_view what) {
  std::string detail = ctx_ && ctx_->err != 0 ? std::string(ctx_->errstr) : std::string("connection lost");
  ctx_.reset();  // reconnect on the next command
  return Error(errc::unavailable, "Redis at " + url_.display() + " is unavailable (" + std::string(what) +
                                      ": " + detail + "); check that Redis is running and reachable");
}

core::Result<void> Redis::ensure_connected() {
  // A connection the server closed while we were idle (Redis restarted, idle timeout) would fail
  // the next command although Redis is back; notice that before sending anything, when it is
  // certain that nothing was executed.
  if (ctx_ && server_closed(ctx_->fd)) ctx_.reset();
  if (ctx_) return {};
  ContextPtr c(redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(timeout_)));
  if (!c) return Error(errc::unavailable, "cannot allocate a Redis connection");
  if (c->err != 0) {
    return Error(errc::unavailable, "cannot connect to Redis at " + url_.display() + ": " + c->errstr +
                                        "; check that Redis is running and the URL is right");
  }
  redisSetTimeout(c.get(), to_timeval(timeout_));
  redisEnableKeepAlive(c.get());

  auto run = [&](const std::vector<std::string>& argv, std::string_view what) -> core::Result<void> {
    std::vector<size_t> lens;
    auto ptrs = argv_ptrs(argv, lens);
    ReplyPtr r(static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
    if (!r) {
      return Error(errc::unavailable, "Redis at " + url_.display() + ": " + std::string(what) +
                                          " failed: " + (c->err != 0 ? c->errstr : "connection lost"));
    }
    if (r->type == REDIS_REPLY_ERROR) {
      return Error(errc::unavailable, "Redis at " + url_.display() + " rejected " + std::string(what) + ": " +
                                          reply_text(r.get()) +
                                          "; check the credentials/database in the Redis URL");
    }
    return {};
  };
  if (!url_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!url_.username.empty()) auth.push_back(url_.username);
    auth.push_back(url_.password);
    if (auto r = run(auth, "AUTH"); !r) return r.error();
  }
  if (url_.db != 0) {
    if (auto r = run({"SELECT", std::to_string(url_.db)}, "SELECT " + std::to_string(url_.db)); !r)
      return r.error();
  }
  ctx_ = std::move(c);
  return {};
}

core::Result<ReplyPtr> Redis::command(const std::vector<std::string>& argv) {
  if (auto c = ensure_connected(); !c) return c.error();
  std::vector<size_t> lens;
  auto ptrs = argv_ptrs(argv, lens);
  ReplyPtr r(static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
  if (!r) return io_error(argv.empty() ? "command" : argv.front());
  if (r->type == REDIS_REPLY_ERROR) return error_from_reply(r.get(), argv.empty() ? "command" : argv.front());
  return r;
}

core::Result<std::vector<ReplyPtr>> Redis::pipeline(const std::vector<std::vector<std::string>>& cmds) {
  if (auto c = ensure_connected(); !c) return c.error();
  std::vector<size_t> lens;
  for (const auto& argv : cmds) {
    auto ptrs = argv_ptrs(argv, lens);
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data()) !=
        REDIS_OK) {
      return io_error("pipeline");
    }
  }
  std::vector<ReplyPtr> out;
  out.reserve(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) return io_error("pipeline");
    out.emplace_back(static_cast<redisReply*>(raw));
  }
  return out;
}

core::Result<std::vector<ReplyPtr>> Redis::pipeline(const std::vector<std::vector<std::string>>& cmds,
                                                    std::chrono::milliseconds block) {
  if (auto c = ensure_connected(); !c) return c.error();
  redisSetTimeout(ctx_.get(), to_timeval(block + timeout_));
  auto out = pipeline(cmds);
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout_));
  return out;
}

core::Result<ReplyPtr> Redis::blocking_command(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds block) {
  if (auto c = ensure_connected(); !c) return c.error();
  redisSetTimeout(ctx_.get(), to_timeval(block + timeout_));
  auto out = command(argv);
  if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout_));
  return out;
}

}  // namespace helmgate::queue
