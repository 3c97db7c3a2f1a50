#include "handlers/webhooks/payload.hpp"

namespace helmgate::handlers::webhooks {
namespace {

namespace json = core::json;

constexpr std::string_view kZeroSha = "0000000000000000000000000000000000000000";

void read_repo(Fields& f, core::RepoRef& repo) {
  repo.full_name = f.required_string("repository.full_name");
  repo.clone_url = f.optional_string("repository.clone_url");
  repo.html_url = f.optional_string("repository.html_url");
  repo.default_branch = f.optional_string("repository.default_branch");
}

}  // namespace

const core::json::PathSet& payload_paths() {
  static const core::json::PathSet paths{
      "action", "sender.login", "ref", "before", "after", "deleted", "number", "is_pull",
      "repository.full_name", "repository.clone_url", "repository.html_url", "repository.default_branch",
      "pull_request.head.sha", "pull_request.head.ref", "pull_request.base.sha", "pull_request.base.ref",
      "pull_request.merged", "pull_request.merge_commit_sha",
      "issue.number", "issue.pull_request", "comment.id", "comment.body", "comment.user.login"};
  return paths;
}

const json::Selected* Fields::at(std::string_view path) {
  const json::Selected* v = selection_.at(path);
  if (v == nullptr && error_.empty()) error_ = "internal: field '" + std::string(path) + "' is not among payload_paths()";
  return v;
}

std::string Fields::required_string(std::string_view path) {
  const json::Selected* v = at(path);
  if (v == nullptr || v->type != json::Selected::Type::string) {
    note(path, "a string");
    return "";
  }
  return checked(path, v);
}

std::string Fields::optional_string(std::string_view path) {
  const json::Selected* v = at(path);
  return v == nullptr || v->type != json::Selected::Type::string ? "" : checked(path, v);
}

int64_t Fields::required_int(std::string_view path) {
  const json::Selected* v = at(path);
  if (v == nullptr || !v->is_int64) {
    note(path, "an integer");
    return 0;
  }
  return v->int64;
}

bool Fields::optional_bool(std::string_view path) {
  const json::Selected* v = at(path);
  return v != nullptr && v->type == json::Selected::Type::boolean && v->boolean;
}

bool Fields::has_object(std::string_view path) {
  const json::Selected* v = at(path);
  return v != nullptr && v->type == json::Selected::Type::object;
}

std::string Fields::checked(std::string_view path, const json::Selected* v) {
  if (!json::valid_utf8(v->string)) note(path, "valid UTF-8");
  return v->string;
}

void Fields::note(std::string_view path, const char* type) {
  if (!error_.empty()) return;
  error_ = "field '" + std::string(path) + "' is missing or is not " + type;
}

void read_ping(Fields& f, core::Event& ev) {
  ev.kind = core::EventKind::ping;
  ev.repo.full_name = f.optional_string("repository.full_name");
}

void read_push(Fields& f, core::Event& ev) {
  ev.kind = core::EventKind::push;
  read_repo(f, ev.repo);
  ev.ref = f.required_string("ref");
  ev.before = f.required_string("before");
  ev.after = f.required_string("after");
  // GitHub says "deleted"; Gitea only sends an all-zero "after".
  ev.ref_deleted = f.optional_bool("deleted") || ev.after == kZeroSha;
}

void read_pull_request(Fields& f, core::Event& ev) {
  ev.kind = core::EventKind::pull_request;
  read_repo(f, ev.repo);
  ev.action = f.required_string("action");
  ev.pr_number = f.required_int("number");
  ev.head_sha = f.required_string("pull_request.head.sha");
  ev.head_ref = f.required_string("pull_request.head.ref");
  ev.base_sha = f.optional_string("pull_request.base.sha");
  ev.base_ref = f.required_string("pull_request.base.ref");
  ev.merged = f.optional_bool("pull_request.merged");
  ev.merge_commit_sha = f.optional_string("pull_request.merge_commit_sha");
}

void read_comment(Fields& f, core::Event& ev) {
  ev.kind = core::EventKind::comment;
  read_repo(f, ev.repo);
  ev.action = f.required_string("action");
  ev.pr_number = f.required_int("issue.number");
  ev.comment_id = f.required_int("comment.id");
  ev.comment_body = f.optional_string("comment.body");  // GitHub sends null for an empty body
  ev.comment_author = f.required_string("comment.user.login");
  // A PR's issue carries a "pull_request" object.
  ev.comment_on_pull = f.has_object("issue.pull_request");
}

void read_other(Fields& f, core::Event& ev) {
  ev.kind = core::EventKind::other;
  ev.repo.full_name = f.optional_string("repository.full_name");
}

}  // namespace helmgate::handlers::webhooks
