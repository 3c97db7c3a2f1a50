#include "forge/gitea/gitea_client.hpp"

#include <map>

#include "forge/kinds.hpp"
#include "forge/rest_util.hpp"

namespace helmgate::forge::gitea {

core::Result<std::unique_ptr<GiteaClient>> GiteaClient::create(ForgeSettings settings, ClientDeps deps) {
  if (settings.token.empty() || settings.api_url.empty()) {
    return core::Error(core::errc::invalid_config,
                       "forge '" + settings.name + "': Gitea needs api_url and a token (token_env)");
  }
  while (!settings.api_url.empty() && settings.api_url.back() == '/') settings.api_url.pop_back();
  // Both "https://host" and "https://host/api/v1" are accepted as api_url.
  const std::string suffix = "/api/v1";
  std::string base = settings.api_url;
  if (base.size() < suffix.size() || base.compare(base.size() - suffix.size(), suffix.size(), suffix) != 0) base += suffix;

  std::unique_ptr<GiteaClient> client(new GiteaClient(std::move(settings)));
  TransportOptions topts;
  topts.forge_name = client->settings_.name;
  topts.api_url = base;
  topts.default_headers = {{"Accept", "application/json"}};
  topts.retry = deps.retry;
  // Without a shared one, a limiter of its own that keeps only the concurrency cap (kinds.cpp).
  topts.limiter = deps.limiter ? deps.limiter
                               : std::make_shared<WriteLimiter>(write_limits(core::ForgeKind::gitea), deps.clock ? deps.clock : system_clock());
  topts.clock = deps.clock;
  topts.http = deps.http;
  client->transport_ = std::make_unique<Transport>(
      std::move(topts), [token = client->settings_.token]() -> core::Result<http::Headers> {
        return http::Headers{{"Authorization", "token " + token}};
      });
  return client;
}

core::Result<std::vector<Comment>> GiteaClient::list_comments(const RepoRef& repo, int64_t pr) {
  // Gitea answers this one unpaginated.
  auto res = transport_->call("GET", rest::repo_path(repo) + "/issues/" + std::to_string(pr) + "/comments");
  if (!res) return res.error();
  auto doc = rest::parse_json(res->body, name() + ": comments of " + repo.full_name() + "#" + std::to_string(pr));
  if (!doc) return doc.error();
  if (!doc->IsArray()) return core::Error(core::errc::unavailable, name() + ": comment list is not an array");
  std::vector<Comment> out;
  for (const auto& c : doc->GetArray()) out.push_back(rest::read_comment(c));
  return out;
}

core::Result<std::vector<CommitStatus>> GiteaClient::statuses(const RepoRef& repo, std::string_view sha) {
  // Every status ever set, in pages; the highest id per context is the current one.
  std::map<std::string, std::pair<int64_t, CommitStatus>> latest;
  constexpr int kLimit = 50;
  for (int page = 1; page <= 20; ++page) {
    auto res = transport_->call("GET", rest::repo_path(repo) + "/commits/" + rest::segment(sha) +
                                           "/statuses?limit=" + std::to_string(kLimit) + "&page=" + std::to_string(page));
    if (!res) return res.error();
    auto doc = rest::parse_json(res->body, name() + ": statuses of " + std::string(sha));
    if (!doc) return doc.error();
    if (!doc->IsArray()) return core::Error(core::errc::unavailable, name() + ": status list is not an array");
    for (const auto& s : doc->GetArray()) {
      CommitStatus st;
      st.context = core::json::get_string(s, "context").value_or("default");
      auto state = core::json::get_string(s, "status");
      if (!state) state = core::json::get_string(s, "state");
      st.state = rest::parse_state(state.value_or("")).value_or(CommitState::error);
      st.description = core::json::get_string(s, "description").value_or("");
      st.target_url = core::json::get_string(s, "target_url").value_or("");
      int64_t id = core::json::get_int(s, "id").value_or(0);
      std::string key = st.context;
      auto it = latest.find(key);
      if (it == latest.end() || it->second.first < id) latest[key] = {id, std::move(st)};
    }
    if (doc->Size() < static_cast<rapidjson::SizeType>(kLimit)) break;
  }
  std::vector<CommitStatus> out;
  for (auto& [ctx, v] : latest) out.push_back(std::move(v.second));
  return out;
}

core::Result<std::optional<PullRequest>> GiteaClient::pull_request_for_commit(const RepoRef& repo, std::string_view sha) {
  auto res = transport_->call("GET", rest::repo_path(repo) + "/commits/" + rest::segment(sha) + "/pull", {}, true);
  if (!res) return res.error();
  if (res->status == 404) return std::optional<PullRequest>{};
  auto doc = rest::parse_json(res->body, name() + ": pull request of " + std::string(sha));
  if (!doc) return doc.error();
  return std::optional<PullRequest>(rest::read_pull(*doc));
}

core::Result<Permission> GiteaClient::user_permission(const RepoRef& repo, std::string_view user) {
  auto res = transport_->call("GET", rest::repo_path(repo) + "/collaborators/" + rest::segment(user) + "/permission", {}, true);
  if (!res) return res.error();
  if (res->status == 404) return Permission::none;
  auto doc = rest::parse_json(res->body, name() + ": permission of " + std::string(user));
  if (!doc) return doc.error();
  auto p = core::json::get_string(*doc, "permission").value_or("none");
  if (p == "owner" || p == "admin") return Permission::admin;
  if (p == "write") return Permission::write;
  if (p == "read") return Permission::read;
  return Permission::none;
}

core::Result<bool> GiteaClient::team_member(std::string_view org, std::string_view team, std::string_view login) {
  // Gitea addresses teams by id: find it by name in the organisation, then ask for the member.
  auto found = transport_->call("GET", "/orgs/" + rest::segment(org) + "/teams/search?q=" + rest::segment(team), {}, true);
  if (!found) return found.error();
  if (found->status == 404) return false;
  auto doc = rest::parse_json(found->body, name() + ": teams of " + std::string(org));
  if (!doc) return doc.error();
  int64_t id = 0;
  if (doc->IsObject() && doc->HasMember("data") && (*doc)["data"].IsArray()) {
    for (const auto& t : (*doc)["data"].GetArray()) {
      if (core::json::get_string(t, "name").value_or("") == team) id = core::json::get_int(t, "id").value_or(0);
    }
  }
  if (id == 0) return false;
  auto res = transport_->call("GET", "/teams/" + std::to_string(id) + "/members/" + rest::segment(login), {}, true);
  if (!res) return res.error();
  return res->status == 200;
}

}  // namespace helmgate::forge::gitea
