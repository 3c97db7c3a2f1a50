#pragma once
// Gitea REST (/api/v1) with an access token ("Authorization: token ...").
#include <memory>

#include "forge/forge.hpp"
#include "forge/settings.hpp"
#include "forge/transport.hpp"

namespace helmgate::forge::gitea {

// Gitea stores comment bodies as unbounded text; GitHub's limit is used so a report split for one
// forge reads the same on the other and no proxy in front of Gitea meets a surprisingly large body.
constexpr size_t kCommentLimit = 65'536;
// Gitea's status description column is 255 characters.
constexpr size_t kStatusDescriptionLimit = 255;

class GiteaClient final : public ForgeClient {
 public:
  // errc::invalid_config without a token or URL.
  static core::Result<std::unique_ptr<GiteaClient>> create(ForgeSettings settings, ClientDeps deps = {});

  const std::string& name() const override { return settings_.name; }
  core::ForgeKind kind() const override { return core::ForgeKind::gitea; }
  size_t comment_limit() const override { return kCommentLimit; }

  core::Result<std::vector<Comment>> list_comments(const RepoRef& repo, int64_t pr) override;
  core::Result<Comment> create_comment(const RepoRef& repo, int64_t pr, const std::string& body) override;
  core::Result<void> edit_comment(const RepoRef& repo, int64_t comment_id, const std::string& body) override;
  core::Result<void> delete_comment(const RepoRef& repo, int64_t comment_id) override;
  core::Result<void> set_status(const RepoRef& repo, std::string_view sha, const CommitStatus& status) override;
  core::Result<std::vector<CommitStatus>> statuses(const RepoRef& repo, std::string_view sha) override;
  core::Result<std::optional<PullRequest>> pull_request_for_commit(const RepoRef& repo, std::string_view sha) override;
  core::Result<Permission> user_permission(const RepoRef& repo, std::string_view user) override;
  core::Result<void> react(const RepoRef& repo, int64_t comment_id, Reaction reaction) override;
  RateLimitSnapshot rate_limit() const override { return transport_->rate_limit(); }

 private:
  explicit GiteaClient(ForgeSettings settings) : settings_(std::move(settings)) {}

  ForgeSettings settings_;
  std::unique_ptr<Transport> transport_;
};

}  // namespace helmgate::forge::gitea
