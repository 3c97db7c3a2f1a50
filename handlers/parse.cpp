#include "handlers/parse.hpp"

#include "core/json.hpp"
#include "core/redact.hpp"

namespace helmgate::handlers {
namespace {

namespace json = core::json;
using core::errc;
using core::Error;

// GitHub's and Gitea's payloads nest about ten levels; anything far deeper is an attack on the parser
// (or on whatever walks the result recursively), refused with 400 before it is built.
constexpr unsigned kMaxPayloadDepth = 64;

constexpr std::string_view kZeroSha = "0000000000000000000000000000000000000000";

// Reads fields from the payload and remembers the first one that is missing or mistyped, so the
// 400 answer names it.
class Fields {
 public:
  explicit Fields(const json::Value& root) : root_(root) {}

  // The payload was parsed without encoding checks (the hot path); each kept string is checked here.
  std::string required_string(std::string_view path) {
    auto v = json::get_string(root_, path);
    if (!v) note(path, "a string");
    return checked(path, v.value_or(""));
  }
  std::string optional_string(std::string_view path) {
    return checked(path, json::get_string(root_, path).value_or(""));
  }
  int64_t required_int(std::string_view path) {
    auto v = json::get_int(root_, path);
    if (!v) note(path, "an integer");
    return v.value_or(0);
  }
  bool optional_bool(std::string_view path) { return json::get_bool(root_, path).value_or(false); }
  bool has_object(std::string_view path) {
    const auto* v = json::find(root_, path);
    return v != nullptr && v->IsObject();
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string checked(std::string_view path, std::string v) {
    if (!json::valid_utf8(v)) note(path, "valid UTF-8");
    return v;
  }
  void note(std::string_view path, const char* type) {
    if (!error_.empty()) return;
    error_ = "field '" + std::string(path) + "' is missing or is not " + type;
  }
  const json::Value& root_;
  std::string error_;
};

void read_repo(Fields& f, core::RepoRef& repo) {
  repo.full_name = f.required_string("repository.full_name");
  repo.clone_url = f.optional_string("repository.clone_url");
  repo.html_url = f.optional_string("repository.html_url");
  repo.default_branch = f.optional_string("repository.default_branch");
}

std::string first_line(std::string_view s) {
  size_t nl = s.find_first_of("\r\n");
  std::string line(s.substr(0, nl));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
  size_t start = line.find_first_not_of(" \t");
  return start == std::string::npos ? std::string() : line.substr(start);
}

}  // namespace

core::Result<core::Event> parse_webhook(const WebhookInput& in) {
  if (in.event.empty()) {
    return Error(errc::bad_request, in.forge == core::ForgeKind::github ? "missing X-GitHub-Event header"
                                                                        : "missing X-Gitea-Event header");
  }
  json::Document doc;
  if (auto err = json::parse_bounded(doc, in.body, kMaxPayloadDepth, false)) {
    if (err->too_deep) {
      return Error(errc::bad_request, "payload nests deeper than " + std::to_string(kMaxPayloadDepth) + " levels");
    }
    return Error(errc::bad_request, "payload is not valid JSON: " + err->message);
  }
  if (!doc.IsObject()) return Error(errc::bad_request, "payload is not a JSON object");

  core::Event ev;
  ev.forge = in.forge;
  ev.forge_name = in.forge_name;
  ev.raw_event = in.event;
  ev.delivery_id = in.delivery;
  Fields f(doc);
  ev.action = f.optional_string("action");
  ev.sender = f.optional_string("sender.login");

  const std::string& e = in.event;
  if (e == "ping") {
    ev.kind = core::EventKind::ping;
    ev.repo.full_name = f.optional_string("repository.full_name");
  } else if (e == "push") {
    ev.kind = core::EventKind::push;
    read_repo(f, ev.repo);
    ev.ref = f.required_string("ref");
    ev.before = f.required_string("before");
    ev.after = f.required_string("after");
    // GitHub says "deleted"; Gitea only sends an all-zero "after".
    ev.ref_deleted = f.optional_bool("deleted") || ev.after == kZeroSha;
  } else if (e == "pull_request" || e == "pull_request_sync") {
    ev.kind = core::EventKind::pull_request;
    read_repo(f, ev.repo);
    ev.action = f.required_string("action");
    if (ev.action == "synchronized") ev.action = "synchronize";  // Gitea's spelling
    ev.pr_number = f.required_int("number");
    ev.head_sha = f.required_string("pull_request.head.sha");
    ev.head_ref = f.required_string("pull_request.head.ref");
    ev.base_sha = f.optional_string("pull_request.base.sha");
    ev.base_ref = f.required_string("pull_request.base.ref");
    ev.merged = f.optional_bool("pull_request.merged");
    ev.merge_commit_sha = f.optional_string("pull_request.merge_commit_sha");
  } else if (e == "issue_comment") {
    ev.kind = core::EventKind::comment;
    read_repo(f, ev.repo);
    ev.action = f.required_string("action");
    ev.pr_number = f.required_int("issue.number");
    ev.comment_id = f.required_int("comment.id");
    ev.comment_body = f.optional_string("comment.body");  // GitHub sends null for an empty body
    ev.comment_author = f.required_string("comment.user.login");
    // Both forges mark a PR's issue with a "pull_request" object; newer Gitea also sends is_pull.
    ev.comment_on_pull = f.has_object("issue.pull_request") || f.optional_bool("is_pull");
  } else {
    ev.kind = core::EventKind::other;
    ev.repo.full_name = f.optional_string("repository.full_name");
  }
  if (!f.ok()) return Error(errc::bad_request, e + " payload: " + f.error());
  return ev;
}

Decision decide_jobs(const core::Event& ev, const config::Config& cfg) {
  Decision d;
  const config::Repo* repo = nullptr;
  std::string deploy_branch = ev.repo.default_branch.empty() ? "main" : ev.repo.default_branch;
  if (ev.kind != core::EventKind::ping && ev.kind != core::EventKind::other) {
    if (!cfg.repos.empty()) {
      repo = cfg.find_repo(ev.forge_name, ev.repo.full_name);
      if (repo == nullptr) {
        d.reason = "repository " + ev.repo.full_name + " is not configured for forge " + ev.forge_name;
        return d;
      }
      deploy_branch = repo->deploy_branch;
    }
  }
  core::JobSpec base;
  base.forge = ev.forge_name;
  base.repo = ev.repo.full_name;
  // Jobs name the configured repository (forge + full name); the worker takes its URL and credentials
  // from the configuration at run time. Only a repository without a configured URL keeps the forge's
  // clone URL, without any userinfo.
  if (repo == nullptr || repo->url.empty()) base.clone_url = core::strip_userinfo(ev.repo.clone_url);
  base.delivery_id = ev.delivery_id;

  switch (ev.kind) {
    case core::EventKind::ping:
      d.reason = "ping";
      return d;
    case core::EventKind::other:
      d.reason = "event '" + ev.raw_event + "' needs no job";
      return d;
    case core::EventKind::pull_request: {
      const auto& a = ev.action;
      if (a != "opened" && a != "reopened" && a != "synchronize" && a != "ready_for_review") {
        d.reason = "pull_request action '" + a + "' needs no job";
        return d;
      }
      core::JobSpec s = base;
      s.kind = std::string(core::kind::preview);
      s.pr = ev.pr_number;
      s.head_sha = ev.head_sha;
      s.head_ref = ev.head_ref;
      s.base_sha = ev.base_sha;
      s.base_ref = ev.base_ref;
      d.jobs.push_back(std::move(s));
      return d;
    }
    case core::EventKind::push: {
      if (ev.ref_deleted) {
        d.reason = "ref " + ev.ref + " was deleted";
      } else if (ev.branch() != deploy_branch) {
        d.reason = "push to " + ev.ref + " is not to the deploy branch " + deploy_branch;
      } else {
        core::JobSpec s = base;
        s.kind = std::string(core::kind::apply);
        s.ref = ev.ref;
        s.before = ev.before;
        s.after = ev.after;
        d.jobs.push_back(std::move(s));
      }
      return d;
    }
    case core::EventKind::comment: {
      std::string line = first_line(ev.comment_body);
      bool is_command = line == "/helmgate" || line.rfind("/helmgate ", 0) == 0;
      if (ev.action != "created") {
        d.reason = "comment " + ev.action + ", not created";
      } else if (!ev.comment_on_pull) {
        d.reason = "comment is on an issue, not a pull request";
      } else if (!is_command) {
        d.reason = "comment is not a /helmgate command";
      } else {
        core::JobSpec s = base;
        s.kind = std::string(core::kind::command);
        s.pr = ev.pr_number;
        s.command = line;
        s.author = ev.comment_author;
        s.comment_id = ev.comment_id;
        d.jobs.push_back(std::move(s));
      }
      return d;
    }
  }
  return d;
}

}  // namespace helmgate::handlers
