#include "forge/github/github_client.hpp"

#include <map>
#include <set>

#include "forge/rest_util.hpp"

namespace helmgate::forge::github {

namespace {

constexpr int kPerPage = 100;
constexpr int kMaxPages = 50;  // 5,000 comments: beyond that a PR is not one a preview comment should crawl

}  // namespace

core::Result<std::unique_ptr<GitHubClient>> GitHubClient::create(ForgeSettings settings, ClientDeps deps) {
  if (settings.token.empty() && !settings.github_app) {
    return core::Error(core::errc::invalid_config, "forge '" + settings.name +
                                                       "': GitHub needs a token (token_env) or a GitHub App (app id, "
                                                       "private key, installation id)");
  }
  if (settings.api_url.empty()) settings.api_url = "https://api.github.com";
  while (!settings.api_url.empty() && settings.api_url.back() == '/') settings.api_url.pop_back();
  if (!deps.clock) deps.clock = system_clock();
  if (!deps.http) deps.http = std::make_shared<http::Client>();
  if (!deps.limiter) deps.limiter = std::make_shared<WriteLimiter>(LimiterOptions{}, deps.clock);

  std::unique_ptr<GitHubClient> client(new GitHubClient(std::move(settings)));
  TransportOptions topts;
  topts.forge_name = client->settings_.name;
  topts.api_url = client->settings_.api_url;
  topts.default_headers = {{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}};
  topts.retry = deps.retry;
  topts.limiter = deps.limiter;
  topts.clock = deps.clock;
  topts.http = deps.http;

  AuthProvider auth;
  if (client->settings_.github_app) {
    client->app_tokens_ = std::make_unique<InstallationTokens>(*client->settings_.github_app, topts);
    auto* tokens = client->app_tokens_.get();
    auth = [tokens]() -> core::Result<http::Headers> {
      auto t = tokens->token();
      if (!t) return t.error();
      return http::Headers{{"Authorization", "Bearer " + *t}};
    };
  } else {
    auth = [token = client->settings_.token]() -> core::Result<http::Headers> {
      return http::Headers{{"Authorization", "Bearer " + token}};
    };
  }
  client->transport_ = std::make_unique<Transport>(std::move(topts), std::move(auth));
  return client;
}

core::Result<std::vector<Comment>> GitHubClient::list_comments(const RepoRef& repo, int64_t pr) {
  std::vector<Comment> out;
  const std::string base = rest::repo_path(repo) + "/issues/" + std::to_string(pr) + "/comments";
  for (int page = 1; page <= kMaxPages; ++page) {
    auto res = transport_->call("GET", base + "?per_page=" + std::to_string(kPerPage) + "&page=" + std::to_string(page));
    if (!res) return res.error();
    auto doc = rest::parse_json(res->body, name() + ": comments of " + repo.full_name() + "#" + std::to_string(pr));
    if (!doc) return doc.error();
    if (!doc->IsArray()) return core::Error(core::errc::unavailable, name() + ": comment list is not an array");
    for (const auto& c : doc->GetArray()) out.push_back(rest::read_comment(c));
    if (doc->Size() < static_cast<rapidjson::SizeType>(kPerPage)) break;
  }
  return out;
}

core::Result<std::vector<CommitStatus>> GitHubClient::statuses(const RepoRef& repo, std::string_view sha) {
  // Newest first: the first one seen per context is its current state.
  std::vector<CommitStatus> out;
  std::set<std::string> seen;
  for (int page = 1; page <= 10; ++page) {
    auto res = transport_->call("GET", rest::repo_path(repo) + "/commits/" + rest::segment(sha) +
                                           "/statuses?per_page=" + std::to_string(kPerPage) + "&page=" + std::to_string(page));
    if (!res) return res.error();
    auto doc = rest::parse_json(res->body, name() + ": statuses of " + std::string(sha));
    if (!doc) return doc.error();
    if (!doc->IsArray()) return core::Error(core::errc::unavailable, name() + ": status list is not an array");
    for (const auto& s : doc->GetArray()) {
      CommitStatus st;
      st.context = core::json::get_string(s, "context").value_or("default");
      if (!seen.insert(st.context).second) continue;
      st.state = rest::parse_state(core::json::get_string(s, "state").value_or("")).value_or(CommitState::error);
      st.description = core::json::get_string(s, "description").value_or("");
      st.target_url = core::json::get_string(s, "target_url").value_or("");
      out.push_back(std::move(st));
    }
    if (doc->Size() < static_cast<rapidjson::SizeType>(kPerPage)) break;
  }
  return out;
}

core::Result<std::optional<PullRequest>> GitHubClient::pull_request_for_commit(const RepoRef& repo, std::string_view sha) {
  auto res = transport_->call("GET", rest::repo_path(repo) + "/commits/" + rest::segment(sha) + "/pulls", {}, true);
  if (!res) return res.error();
  if (res->status == 404) return std::optional<PullRequest>{};
  auto doc = rest::parse_json(res->body, name() + ": pull requests of " + std::string(sha));
  if (!doc) return doc.error();
  if (!doc->IsArray() || doc->Empty()) return std::optional<PullRequest>{};
  std::optional<PullRequest> first;
  for (const auto& v : doc->GetArray()) {
    auto p = rest::read_pull(v);
    // A commit can be in several PRs; the one it merged is the answer.
    if (p.merge_commit_sha == sha && p.merged) return std::optional<PullRequest>(std::move(p));
    if (!first) first = std::move(p);
  }
  return first;
}

core::Result<Permission> GitHubClient::user_permission(const RepoRef& repo, std::string_view user) {
  auto res = transport_->call("GET", rest::repo_path(repo) + "/collaborators/" + rest::segment(user) + "/permission", {}, true);
  if (!res) return res.error();
  if (res->status == 404) return Permission::none;
  auto doc = rest::parse_json(res->body, name() + ": permission of " + std::string(user));
  if (!doc) return doc.error();
  auto p = core::json::get_string(*doc, "permission").value_or("none");
  if (p == "admin") return Permission::admin;
  if (p == "write" || p == "maintain") return Permission::write;
  if (p == "read" || p == "triage") return Permission::read;
  return Permission::none;
}

core::Result<bool> GitHubClient::team_member(std::string_view org, std::string_view team, std::string_view login) {
  auto res = transport_->call("GET", "/orgs/" + rest::segment(org) + "/teams/" + rest::segment(team) + "/memberships/" +
                                         rest::segment(login), {}, true);
  if (!res) return res.error();
  if (res->status == 404) return false;
  auto doc = rest::parse_json(res->body, name() + ": membership of " + std::string(login) + " in " + std::string(org) +
                                             "/" + std::string(team));
  if (!doc) return doc.error();
  return core::json::get_string(*doc, "state").value_or("") == "active";  // "pending": invited, not a member yet
}

core::Result<std::string> GitHubClient::fetch_self_login() {
  if (!app_tokens_) return RestForgeClient::fetch_self_login();
  auto slug = app_tokens_->app_slug();
  if (!slug) return slug.error();
  return *slug + "[bot]";
}

}  // namespace helmgate::forge::github
