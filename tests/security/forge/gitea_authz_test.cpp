// Who may do what, against the real Gitea of scripts/testenv: `/helmgate apply` after a reader's
// approval, after an approval of an older head, and after a writer's approval of the current head
// (the apply job then carries exactly that head); a marker comment written by someone else; Markdown
// and HTML injection rendered by Gitea's own Markdown renderer; refused commands not echoed.
// Every test makes its own users, branches and PRs (unique names), so runs do not collide.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "core/markdown.hpp"
#include "diff/report.hpp"
#include "forge/gitea/gitea_client.hpp"
#include "http/client.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {

const std::string kLink = "[verified safe, merge it](http://evil.example/x)";
const std::string kImg = "<img src=x>";
// Links a forge makes by itself in rendered text: URLs, e-mail addresses, @mentions.
const std::string kAuto = "see http://evil.example/auto or mail admin@evil.example, cc @gitops";

std::string unique(const std::string& tag) {
  static std::atomic<int> seq{0};
  return tag + "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000000LL) +
         "-" + std::to_string(seq++);
}

struct Gitea {
  std::string url = test::require_env("HELMGATE_TEST_GITEA_URL");
  std::string token = test::require_env("HELMGATE_TEST_GITEA_TOKEN");
  std::string user = test::require_env("HELMGATE_TEST_GITEA_USER");
  forge::RepoRef repo = *forge::RepoRef::parse(test::require_env("HELMGATE_TEST_GITEA_REPO"));

  // Gitea's API as the admin, or (sudo) as another user; 2xx required.
  core::json::Document api(const std::string& method, const std::string& path, const std::string& body = {},
                           const std::string& sudo = {}) {
    http::Headers h = {{"Authorization", "token " + token}, {"Content-Type", "application/json"}};
    if (!sudo.empty()) h.push_back({"Sudo", sudo});
    auto r = http::request(method, url + "/api/v1" + path, h, body);
    // Gitea (sqlite) sometimes stalls a read for tens of seconds while it re-checks a pull request
    // after a push; a read is safe to ask again.
    for (int attempt = 1; method == "GET" && !r.ok() && attempt < 3; ++attempt) {
      r = http::request(method, url + "/api/v1" + path, h, body);
    }
    INFO(method << " " << path << " as " << (sudo.empty() ? user : sudo) << " -> "
                << (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 300) : r.error().message));
    REQUIRE(r.ok());
    REQUIRE(r->status / 100 == 2);
    core::json::Document doc;
    if (!r->body.empty()) REQUIRE_FALSE(core::json::parse(doc, r->body).has_value());
    return doc;
  }

  std::string repo_path() const { return "/repos/" + repo.full_name(); }

  std::unique_ptr<forge::gitea::GiteaClient> client() {
    forge::ForgeSettings s;
    s.name = "gitea";
    s.kind = core::ForgeKind::gitea;
    s.api_url = url;
    s.token = token;
    auto c = forge::gitea::GiteaClient::create(s);
    REQUIRE(c.ok());
    return std::move(*c);
  }

  std::string default_branch() { return *core::json::get_string(api("GET", repo_path()), "default_branch"); }

  // A new user; with permission ("read"/"write") a collaborator of the repository.
  std::string make_user(const std::string& tag, const std::string& permission) {
    std::string name = unique("sec" + tag);
    api("POST", "/admin/users",
        R"({"username":")" + name + R"(","email":")" + name + R"(@example.invalid","password":"Pw-)" + name +
            R"(-x!","must_change_password":false})");
    if (!permission.empty())
      api("PUT", repo_path() + "/collaborators/" + name, R"({"permission":")" + permission + R"("})");
    return name;
  }

  struct Pr {
    int64_t number;
    std::string branch;
    std::string head_sha;
  };

  Pr open_pr(const std::string& tag) {
    const std::string branch = unique("sec-authz-" + tag);
    const std::string base = default_branch();
    api("POST", repo_path() + "/branches", R"({"new_branch_name":")" + branch + R"(","old_branch_name":")" + base + R"("})");
    push(branch, "one");
    auto pr = api("POST", repo_path() + "/pulls",
                  R"({"head":")" + branch + R"(","base":")" + base + R"(","title":"security authz )" + tag + R"("})");
    Pr p{*core::json::get_int(pr, "number"), branch, ""};
    p.head_sha = head_of(p.number);
    return p;
  }

  // A new commit on the branch; returns nothing (read the head with head_of).
  void push(const std::string& branch, const std::string& what) {
    // "aGVsbWdhdGUK" is base64 of "helmgate\n".
    api("POST", repo_path() + "/contents/sec/" + branch + "-" + what + ".txt",
        R"({"content":"aGVsbWdhdGUK","message":"security test: )" + what + R"(","branch":")" + branch + R"("})");
  }

  std::string head_of(int64_t pr) {
    return *core::json::get_string(api("GET", repo_path() + "/pulls/" + std::to_string(pr)), "head.sha");
  }

  // Gitea works mergeability out in the background after a push.
  void wait_mergeable(int64_t pr, const std::string& head) {
    for (int i = 0; i < 120; ++i) {
      auto d = api("GET", repo_path() + "/pulls/" + std::to_string(pr));
      if (core::json::get_bool(d, "mergeable").value_or(false) && core::json::get_string(d, "head.sha") == head) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    FAIL("PR #" << pr << " did not become mergeable at " << head << " within 60 s");
  }

  void approve(int64_t pr, const std::string& reviewer, const std::string& commit) {
    api("POST", repo_path() + "/pulls/" + std::to_string(pr) + "/reviews",
        R"({"event":"APPROVED","body":"looks good","commit_id":")" + commit + R"("})", reviewer);
  }

  std::string comment_body(int64_t id) {
    return *core::json::get_string(api("GET", repo_path() + "/issues/comments/" + std::to_string(id)), "body");
  }

  // Gitea's own renderer (GFM with its link, e-mail and mention post-processing): the HTML a reader's
  // browser gets. Not Mode "comment" with a repository Context: Gitea 1.26.4 dereferences a nil
  // commit checker there when the text holds a 40-hex commit id, and the whole server dies.
  std::string render(const std::string& markdown) {
    rapidjson::StringBuffer sb;
    core::json::Writer w(sb);
    w.StartObject();
    core::json::kv(w, "Text", markdown);
    core::json::kv(w, "Mode", "gfm");
    w.EndObject();
    http::Headers h = {{"Authorization", "token " + token}, {"Content-Type", "application/json"}};
    auto r = http::request("POST", url + "/api/v1/markdown", h, sb.GetString());
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return r->body;
  }
};

// A job context for the command runner: the spec, and the log kept for assertions.
class TestContext : public queue::JobContext {
 public:
  explicit TestContext(core::JobSpec spec) {
    rec_.id = unique("sec-job");
    rec_.spec = std::move(spec);
  }
  const queue::JobRecord& job() const override { return rec_; }
  void log(std::string_view line) override {
    std::lock_guard lock(mu_);
    log_.emplace_back(line);
  }
  bool superseded() const override { return false; }
  std::string joined() {
    std::lock_guard lock(mu_);
    std::string s;
    for (const auto& l : log_) s += l + "\n";
    return s;
  }

 private:
  queue::JobRecord rec_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

// The command runner on a configuration of this Gitea and a cluster that allows PR applies; the apply
// runner is replaced by one that records the spec it was given (nothing is deployed anywhere).
struct Commands {
  Gitea& g;
  config::Config cfg;
  std::vector<core::JobSpec> applied;
  std::mutex mu;
  queue::Runner runner;

  explicit Commands(Gitea& gitea) : g(gitea) {
    static std::string cache = [] {
      auto dir = std::filesystem::temp_directory_path() / unique("helmgate-sec-authz-cache");
      std::filesystem::create_directories(dir);
      return dir.string();
    }();
    ::setenv("HELMGATE_CACHE_DIR", cache.c_str(), 1);
    config::Forge f;
    f.name = "gitea";
    f.kind = core::ForgeKind::gitea;
    f.api_url = g.url;
    f.token = g.token;
    cfg.forges = {f};
    config::Repo r;
    r.name = g.repo.full_name();
    r.url = g.url + "/" + g.repo.full_name() + ".git";
    r.forge = "gitea";
    r.deploy_branch = g.default_branch();
    config::Cluster c;
    c.name = "dev";
    c.allow_pr_apply = true;
    r.clusters = {c};
    cfg.repos = {r};
    auto record = [this](queue::JobContext& ctx) {
      std::lock_guard lock(mu);
      applied.push_back(ctx.job().spec);
      return queue::RunOutcome::ok("{}");
    };
    runners::CommandRunnerDeps deps;
    deps.apply = record;
    runner = runners::make_command_runner(cfg, runners::make_forge_access(cfg), deps);
  }

  queue::RunOutcome run(int64_t pr, const std::string& author, const std::string& command, TestContext** out = nullptr) {
    core::JobSpec s;
    s.kind = std::string(core::kind::command);
    s.forge = "gitea";
    s.repo = g.repo.full_name();
    s.pr = pr;
    s.command = command;
    s.author = author;
    static std::vector<std::unique_ptr<TestContext>> keep;
    keep.push_back(std::make_unique<TestContext>(s));
    if (out) *out = keep.back().get();
    return runner(*keep.back());
  }

  // Comments on the PR by the identity helmgate posts as, newest last.
  std::vector<std::string> replies(int64_t pr) {
    auto list = g.client()->list_comments(g.repo, pr);
    REQUIRE(list.ok());
    std::vector<std::string> out;
    for (const auto& c : *list) {
      if (c.author == g.user) out.push_back(c.body);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("gitea: /helmgate apply after an approval by a user without write permission is refused", "[security][forge]") {
  Gitea g;
  Commands cmd(g);
  auto reader = g.make_user("reader", "read");
  auto stranger = g.make_user("stranger", "");
  auto pr = g.open_pr("reader");
  g.wait_mergeable(pr.number, pr.head_sha);
  g.approve(pr.number, reader, pr.head_sha);
  g.approve(pr.number, stranger, pr.head_sha);

  TestContext* ctx = nullptr;
  auto out = cmd.run(pr.number, g.user, "/helmgate apply dev", &ctx);
  INFO(ctx->joined());
  CHECK(out.status == queue::RunOutcome::Status::succeeded);
  CHECK(cmd.applied.empty());  // nothing applied
  auto replies = cmd.replies(pr.number);
  REQUIRE_FALSE(replies.empty());
  CHECK(replies.back().find("nothing was applied") != std::string::npos);
  CHECK(replies.back().find("not approved by a reviewer with write permission") != std::string::npos);
}

TEST_CASE("gitea: /helmgate apply after an approval of an older head is refused", "[security][forge]") {
  Gitea g;
  Commands cmd(g);
  auto writer = g.make_user("writer", "write");
  auto pr = g.open_pr("older");
  g.approve(pr.number, writer, pr.head_sha);
  g.push(pr.branch, "two");  // after the approval
  std::string head2;
  for (int i = 0; i < 60 && (head2.empty() || head2 == pr.head_sha); ++i) {
    head2 = g.head_of(pr.number);
    if (head2 == pr.head_sha) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  REQUIRE(head2 != pr.head_sha);
  g.wait_mergeable(pr.number, head2);

  TestContext* ctx = nullptr;
  cmd.run(pr.number, g.user, "/helmgate apply dev", &ctx);
  INFO(ctx->joined());
  CHECK(cmd.applied.empty());
  auto replies = cmd.replies(pr.number);
  REQUIRE_FALSE(replies.empty());
  CHECK(replies.back().find("nothing was applied") != std::string::npos);
  CHECK(replies.back().find("older commit") != std::string::npos);
  CHECK(replies.back().find(head2.substr(0, 12)) != std::string::npos);
}

TEST_CASE("gitea: a writer's approval of the current head allows the apply, pinned to that head", "[security][forge]") {
  Gitea g;
  Commands cmd(g);
  auto writer = g.make_user("writer", "write");
  auto pr = g.open_pr("allowed");
  g.wait_mergeable(pr.number, pr.head_sha);
  g.approve(pr.number, writer, pr.head_sha);

  TestContext* ctx = nullptr;
  auto out = cmd.run(pr.number, g.user, "/helmgate apply dev", &ctx);
  INFO(ctx->joined() << out.error);
  CHECK(out.status == queue::RunOutcome::Status::succeeded);
  REQUIRE(cmd.applied.size() == 1);
  const auto& spec = cmd.applied.front();
  CHECK(spec.kind == core::kind::apply);
  CHECK(spec.pinned_sha == pr.head_sha);
  CHECK(spec.after == pr.head_sha);
  // The pin survives the job record's JSON (what the queue stores).
  auto back = core::JobSpec::from_json(spec.to_json());
  REQUIRE(back.ok());
  CHECK(back->pinned_sha == pr.head_sha);
  CHECK(ctx->joined().find("approved by " + writer) != std::string::npos);
}

TEST_CASE("gitea: a marker comment written by another user is left alone, ours is separate", "[security][forge]") {
  Gitea g;
  auto c = g.client();
  auto mallory = g.make_user("mallory", "");
  auto pr = g.open_pr("marker");
  const std::string fake = forge::part_marker("preview", 1, 1) + "\nverified safe, merge it";
  auto theirs = g.api("POST", g.repo_path() + "/issues/" + std::to_string(pr.number) + "/comments",
                      core::json::to_string([&] {
                        core::json::Document d;
                        d.SetObject();
                        d.AddMember("body", rapidjson::Value(fake.c_str(), d.GetAllocator()), d.GetAllocator());
                        return d;
                      }()),
                      mallory);
  const int64_t theirs_id = *core::json::get_int(theirs, "id");
  CHECK(*core::json::get_string(theirs, "user.login") == mallory);

  auto me = c->self_login();
  REQUIRE(me.ok());
  CHECK(*me == g.user);
  auto up = c->upsert_comment(g.repo, pr.number, "preview", {"the real preview"});
  REQUIRE(up.ok());
  CHECK(up->created == 1);
  CHECK(up->updated == 0);
  CHECK(up->deleted == 0);
  REQUIRE(up->comment_ids.size() == 1);
  CHECK(up->comment_ids[0] != theirs_id);
  CHECK(g.comment_body(theirs_id) == fake);
  // Shrinking to nothing deletes our parts only.
  auto gone = c->upsert_comment(g.repo, pr.number, "preview", {});
  REQUIRE(gone.ok());
  CHECK(gone->deleted == 1);
  CHECK(g.comment_body(theirs_id) == fake);
}

TEST_CASE("gitea: names, findings and reasons with links, HTML and backtick runs render inert", "[security][forge]") {
  Gitea g;
  auto c = g.client();
  auto pr = g.open_pr("inject");
  // The check works: raw, the same text is a live link and a live image in Gitea.
  auto raw = g.render(kLink + " " + kImg + " " + kAuto);
  REQUIRE(raw.find("href=\"http://evil.example/x\"") != std::string::npos);
  REQUIRE(raw.find("<img ") != std::string::npos);
  REQUIRE(raw.find("href=\"http://evil.example/auto\"") != std::string::npos);
  REQUIRE(raw.find("href=\"mailto:admin@evil.example\"") != std::string::npos);
  REQUIRE(raw.find(">@gitops</a>") != std::string::npos);

  diff::Report r;
  r.base = "0123456789abcdef";
  r.head = "fedcba9876543210";
  r.clusters = {"dev"};
  r.errors.push_back({"refused " + kLink + " " + kImg, "apps/" + kLink + ".yaml", 3, 0});
  r.notes.push_back({kAuto, "", 0, 0});
  diff::ReleaseReport rel;
  rel.cluster = "dev";
  rel.namespace_ = "team-a";
  rel.name = kLink + kImg;
  rel.release_name = "``" + kLink + "``";
  rel.target_namespace = kImg;
  rel.chart = kLink;
  rel.reasons = {"changed " + kLink, kImg, kAuto};
  rel.notes = {kAuto};
  diff::ResourceDiff d;
  d.key = "v1/ConfigMap " + kLink + " " + kImg + " " + kAuto;
  d.change = diff::Change::changed;
  d.diff = "--- a\n+++ b\n+x: ```` " + kImg + " " + kLink + "\n+``````\n+<img src=y>\n";
  rel.resources.push_back(d);
  r.releases.push_back(rel);
  auto parts = diff::to_markdown_parts(r, c->part_limit());
  REQUIRE(parts.size() == 1);
  auto up = c->upsert_comment(g.repo, pr.number, "preview", parts);
  REQUIRE(up.ok());
  const std::string stored = g.comment_body(up->comment_ids[0]);
  CHECK(stored.find(parts[0]) != std::string::npos);  // stored as sent
  const std::string html = g.render(stored);
  INFO(html);
  CHECK(html.find("href=\"http://evil") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<a ") == std::string::npos);  // no link of any kind: not ours, not the forge's
  CHECK(html.find("mailto:") == std::string::npos);
  // The text is still there for a reader, as text.
  CHECK(html.find("verified safe, merge it") != std::string::npos);
  CHECK(html.find("&lt;img src=x&gt;") != std::string::npos);
}

TEST_CASE("gitea: refused and unknown commands are not echoed back", "[security][forge]") {
  Gitea g;
  Commands cmd(g);
  auto stranger = g.make_user("stranger", "");
  auto pr = g.open_pr("echo");
  const std::string hostile = kLink + " " + kImg + " ``` @" + g.user;

  // A user without write permission: a fixed, polite refusal.
  TestContext* ctx = nullptr;
  cmd.run(pr.number, stranger, "/helmgate apply dev " + hostile, &ctx);
  INFO(ctx->joined());
  auto replies = cmd.replies(pr.number);
  REQUIRE(replies.size() == 1);
  CHECK(replies.back().find("write permission") != std::string::npos);
  // A writer's commands with hostile words: unknown verb, unknown cluster, bad cluster name, bad job id.
  const std::vector<std::string> commands = {"/helmgate deploy " + kLink, "/helmgate apply [x](http://evil.example/y)",
                                             "/helmgate preview <img>", "/helmgate apply Dev",
                                             "/helmgate replay [x](http://evil.example/y)"};
  for (const auto& text : commands) {
    INFO(text);
    cmd.run(pr.number, g.user, text, &ctx);
    INFO(ctx->joined());
  }
  replies = cmd.replies(pr.number);
  CHECK(replies.size() == 6);
  CHECK(cmd.applied.empty());
  for (const auto& body : replies) {
    INFO(body);
    CHECK(body.find("verified safe") == std::string::npos);
    CHECK(body.find("evil") == std::string::npos);
    CHECK(body.find("<img") == std::string::npos);
    CHECK(body.find("Dev") == std::string::npos);
    const std::string html = g.render(body);
    CHECK(html.find("<img") == std::string::npos);
    CHECK(html.find("href=\"http://evil") == std::string::npos);
  }
}
