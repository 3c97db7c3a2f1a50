#include "forge/rest_client.hpp"

#include "forge/rest_util.hpp"

namespace helmgate::forge {

core::Result<Comment> RestForgeClient::create_comment(const RepoRef& repo, int64_t pr, const std::string& body) {
  auto res = transport_->call("POST", rest::repo_path(repo) + "/issues/" + std::to_string(pr) + "/comments",
                              rest::comment_body_json(body));
  if (!res) return res.error();
  auto doc = rest::parse_json(res->body, name() + ": new comment on " + repo.full_name());
  if (!doc) return doc.error();
  return rest::read_comment(*doc);
}

core::Result<void> RestForgeClient::edit_comment(const RepoRef& repo, int64_t comment_id, const std::string& body) {
  auto res = transport_->call("PATCH", rest::repo_path(repo) + "/issues/comments/" + std::to_string(comment_id),
                              rest::comment_body_json(body));
  if (!res) return res.error();
  return {};
}

core::Result<void> RestForgeClient::delete_comment(const RepoRef& repo, int64_t comment_id) {
  auto res = transport_->call("DELETE", rest::repo_path(repo) + "/issues/comments/" + std::to_string(comment_id));
  if (!res) return res.error();
  return {};
}

core::Result<void> RestForgeClient::set_status(const RepoRef& repo, std::string_view sha, const CommitStatus& status) {
  auto res = transport_->call("POST", rest::repo_path(repo) + "/statuses/" + rest::segment(sha),
                              rest::status_json(status, status_description_limit()));
  if (!res) return res.error();
  return {};
}

core::Result<void> RestForgeClient::react(const RepoRef& repo, int64_t comment_id, Reaction reaction) {
  auto res = transport_->call("POST",
                              rest::repo_path(repo) + "/issues/comments/" + std::to_string(comment_id) + "/reactions",
                              rest::reaction_json(reaction));
  if (!res) return res.error();
  return {};
}

core::Result<PullRequest> RestForgeClient::pull_request(const RepoRef& repo, int64_t pr) {
  const std::string what = name() + ": pull request " + repo.full_name() + "#" + std::to_string(pr);
  auto res = transport_->call("GET", rest::repo_path(repo) + "/pulls/" + std::to_string(pr), {}, true);
  if (!res) return res.error();
  if (res->status == 404) return core::Error(core::errc::not_found, what + " does not exist");
  if (res->status / 100 != 2)
    return core::Error(core::errc::unavailable, what + ": the forge answered " + std::to_string(res->status));
  auto doc = rest::parse_json(res->body, what);
  if (!doc) return doc.error();
  if (!doc->IsObject()) return core::Error(core::errc::unavailable, what + ": the answer is not an object");
  return rest::read_pull(*doc);
}

core::Result<std::vector<Review>> RestForgeClient::reviews(const RepoRef& repo, int64_t pr) {
  const Paging p = paging();
  auto pages = get_pages(rest::repo_path(repo) + "/pulls/" + std::to_string(pr) + "/reviews", p.query, p.page_size,
                         p.max_pages, name() + ": reviews of " + repo.full_name() + "#" + std::to_string(pr));
  if (!pages) return pages.error();
  std::vector<Review> out;
  for (const auto& page : *pages) {
    for (const auto& r : page.GetArray()) out.push_back(rest::read_review(r));
  }
  return out;
}

core::Result<std::vector<core::json::Document>> RestForgeClient::get_pages(const std::string& path,
                                                                           const std::string& query, int page_size,
                                                                           int max_pages, const std::string& what) {
  std::vector<core::json::Document> pages;
  for (int page = 1; page <= max_pages; ++page) {
    auto res = transport_->call("GET", path + query + std::to_string(page));
    if (!res) return res.error();
    auto doc = rest::parse_json(res->body, what);
    if (!doc) return doc.error();
    if (!doc->IsArray()) return core::Error(core::errc::unavailable, what + ": the answer is not a list");
    bool last = doc->Size() < static_cast<rapidjson::SizeType>(page_size);
    pages.push_back(std::move(*doc));
    if (last) return pages;
  }
  // More than we read: deciding on a partial list could miss a later review, so fail instead.
  return core::Error(core::errc::payload_too_large,
                     what + ": more than " + std::to_string(page_size * max_pages) + " entries; not read");
}

core::Result<std::string> RestForgeClient::fetch_self_login() {
  auto res = transport_->call("GET", "/user");
  if (!res) return res.error();
  auto doc = rest::parse_json(res->body, name() + ": the authenticated user (GET /user)");
  if (!doc) return doc.error();
  auto login = core::json::get_string(*doc, "login");
  if (!login || login->empty())
    return core::Error(core::errc::unavailable, name() + ": GET /user answered without a login");
  return *login;
}

core::Result<std::string> RestForgeClient::self_login() {
  std::lock_guard lock(self_mu_);
  if (!self_login_.empty()) return self_login_;
  auto login = fetch_self_login();
  if (!login) return login.error();
  self_login_ = *login;
  return self_login_;
}

}  // namespace helmgate::forge
