// Every recorded GitHub and Gitea payload in ../shared/corpora parses into an Event; the ones that
// ask for work produce the right jobs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "handlers/parse.hpp"
#include "support/support.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

// The event header a forge sends with each recorded payload, from its file name.
std::string github_event_for(const fs::path& p) {
  std::string dir = p.parent_path().filename().string();
  std::string name = p.filename().string();
  static const std::map<std::string, std::string> octokit_dirs = {
      {"ping", "ping"}, {"pull_request", "pull_request"}, {"push", "push"}, {"issue_comment", "issue_comment"},
      {"create", "create"}, {"delete", "delete"}, {"status", "status"}};
  if (auto it = octokit_dirs.find(dir); it != octokit_dirs.end()) return it->second;
  auto starts = [&](const char* s) { return name.rfind(s, 0) == 0; };
  if (starts("githubIssueComment") || starts("issue_comment")) return "issue_comment";
  if (starts("githubPullRequest") || starts("pr_")) return "pull_request";
  if (starts("push")) return "push";
  if (starts("ping") || name.find("-ping-") != std::string::npos) return "ping";
  if (name.find("-commit-") != std::string::npos || name.find("-tag-") != std::string::npos) return "push";
  if (starts("tag_create") || starts("branch_create")) return "create";
  return "";
}

std::string gitea_event_for(const fs::path& p) {
  std::string name = p.filename().string();
  auto starts = [&](const char* s) { return name.rfind(s, 0) == 0; };
  if (starts("pull_request_comment") || starts("issue_comment")) return "issue_comment";
  if (starts("pull_request")) return "pull_request";
  if (starts("push") || starts("gogs-event")) return "push";
  if (starts("branch_create") || starts("tag_create")) return "create";
  if (starts("branch_delete") || starts("tag_delete")) return "delete";
  if (starts("issues")) return "issues";
  if (starts("release")) return "release";
  if (starts("review_approved")) return "pull_request_approved";
  return "";
}

std::vector<fs::path> payloads(const std::string& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".json" && e.path().filename() != "vectors.json" &&
        e.path().parent_path().filename() != "signature-vectors") {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

config::Config open_config() { return config::load_string("{}"); }

}  // namespace

TEST_CASE("every GitHub payload in the corpus parses", "[unit][handlers]") {
  auto files = payloads(test::corpus("github-webhooks"));
  REQUIRE(files.size() >= 70);
  std::map<core::EventKind, int> kinds;
  for (const auto& p : files) {
    std::string event = github_event_for(p);
    INFO(p.string());
    REQUIRE_FALSE(event.empty());
    std::string body = test::read_file(p.string());
    auto ev = handlers::parse_webhook({core::ForgeKind::github, "github", event, "d-1", body});
    REQUIRE(ev.ok());
    ++kinds[ev->kind];
    if (ev->kind == core::EventKind::pull_request) {
      CHECK(ev->pr_number > 0);
      CHECK(ev->head_sha.size() == 40);
      CHECK_FALSE(ev->repo.full_name.empty());
    }
    if (ev->kind == core::EventKind::push) CHECK(ev->ref.rfind("refs/", 0) == 0);
    if (ev->kind == core::EventKind::comment) CHECK(ev->comment_id > 0);
  }
  CHECK(kinds[core::EventKind::pull_request] >= 30);
  CHECK(kinds[core::EventKind::push] >= 8);
  CHECK(kinds[core::EventKind::comment] >= 8);
  CHECK(kinds[core::EventKind::ping] >= 4);
}

TEST_CASE("every Gitea payload in the corpus parses", "[unit][handlers]") {
  auto files = payloads(test::corpus("gitea-webhooks"));
  REQUIRE(files.size() >= 20);
  for (const auto& p : files) {
    std::string event = gitea_event_for(p);
    INFO(p.string());
    REQUIRE_FALSE(event.empty());
    auto ev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", event, "d-1", test::read_file(p.string())});
    REQUIRE(ev.ok());
  }
}

TEST_CASE("GitHub pull_request synchronize becomes a preview job", "[unit][handlers]") {
  auto body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/synchronize.payload.json"));
  auto ev = handlers::parse_webhook({core::ForgeKind::github, "github", "pull_request", "abc", body});
  REQUIRE(ev.ok());
  CHECK(ev->action == "synchronize");
  auto d = handlers::decide_jobs(*ev, open_config());
  REQUIRE(d.jobs.size() == 1);
  const auto& j = d.jobs[0];
  CHECK(j.kind == "preview");
  CHECK(j.pr == ev->pr_number);
  CHECK(j.head_sha == ev->head_sha);
  CHECK(j.repo == ev->repo.full_name);
  CHECK(j.delivery_id == "abc");
  CHECK(j.coalesce_key() == "preview:github/" + j.repo + "#" + std::to_string(j.pr));
}

TEST_CASE("Gitea 'synchronized' is normalized to synchronize and previews", "[unit][handlers]") {
  auto body = test::read_file(test::corpus("gitea-webhooks/go-scm/pull_request_synchronized.json"));
  auto ev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "pull_request", "", body});
  REQUIRE(ev.ok());
  CHECK(ev->action == "synchronize");
  auto d = handlers::decide_jobs(*ev, open_config());
  REQUIRE(d.jobs.size() == 1);
  CHECK(d.jobs[0].kind == "preview");
}

TEST_CASE("a review previews the head again (helmgate/policy follows the owners' approval)", "[unit][handlers]") {
  auto body = test::read_file(test::corpus("gitea-webhooks/go-scm/review_approved.json"));
  auto ev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "pull_request_approved", "", body});
  REQUIRE(ev.ok());
  CHECK(ev->kind == core::EventKind::pull_request);
  CHECK(ev->action == "review_submitted");
  auto d = handlers::decide_jobs(*ev, open_config());
  REQUIRE(d.jobs.size() == 1);
  CHECK(d.jobs[0].kind == "preview");
  CHECK(d.jobs[0].head_sha == ev->head_sha);
  // GitHub's pull_request_review carries the same pull_request object.
  auto gh = test::read_file(test::corpus("github-webhooks/octokit/pull_request/synchronize.payload.json"));
  auto pos = gh.find("\"action\": \"synchronize\"");
  REQUIRE(pos != std::string::npos);
  gh.replace(pos, std::string("\"action\": \"synchronize\"").size(), "\"action\": \"submitted\"");
  auto rev = handlers::parse_webhook({core::ForgeKind::github, "github", "pull_request_review", "d-2", gh});
  REQUIRE(rev.ok());
  CHECK(rev->action == "review_submitted");
  auto dg = handlers::decide_jobs(*rev, open_config());
  REQUIRE(dg.jobs.size() == 1);
  CHECK(dg.jobs[0].kind == "preview");
}

TEST_CASE("closed, labeled and other PR actions need no job", "[unit][handlers]") {
  for (const char* f : {"closed.payload.json", "labeled.payload.json", "assigned.payload.json"}) {
    auto body = test::read_file(test::corpus(std::string("github-webhooks/octokit/pull_request/") + f));
    auto ev = handlers::parse_webhook({core::ForgeKind::github, "github", "pull_request", "", body});
    REQUIRE(ev.ok());
    auto d = handlers::decide_jobs(*ev, open_config());
    CHECK(d.jobs.empty());
    CHECK(d.reason.find("needs no job") != std::string::npos);
  }
}

TEST_CASE("a push to the deploy branch becomes an apply job - other branches and deletions do not",
          "[unit][handlers]") {
  auto body = test::read_file(test::corpus("gitea-webhooks/go-scm/push.json"));
  auto ev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "push", "", body});
  REQUIRE(ev.ok());
  auto cfg = config::load_string(R"(
forges: [{name: gitea, kind: gitea, api_url: "http://127.0.0.1:3000/api/v1", webhook_secret_env: X}]
repos:
  - {name: )" + ev->repo.full_name + R"(, forge: gitea, deploy_branch: )" + ev->branch() + R"(}
)");
  auto d = handlers::decide_jobs(*ev, cfg);
  REQUIRE(d.jobs.size() == 1);
  CHECK(d.jobs[0].kind == "apply");
  CHECK(d.jobs[0].before == ev->before);
  CHECK(d.jobs[0].after == ev->after);

  cfg.repos[0].deploy_branch = "production";
  d = handlers::decide_jobs(*ev, cfg);
  CHECK(d.jobs.empty());
  CHECK(d.reason.find("not to the deploy branch production") != std::string::npos);

  cfg.repos[0].name = "someone/else";
  d = handlers::decide_jobs(*ev, cfg);
  CHECK(d.jobs.empty());
  CHECK(d.reason.find("not configured") != std::string::npos);

  auto del = test::read_file(test::corpus("github-webhooks/go-scm/push_branch_delete.json"));
  auto dev = handlers::parse_webhook({core::ForgeKind::github, "github", "push", "", del});
  REQUIRE(dev.ok());
  CHECK(dev->ref_deleted);
  CHECK(handlers::decide_jobs(*dev, open_config()).jobs.empty());
}

TEST_CASE("a /helmgate comment on a PR becomes a command job - other comments do not", "[unit][handlers]") {
  auto body = test::read_file(test::corpus("gitea-webhooks/go-scm/pull_request_comment_created.json"));
  auto ev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "issue_comment", "", body});
  REQUIRE(ev.ok());
  CHECK(ev->comment_on_pull);
  auto d = handlers::decide_jobs(*ev, open_config());
  CHECK(d.jobs.empty());
  CHECK(d.reason == "comment is not a /helmgate command");

  ev->comment_body = "  /helmgate preview staging  \nthanks!";
  d = handlers::decide_jobs(*ev, open_config());
  REQUIRE(d.jobs.size() == 1);
  CHECK(d.jobs[0].kind == "command");
  CHECK(d.jobs[0].command == "/helmgate preview staging");
  CHECK(d.jobs[0].author == ev->comment_author);

  ev->comment_body = "/helmgateway is not us";
  CHECK(handlers::decide_jobs(*ev, open_config()).jobs.empty());

  auto issue = test::read_file(test::corpus("gitea-webhooks/go-scm/issue_comment_created.json"));
  auto iev = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "issue_comment", "", issue});
  REQUIRE(iev.ok());
  CHECK_FALSE(iev->comment_on_pull);
  iev->comment_body = "/helmgate help";
  CHECK(handlers::decide_jobs(*iev, open_config()).reason == "comment is on an issue, not a pull request");
}

TEST_CASE("malformed payloads are rejected with the reason", "[unit][handlers]") {
  auto parse = [](const char* event, const char* body) {
    return handlers::parse_webhook({core::ForgeKind::github, "github", event, "", body});
  };
  auto r = parse("push", "{not json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("not valid JSON") != std::string::npos);
  r = parse("push", "[1,2]");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "payload is not a JSON object");
  r = parse("push", R"({"repository":{"full_name":"a/b"},"ref":"refs/heads/main","before":"x"})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "push payload: field 'after' is missing or is not a string");
  r = parse("pull_request", R"({"action":"opened","number":"7","repository":{"full_name":"a/b"}})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("'number'") != std::string::npos);
  r = parse("push", "{\"repository\":{\"full_name\":\"a/\xff\xfe\"},\"ref\":\"r\",\"before\":\"b\",\"after\":\"c\"}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "push payload: field 'repository.full_name' is missing or is not valid UTF-8");
  r = parse("push", "{\"repository\":{\"full_name\":\"a/\xc3\xa9\"},\"ref\":\"r\",\"before\":\"b\",\"after\":\"c\"}");
  CHECK(r.ok());
  r = parse("", "{}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "missing X-GitHub-Event header");
  CHECK(r.error().code == core::errc::bad_request);
}
