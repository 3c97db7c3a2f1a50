#pragma once
// What GitHub's REST v3 and Gitea's /api/v1 do the same way: creating, editing and deleting comments,
// reactions and commit statuses (Gitea mirrors GitHub's paths and bodies for these). Each forge's
// client derives from this and adds what differs (listing, permissions, the PR of a commit, auth).
#include <memory>
#include <mutex>
#include <vector>

#include "core/json.hpp"

#include "forge/forge.hpp"
#include "forge/transport.hpp"

namespace helmgate::forge {

class RestForgeClient : public ForgeClient {
 public:
  core::Result<Comment> create_comment(const RepoRef& repo, int64_t pr, const std::string& body) override;
  core::Result<void> edit_comment(const RepoRef& repo, int64_t comment_id, const std::string& body) override;
  core::Result<void> delete_comment(const RepoRef& repo, int64_t comment_id) override;
  core::Result<void> set_status(const RepoRef& repo, std::string_view sha, const CommitStatus& status) override;
  core::Result<void> react(const RepoRef& repo, int64_t comment_id, Reaction reaction) override;
  RateLimitSnapshot rate_limit() const override { return transport_->rate_limit(); }
  core::Result<PullRequest> pull_request(const RepoRef& repo, int64_t pr) override;
  core::Result<std::vector<Review>> reviews(const RepoRef& repo, int64_t pr) override;
  core::Result<std::string> self_login() override;

 protected:
  // Longest commit status description the forge accepts.
  virtual size_t status_description_limit() const = 0;
  // How the forge pages a list: the query before the page number, the page size, a cap on pages.
  struct Paging {
    std::string query;
    int page_size;
    int max_pages;
  };
  virtual Paging paging() const = 0;

  // Asks the forge who we are (the login self_login caches); GET /user unless a forge knows better.
  virtual core::Result<std::string> fetch_self_login();
  // GET a JSON array in pages (query: what makes a page, "?per_page=100&page=" or "?limit=50&page=");
  // at most max_pages of page_size items.
  core::Result<std::vector<core::json::Document>> get_pages(const std::string& path, const std::string& query,
                                                            int page_size, int max_pages, const std::string& what);

  std::unique_ptr<Transport> transport_;

 private:
  std::mutex self_mu_;
  std::string self_login_;
};

}  // namespace helmgate::forge
