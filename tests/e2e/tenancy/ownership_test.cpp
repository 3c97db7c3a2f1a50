// Ownership (issue 14, part 1) against the real Gitea of scripts/testenv: a repository of its own whose
// deploy branch declares `.helmgate/owners.yaml` (a Gitea team owns clusters/dev/team-a/); a PR by a
// non-owner touching that path gets helmgate/policy pending from the preview, `/helmgate apply` is refused;
// after an owner approves the head, the next preview sets success and the apply goes ahead. A PR that aims
// a release at a namespace the team may not use is blocked (failure). Unique users, org, team and repository.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "config/config.hpp"
#include "core/json.hpp"
#include "forge/gitea/gitea_client.hpp"
#include "http/client.hpp"
#include "runners/command_runner.hpp"
#include "runners/preview_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {

std::string unique(const std::string& tag) {
  static std::atomic<int> seq{0};
  return tag + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 10000000000LL) +
         std::to_string(seq++);
}

std::string b64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto at = [&](size_t i) { return i < in.size() ? static_cast<unsigned>(static_cast<unsigned char>(in[i])) : 0u; };
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? t[v & 63] : '=';
  }
  return out;
}

struct Gitea {
  std::string url = test::require_env("HELMGATE_TEST_GITEA_URL");
  std::string token = test::require_env("HELMGATE_TEST_GITEA_TOKEN");
  std::string admin = test::require_env("HELMGATE_TEST_GITEA_USER");

  core::json::Document api(const std::string& method, const std::string& path, const std::string& body = {},
                           const std::string& sudo = {}) {
    http::Headers h = {{"Authorization", "token " + token}, {"Content-Type", "application/json"}};
    if (!sudo.empty()) h.push_back({"Sudo", sudo});
    auto r = http::request(method, url + "/api/v1" + path, h, body);
    for (int attempt = 1; method == "GET" && !r.ok() && attempt < 3; ++attempt) r = http::request(method, url + "/api/v1" + path, h, body);
    INFO(method << " " << path << " -> " << (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 300) : r.error().message));
    REQUIRE(r.ok());
    REQUIRE(r->status / 100 == 2);
    core::json::Document doc;
    if (!r->body.empty()) REQUIRE_FALSE(core::json::parse(doc, r->body).has_value());
    return doc;
  }
  std::string make_user(const std::string& tag) {
    std::string name = unique(tag);
    api("POST", "/admin/users",
        R"({"username":")" + name + R"(","email":")" + name + R"(@example.invalid","password":"Pw-)" + name +
            R"(-x!","must_change_password":false})");
    return name;
  }
  void put_file(const std::string& repo, const std::string& path, const std::string& text, const std::string& branch,
                const std::string& new_branch = {}, const std::string& sudo = {}) {
    api("POST", "/repos/" + repo + "/contents/" + path,
        R"({"content":")" + b64(text) + R"(","message":"add )" + path + R"(","branch":")" + branch + "\"" +
            (new_branch.empty() ? std::string() : R"(,"new_branch":")" + new_branch + "\"") + "}",
        sudo);
  }
  std::string head_of(const std::string& repo, int64_t pr) {
    return *core::json::get_string(api("GET", "/repos/" + repo + "/pulls/" + std::to_string(pr)), "head.sha");
  }
  std::string branch_sha(const std::string& repo, const std::string& branch) {
    return *core::json::get_string(api("GET", "/repos/" + repo + "/branches/" + branch), "commit.id");
  }
  void wait_mergeable(const std::string& repo, int64_t pr) {
    for (int i = 0; i < 120; ++i) {
      if (core::json::get_bool(api("GET", "/repos/" + repo + "/pulls/" + std::to_string(pr)), "mergeable").value_or(false)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    FAIL("PR #" << pr << " did not become mergeable");
  }
};

class Ctx : public queue::JobContext {
 public:
  explicit Ctx(core::JobSpec spec) {
    rec_.id = unique("tn-job");
    rec_.spec = std::move(spec);
  }
  const queue::JobRecord& job() const override { return rec_; }
  void log(std::string_view line) override {
    std::lock_guard lock(mu_);
    log_ += std::string(line) + "\n";
  }
  bool superseded() const override { return false; }
  std::string joined() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  queue::JobRecord rec_;
  std::mutex mu_;
  std::string log_;
};

// A repository of its own: owners file on main naming the team, the team's directory, a collaborator.
struct Fixture {
  Gitea g;
  std::string org = unique("tnorg");
  std::string owner = g.make_user("tnowner");
  std::string author = g.make_user("tnauthor");
  std::string repo;
  std::string cache = (std::filesystem::temp_directory_path() / unique("hg-tn-own-cache")).string();
  config::Config cfg;
  std::vector<core::JobSpec> applied;
  std::mutex mu;

  Fixture() {
    g.api("POST", "/orgs", R"({"username":")" + org + R"(","visibility":"public"})");
    auto team = g.api("POST", "/orgs/" + org + "/teams",
                      R"({"name":"deployers","permission":"write","units":["repo.code","repo.pulls"],"includes_all_repositories":false})");
    g.api("PUT", "/teams/" + std::to_string(*core::json::get_int(team, "id")) + "/members/" + owner);
    std::string name = unique("tnrepo");
    g.api("POST", "/user/repos", R"({"name":")" + name + R"(","auto_init":true,"default_branch":"main","private":false})");
    repo = g.admin + "/" + name;
    for (const auto& u : {owner, author}) g.api("PUT", "/repos/" + repo + "/collaborators/" + u, R"({"permission":"write"})");
    g.put_file(repo, ".helmgate/owners.yaml",
               "ownership:\n  - paths: [\"clusters/dev/team-a/**\"]\n    team: {teams: [" + org + "/deployers]}\n"
               "    clusters: [dev]\n    namespaces: [team-a]\n    identity: {user: \"system:serviceaccount:team-a:deployer\"}\n",
               "main");
    g.put_file(repo, "clusters/dev/team-a/README.md", "team a\n", "main");
    ::setenv("HELMGATE_CACHE_DIR", cache.c_str(), 1);
    cfg = config::load_string("forges:\n  - {name: gitea, kind: gitea, api_url: \"" + g.url +
                              "\", webhook_secret_env: UNUSED, token_env: UNUSED_T}\n"
                              "repos:\n  - {name: " + repo + ", url: \"" + g.url + "/" + repo +
                              ".git\", forge: gitea, deploy_branch: main, clusters: [{name: dev, paths: [clusters/dev], "
                              "allow_pr_apply: true}]}\n");
    cfg.forges[0].token = g.token;
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
  }

  int64_t open_pr(const std::string& path, const std::string& text, const std::string& by = {}) {
    const std::string who = by.empty() ? author : by;
    std::string branch = unique("tnpr");
    g.put_file(repo, path, text, "main", branch, who);
    auto pr = g.api("POST", "/repos/" + repo + "/pulls",
                    R"({"head":")" + branch + R"(","base":"main","title":"tenancy test"})", who);
    return *core::json::get_int(pr, "number");
  }

  void preview(int64_t pr) {
    core::JobSpec s;
    s.kind = std::string(core::kind::preview);
    s.forge = "gitea";
    s.repo = repo;
    s.pr = pr;
    s.head_sha = g.head_of(repo, pr);
    s.base_sha = g.branch_sha(repo, "main");
    runners::PreviewRunnerOptions po;
    po.helm = test::require_env("HELMGATE_HELM");
    po.kubectl = test::require_env("HELMGATE_KUBECTL");
    po.cache_root = cache;
    auto runner = runners::make_preview_runner(cfg, runners::make_forge_access(cfg), po);
    Ctx ctx(s);
    auto out = runner(ctx);
    INFO(out.error << "\n" << ctx.joined());
    REQUIRE(out.status == queue::RunOutcome::Status::succeeded);
  }

  // The helmgate/policy status of the PR's head: (state, description).
  std::pair<std::string, std::string> policy(int64_t pr) {
    forge::ForgeSettings s;
    s.name = "gitea";
    s.kind = core::ForgeKind::gitea;
    s.api_url = g.url;
    s.token = g.token;
    auto c = forge::gitea::GiteaClient::create(s);
    REQUIRE(c.ok());
    auto st = (*c)->statuses(*forge::RepoRef::parse(repo), g.head_of(repo, pr));
    REQUIRE(st.ok());
    for (const auto& x : *st) {
      if (x.context == "helmgate/policy") return {std::string(forge::to_string(x.state)), x.description};
    }
    return {"", ""};
  }

  queue::RunOutcome apply_command(int64_t pr, std::string& log) {
    runners::CommandRunnerDeps deps;
    deps.apply = [this](queue::JobContext& ctx) {
      std::lock_guard lock(mu);
      applied.push_back(ctx.job().spec);
      return queue::RunOutcome::ok("{}");
    };
    auto runner = runners::make_command_runner(cfg, runners::make_forge_access(cfg), deps);
    core::JobSpec s;
    s.kind = std::string(core::kind::command);
    s.forge = "gitea";
    s.repo = repo;
    s.pr = pr;
    s.command = "/helmgate apply";
    s.author = owner;
    Ctx ctx(s);
    auto out = runner(ctx);
    log = ctx.joined();
    return out;
  }
};

}  // namespace

TEST_CASE("gitea: a non-owner's change to a team's path waits for the owners' approval (helmgate/policy)", "[e2e]") {
  Fixture f;
  int64_t pr = f.open_pr("clusters/dev/team-a/notes.md", "a change by someone outside team a\n");

  f.preview(pr);
  auto st = f.policy(pr);
  INFO(st.second);
  CHECK(st.first == "pending");
  CHECK(st.second.find("waiting for approval") != std::string::npos);
  CHECK(st.second.find(f.org + "/deployers") != std::string::npos);

  // `/helmgate apply` follows the same rules: an approval by a writer who is not an owner is not enough.
  f.g.wait_mergeable(f.repo, pr);
  f.g.api("POST", "/repos/" + f.repo + "/pulls/" + std::to_string(pr) + "/reviews",
          R"({"event":"COMMENT","body":"not an approval"})", f.owner);
  std::string log;
  auto refused = f.apply_command(pr, log);
  INFO(log);
  CHECK(f.applied.empty());

  // The owner (a member of the Gitea team) approves the head: the next preview sets success.
  const std::string head = f.g.head_of(f.repo, pr);
  f.g.api("POST", "/repos/" + f.repo + "/pulls/" + std::to_string(pr) + "/reviews",
          R"({"event":"APPROVED","body":"owner approves","commit_id":")" + head + R"("})", f.owner);
  f.preview(pr);
  st = f.policy(pr);
  INFO(st.second);
  CHECK(st.first == "success");

  // And `/helmgate apply` now goes ahead with exactly that head.
  auto ok = f.apply_command(pr, log);
  INFO(log);
  REQUIRE(f.applied.size() == 1);
  CHECK(f.applied.front().pinned_sha == head);
}

TEST_CASE("gitea: an owner's own change needs nobody, a release outside the team's namespaces is blocked", "[e2e]") {
  Fixture f;
  // A HelmRelease in the team's path aimed at namespace kube-system: blocking, whoever wrote it.
  int64_t pr = f.open_pr("clusters/dev/team-a/app.yaml",
                         "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: team-a\n"
                         "spec:\n  targetNamespace: kube-system\n  chart:\n    spec:\n      chart: charts/none\n"
                         "      sourceRef: {kind: GitRepository, name: flux-system}\n");
  f.preview(pr);
  auto st = f.policy(pr);
  INFO(st.second);
  CHECK(st.first == "failure");
  CHECK(st.second.find("blocked") != std::string::npos);

  // A member of the owning team changes the team's path: no approval needed.
  int64_t own = f.open_pr("clusters/dev/team-a/owner-notes.md", "by an owner\n", f.owner);
  f.preview(own);
  st = f.policy(own);
  INFO(st.second);
  CHECK(st.first == "success");
}
