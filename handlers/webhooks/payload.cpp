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

std::string Fields::required_string(std::string_view path) {
  auto v = json::get_string(root_, path);
  if (!v) note(path, "a string");
  return checked(path, v.value_or(""));
}

std::string Fields::optional_string(std::string_view path) {
  return checked(path, json::get_string(root_, path).value_or(""));
}

int64_t Fields::required_int(std::string_view path) {
  auto v = json::get_int(root_, path);
  if (!v) note(path, "an integer");
  return v.value_or(0);
}

bool Fields::optional_bool(std::string_view path) { return json::get_bool(root_, path).value_or(false); }

bool Fields::has_object(std::string_view path) {
  const auto* v = json::find(root_, path);
  return v != nullptr && v->IsObject();
}

std::string Fields::checked(std::string_view path, std::string v) {
  if (!json::valid_utf8(v)) note(path, "valid UTF-8");
  return v;
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
