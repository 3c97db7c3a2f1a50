#include "handlers/parse.hpp"

#include "core/json_select.hpp"
#include "core/redact.hpp"
#include "handlers/webhooks/forges.hpp"
#include "handlers/webhooks/payload.hpp"

#include <cstddef>
#include <string>

namespace helmgate::handlers {
namespace {

namespace json = core::json;
using core::errc;
using core::Error;

// GitHub's and Gitea's payloads nest about ten levels; anything far deeper is an attack on the parser
// (or on whatever walks the result recursively), refused with 400 before it is built.
constexpr unsigned kMaxPayloadDepth = 64;

std::string first_line(std::string_view s) {
  size_t nl = s.find_first_of("\r\n");
  std::string line(s.substr(0, nl));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
  size_t start = line.find_first_not_of(" \t");
  return start == std::string::npos ? std::string() : line.substr(start);
}

}  // namespace

core::Result<core::Event> parse_webhook(const WebhookInput& in) {
  const WebhookForge* forge = webhook_forge(in.forge);
  if (forge == nullptr) {
    return Error(errc::bad_request, "forge kind " + std::string(core::to_string(in.forge)) + " takes no webhooks");
  }
  if (in.event.empty()) {
    return Error(errc::bad_request, "missing " + std::string(forge->event_headers.front()) + " header");
  }
  // One pass that checks the whole payload's syntax and keeps only the fields the forges read.
  json::Selection selection(webhooks::payload_paths());
  if (auto err = json::select(in.body, selection, kMaxPayloadDepth)) {
    if (err->too_deep) {
      return Error(errc::bad_request, "payload nests deeper than " + std::to_string(kMaxPayloadDepth) + " levels");
    }
    return Error(errc::bad_request, "payload is not valid JSON: " + err->message);
  }
  if (!selection.root_is_object) return Error(errc::bad_request, "payload is not a JSON object");

  core::Event ev;
  ev.forge = in.forge;
  ev.forge_name = in.forge_name;
  ev.raw_event = in.event;
  ev.delivery_id = in.delivery;
  webhooks::Fields f(selection);
  ev.action = f.optional_string("action");
  ev.sender = f.optional_string("sender.login");
  forge->parse(in.event, f, ev);
  if (!f.ok()) return Error(errc::bad_request, in.event + " payload: " + f.error());
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
      // review_*: an approval may settle helmgate/policy (ownership), so the head is previewed again.
      if (a != "opened" && a != "reopened" && a != "synchronize" && a != "ready_for_review" && a != "review_submitted" &&
          a != "review_dismissed") {
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
