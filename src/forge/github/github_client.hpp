#pragma once
// GitHub REST v3 (api.github.com or GitHub Enterprise Server's /api/v3), with a PAT or a GitHub App.
#include <memory>

#include "forge/forge.hpp"
#include "forge/rest_client.hpp"
#include "forge/github/app_auth.hpp"
#include "forge/settings.hpp"
#include "forge/transport.hpp"

namespace helmgate::forge::github {

// GitHub rejects comment bodies over 65,536 characters; counting bytes keeps multi-byte text under it.
constexpr size_t kCommentLimit = 65'536;
// Commit status descriptions longer than this are refused.
constexpr size_t kStatusDescriptionLimit = 140;

class GitHubClient final : public RestForgeClient {
 public:
  // errc::invalid_config when neither a token nor an app is given.
  static core::Result<std::unique_ptr<GitHubClient>> create(ForgeSettings settings, ClientDeps deps = {});

  const std::string& name() const override { return settings_.name; }
  core::ForgeKind kind() const override { return core::ForgeKind::github; }
  size_t comment_limit() const override { return kCommentLimit; }

  core::Result<std::vector<Comment>> list_comments(const RepoRef& repo, int64_t pr) override;
  core::Result<std::vector<CommitStatus>> statuses(const RepoRef& repo, std::string_view sha) override;
  core::Result<std::optional<PullRequest>> pull_request_for_commit(const RepoRef& repo, std::string_view sha) override;
  core::Result<Permission> user_permission(const RepoRef& repo, std::string_view user) override;
  core::Result<bool> team_member(std::string_view org, std::string_view team, std::string_view login) override;

  // Installation token fetches so far (0 with a PAT).
  int64_t token_fetches() const { return app_tokens_ ? app_tokens_->fetches() : 0; }

 private:
  size_t status_description_limit() const override { return kStatusDescriptionLimit; }
  Paging paging() const override { return {"?per_page=100&page=", 100, 30}; }
  // A PAT: GET /user. A GitHub App: its installation token may not read /user; the app's slug
  // (GET /app with the app's JWT) gives the login its comments carry, "<slug>[bot]".
  core::Result<std::string> fetch_self_login() override;
  explicit GitHubClient(ForgeSettings settings) : settings_(std::move(settings)) {}

  ForgeSettings settings_;
  std::unique_ptr<InstallationTokens> app_tokens_;
};

}  // namespace helmgate::forge::github
