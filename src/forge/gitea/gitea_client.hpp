#pragma once
// Gitea REST (/api/v1) with an access token ("Authorization: token ...").
#include <memory>

#include "forge/forge.hpp"
#include "forge/rest_client.hpp"
#include "forge/settings.hpp"
#include "forge/transport.hpp"

namespace helmgate::forge::gitea {

// Gitea stores comment bodies as unbounded text; GitHub's limit is used so a report split for one
// forge reads the same on the other and no proxy in front of Gitea meets a surprisingly large body.
constexpr size_t kCommentLimit = 65'536;
// Gitea's status description column is 255 characters.
constexpr size_t kStatusDescriptionLimit = 255;

class GiteaClient final : public RestForgeClient {
 public:
  // errc::invalid_config without a token or URL.
  static core::Result<std::unique_ptr<GiteaClient>> create(ForgeSettings settings, ClientDeps deps = {});

  const std::string& name() const override { return settings_.name; }
  core::ForgeKind kind() const override { return core::ForgeKind::gitea; }
  size_t comment_limit() const override { return kCommentLimit; }

  core::Result<std::vector<Comment>> list_comments(const RepoRef& repo, int64_t pr) override;
  core::Result<std::vector<CommitStatus>> statuses(const RepoRef& repo, std::string_view sha) override;
  core::Result<std::optional<PullRequest>> pull_request_for_commit(const RepoRef& repo, std::string_view sha) override;
  core::Result<Permission> user_permission(const RepoRef& repo, std::string_view user) override;
  core::Result<bool> team_member(std::string_view org, std::string_view team, std::string_view login) override;

 private:
  size_t status_description_limit() const override { return kStatusDescriptionLimit; }
  // Gitea's default MAX_RESPONSE_ITEMS is 50.
  Paging paging() const override { return {"?limit=50&page=", 50, 40}; }
  explicit GiteaClient(ForgeSettings settings) : settings_(std::move(settings)) {}

  ForgeSettings settings_;
};

}  // namespace helmgate::forge::gitea
