#include "forge/rest_util.hpp"

#include "core/names.hpp"

namespace helmgate::forge::rest {

// One encoder for every URL path segment (core/names): owners, names, users and refs may hold anything.
std::string segment(std::string_view s) { return core::names::path_segment(s); }

std::string repo_path(const RepoRef& repo) { return "/repos/" + segment(repo.owner) + "/" + segment(repo.name); }

core::Result<core::json::Document> parse_json(const std::string& body, const std::string& what) {
  core::json::Document doc;
  if (auto err = core::json::parse(doc, body)) {
    return core::Error(core::errc::unavailable, what + ": the forge answered with something that is not JSON (" + *err + ")");
  }
  return doc;
}

Comment read_comment(const core::json::Value& v) {
  Comment c;
  c.id = core::json::get_int(v, "id").value_or(0);
  c.body = core::json::get_string(v, "body").value_or("");
  c.author = core::json::get_string(v, "user.login").value_or("");
  return c;
}

PullRequest read_pull(const core::json::Value& v) {
  PullRequest p;
  p.number = core::json::get_int(v, "number").value_or(0);
  p.state = core::json::get_string(v, "state").value_or("");
  // GitHub's list answers carry merged_at but not merged; Gitea carries both.
  p.merged = core::json::get_bool(v, "merged").value_or(false) || core::json::get_string(v, "merged_at").has_value();
  p.head_sha = core::json::get_string(v, "head.sha").value_or("");
  p.base_ref = core::json::get_string(v, "base.ref").value_or("");
  p.merge_commit_sha = core::json::get_string(v, "merge_commit_sha").value_or("");
  p.html_url = core::json::get_string(v, "html_url").value_or("");
  p.author = core::json::get_string(v, "user.login").value_or("");
  // null (GitHub computes it in the background) and absent both mean "not known to be mergeable".
  p.mergeable = core::json::get_bool(v, "mergeable");
  return p;
}

Review read_review(const core::json::Value& v) {
  Review r;
  r.id = core::json::get_int(v, "id").value_or(0);
  r.user = core::json::get_string(v, "user.login").value_or("");
  r.commit_id = core::json::get_string(v, "commit_id").value_or("");
  r.state = parse_review_state(core::json::get_string(v, "state").value_or(""));
  r.dismissed = core::json::get_bool(v, "dismissed").value_or(false) || r.state == ReviewState::dismissed;
  r.stale = core::json::get_bool(v, "stale").value_or(false);
  return r;
}

std::optional<CommitState> parse_state(std::string_view s) {
  if (s == "pending") return CommitState::pending;
  if (s == "success") return CommitState::success;
  if (s == "failure") return CommitState::failure;
  if (s == "error") return CommitState::error;
  return std::nullopt;
}

std::string comment_body_json(const std::string& body) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "body", body);
  w.EndObject();
  return sb.GetString();
}

std::string status_json(const CommitStatus& s, size_t description_limit) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "state", to_string(s.state));
  core::json::kv(w, "context", s.context);
  core::json::kv(w, "description", one_line(s.description, description_limit));
  if (!s.target_url.empty()) core::json::kv(w, "target_url", s.target_url);
  w.EndObject();
  return sb.GetString();
}

std::string reaction_json(Reaction r) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  w.StartObject();
  core::json::kv(w, "content", to_string(r));
  w.EndObject();
  return sb.GetString();
}

}  // namespace helmgate::forge::rest
