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

}  // namespace helmgate::forge
