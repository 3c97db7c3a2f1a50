#include "forge/transport.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include "core/json.hpp"

namespace helmgate::forge {

namespace {

bool is_write(std::string_view method) {
  return method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE";
}

std::optional<int64_t> to_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

core::errc errc_for(unsigned status) {
  switch (status) {
    case 400:
    case 422: return core::errc::bad_request;
    case 401: return core::errc::unauthorized;
    case 403: return core::errc::forbidden;
    case 404: return core::errc::not_found;
    case 409: return core::errc::conflict;
    case 413: return core::errc::payload_too_large;
    default: return status >= 500 || status == 429 ? core::errc::unavailable : core::errc::bad_request;
  }
}

std::string hint_for(unsigned status) {
  switch (status) {
    case 401: return "check the forge token (token_env) or the GitHub App key: it was refused";
    case 403: return "check that the token or app may write to this repository (scopes, app permissions, branch rules)";
    case 404: return "check the repository name and that the token can see it";
    case 422: return "the forge rejected the request's content";
    default: return {};
  }
}

// Credentials must not leave through an error message even if a forge echoes one back.
std::string scrub(std::string text, const http::Headers& auth) {
  for (const auto& [name, value] : auth) {
    std::string_view v = value;
    if (auto sp = v.find(' '); sp != std::string_view::npos) v = v.substr(sp + 1);
    if (v.size() < 4) continue;
    for (size_t pos; (pos = text.find(v)) != std::string::npos;) text.replace(pos, v.size(), "***");
  }
  return text;
}

}  // namespace

std::string ApiResponse::header(std::string_view name) const {
  http::ClientResponse r;
  r.headers = headers;
  return r.header(name);
}

std::string forge_message(std::string_view body) {
  core::json::Document doc;
  if (!core::json::parse(doc, body) && doc.IsObject()) {
    std::string msg = core::json::get_string(doc, "message").value_or("");
    if (auto* errors = core::json::find(doc, "errors"); errors && errors->IsArray()) {
      std::string details;
      for (const auto& e : errors->GetArray()) {
        std::string one;
        if (e.IsString()) {
          one = e.GetString();
        } else if (e.IsObject()) {
          one = core::json::get_string(e, "message").value_or("");
          if (one.empty()) {
            one = core::json::get_string(e, "field").value_or("") + " " + core::json::get_string(e, "code").value_or("");
          }
        }
        if (!one.empty()) details += (details.empty() ? "" : "; ") + one;
      }
      if (!details.empty()) msg += " (" + details + ")";
    }
    if (!msg.empty()) return msg;
  }
  std::string s(body.substr(0, 200));
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s.empty() ? "(empty answer)" : s;
}

Transport::Transport(TransportOptions options, AuthProvider auth) : options_(std::move(options)), auth_(std::move(auth)) {
  while (!options_.api_url.empty() && options_.api_url.back() == '/') options_.api_url.pop_back();
  if (!options_.clock) options_.clock = system_clock();
  if (!options_.limiter) options_.limiter = std::make_shared<WriteLimiter>(LimiterOptions{}, options_.clock);
  if (!options_.http) options_.http = std::make_shared<http::Client>();
}

RateLimitSnapshot Transport::rate_limit() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void Transport::note_rate_limit(const http::ClientResponse& res) {
  auto remaining = to_int(res.header("x-ratelimit-remaining"));
  if (!remaining) return;
  std::lock_guard lock(mu_);
  rate_.known = true;
  rate_.remaining = *remaining;
  rate_.limit = to_int(res.header("x-ratelimit-limit")).value_or(-1);
  rate_.reset_epoch = to_int(res.header("x-ratelimit-reset")).value_or(0);
  rate_.resource = res.header("x-ratelimit-resource");
}

core::Result<ApiResponse> Transport::call(std::string_view method, const std::string& path, const std::string& body,
                                          bool allow_not_found) {
  auto& clock = *options_.clock;
  const auto& policy = options_.retry;
  const std::string where = options_.forge_name + ": " + std::string(method) + " " + path.substr(0, path.find('?'));
  const bool write = is_write(method);
  thread_local std::minstd_rand jitter_rng{std::random_device{}()};
  auto backoff = [&](int attempt) {
    auto base = policy.initial_backoff * (1LL << std::min(attempt - 1, 20));
    base = std::min<std::chrono::milliseconds>(base, policy.max_backoff);
    // Up to a quarter more, so that many workers that failed together do not retry together.
    auto extra = std::uniform_int_distribution<int64_t>(0, base.count() / 4)(jitter_rng);
    return base + std::chrono::milliseconds(extra);
  };
  auto until_reset = [&](int64_t reset_epoch) {
    auto reset = std::chrono::system_clock::time_point(std::chrono::seconds(reset_epoch));
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(reset - clock.wall_now()) + std::chrono::seconds(1);
    return std::max(wait, std::chrono::milliseconds(1'000));
  };

  std::string last_failure;
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    // The primary limit is spent: wait for its reset rather than burn a request on a sure 403.
    if (auto rl = rate_limit(); rl.known && rl.remaining == 0 && rl.reset_epoch > 0) {
      auto wait = until_reset(rl.reset_epoch);
      if (wait > policy.max_wait) {
        return core::Error(core::errc::unavailable, where + ": the forge's rate limit is spent until epoch " +
                                                        std::to_string(rl.reset_epoch) + "; retry the job after that");
      }
      if (wait > std::chrono::milliseconds(1'000)) clock.sleep_for(wait);
      std::lock_guard lock(mu_);
      rate_.remaining = -1;  // unknown again until the next answer says
    }
    auto auth = auth_();
    if (!auth) return auth.error();
    http::ClientRequest req;
    req.method = std::string(method);
    req.url = options_.api_url + path;
    req.headers = options_.default_headers;
    req.headers.insert(req.headers.end(), auth->begin(), auth->end());
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;

    core::Result<http::ClientResponse> res = core::Error{};
    {
      WriteLimiter::Permit permit;
      if (write) permit = options_.limiter->acquire();
      res = options_.http->request(req);
    }
    if (!res) {
      last_failure = res.error().message;
      if (attempt < policy.max_attempts) clock.sleep_for(backoff(attempt));
      continue;
    }
    note_rate_limit(*res);
    const unsigned status = res->status;
    if ((status >= 200 && status < 300) || (status == 404 && allow_not_found)) {
      return ApiResponse{status, std::move(res->body), std::move(res->headers)};
    }
    std::string message = scrub(forge_message(res->body), *auth);
    last_failure = "answered " + std::to_string(status) + ": " + message;

    std::optional<std::chrono::milliseconds> wait;
    auto retry_after = to_int(res->header("retry-after"));
    if (retry_after && *retry_after >= 0) {
      if (status == 403 || status == 429 || status >= 500) wait = std::chrono::seconds(*retry_after);
    } else if ((status == 403 || status == 429) && res->header("x-ratelimit-remaining") == "0") {
      auto reset = to_int(res->header("x-ratelimit-reset"));
      wait = reset ? until_reset(*reset) : policy.secondary_limit_wait;
    } else if (status == 429 || (status == 403 && contains_ci(message, "secondary rate limit"))) {
      // GitHub asks for at least a minute, then exponentially more.
      wait = std::min<std::chrono::milliseconds>(policy.secondary_limit_wait * (1LL << std::min(attempt - 1, 10)),
                                                 policy.max_wait);
    } else if (status == 500 || status == 502 || status == 503 || status == 504) {
      wait = backoff(attempt);
    }
    if (!wait) {
      std::string hint = hint_for(status);
      return core::Error(errc_for(status), where + " " + last_failure + (hint.empty() ? "" : "; " + hint));
    }
    if (*wait > policy.max_wait) {
      return core::Error(core::errc::unavailable, where + " " + last_failure + "; the forge asks to wait " +
                                                      std::to_string(wait->count() / 1000) + " s, retry the job later");
    }
    if (attempt < policy.max_attempts) clock.sleep_for(*wait);
  }
  return core::Error(core::errc::unavailable, where + ": gave up after " + std::to_string(policy.max_attempts) +
                                                  " attempts; last: " + last_failure);
}

}  // namespace helmgate::forge
