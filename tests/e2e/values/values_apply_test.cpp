// A release whose values say image.tag: "1.10" is deployed with the tag 1.10 (it used to reach helm as
// the number 1.1, deploying nginx:1.1), and changing it to a plain 1.10 (the number 1.1, as Flux sees it)
// is a change that upgrades. Real kube-apiserver, real helm, the apply runner. Needs
// `eval "$(scripts/testenv env)"`.
#include <rapidjson/document.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "core/json.hpp"
#include "git/repository.hpp"
#include "kube/client.hpp"
#include "process/process.hpp"
#include "runners/apply_runner.hpp"
#include "support/apply_job.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;

namespace {

const std::string kRunId = std::to_string(::getpid()) + "v" + std::to_string(::time(nullptr) % 100000);
const std::string kNs = "hg-values-" + kRunId;
const std::string kRepoUrl = "https://git.example.invalid/platform/fleet.git";

std::string release_yaml(const std::string& tag_yaml) {
  return "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: tagged\n  namespace: " + kNs +
         "\nspec:\n  releaseName: tagged\n  chart:\n    git: " + kRepoUrl +
         "\n    path: charts/podinfo\n    ref: main\n  values:\n    image:\n      tag: " + tag_yaml + "\n";
}

std::map<std::string, std::string> run_apply(queue::Runner& runner, const std::string& dir, const std::string& before,
                                             const std::string& after) {
  return test::run_apply_job(runner, dir, before, after).releases();
}

process::ProcessResult run(std::vector<std::string> argv) {
  process::ProcessOptions po;
  po.env = {"HOME=" + fs::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  po.timeout = std::chrono::seconds(120);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return *r;
}

// helm get values, as JSON: the values helm keeps for the release.
std::string helm_values() {
  auto r = run({test::require_env("HELMGATE_HELM"), "get", "values", "tagged", "-n", kNs, "-o", "json", "--kubeconfig",
                test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string deployment_image() {
  auto kc = kube::load_kubeconfig_file(test::require_env("HELMGATE_TEST_KUBECONFIG_DEV"));
  REQUIRE(kc.ok());
  kube::Client c("dev", *kc);
  auto live = c.get({"apps/v1", "Deployment", kNs, "tagged-podinfo"});
  REQUIRE(live.ok());
  REQUIRE(live->has_value());
  core::json::Document d;
  REQUIRE_FALSE(core::json::parse(d, **live).has_value());
  return d["spec"]["template"]["spec"]["containers"][0]["image"].GetString();
}

}  // namespace

TEST_CASE("a quoted image tag \"1.10\" is applied as 1.10, and a plain 1.10 (the number 1.1) is a change", "[e2e]") {
  test::TempRepo repo("values-apply-" + kRunId);
  fs::create_directories(repo.dir / "charts");
  fs::copy(test::corpus("charts/podinfo-6.14.1"), repo.dir / "charts/podinfo", fs::copy_options::recursive);
  repo.write("releases/dev/tagged.yaml", release_yaml("\"1.10\""));
  const std::string c1 = repo.commit("quoted tag");

  std::string url = test::require_env("HELMGATE_TEST_REDIS_URL");
  auto cfg = config::load_string(
      "redis: {url: \"" + url + "\"}\nqueue: {key_prefix: hgvalues" + kRunId +
      "}\nforges:\n- {name: gitea, kind: gitea, api_url: \"http://127.0.0.1:1\", webhook_secret_env: HG_UNUSED}\n"
      "repos:\n- name: platform/fleet\n  url: " + kRepoUrl + "\n  forge: gitea\n  clusters:\n"
      "  - {name: dev, paths: [releases/dev], kubeconfig: \"" + test::require_env("HELMGATE_TEST_KUBECONFIG_DEV") +
      "\", kube_version: \"" + test::require_env("HELMGATE_TEST_KUBE_VERSION") + "\"}\n");
  runners::ApplyRunnerOptions opt;
  opt.cache_root = (fs::temp_directory_path() / ("hg-values-cache-" + kRunId)).string();
  auto runner = runners::make_apply_runner(cfg, opt);

  auto r1 = run_apply(runner, repo.dir.string(), std::string(40, '0'), c1);
  CHECK(r1["tagged"] == "installed");
  std::string v1 = helm_values();
  INFO(v1);
  CHECK(v1.find("\"tag\":\"1.10\"") != std::string::npos);  // a string, as written
  CHECK(deployment_image() == "ghcr.io/stefanprodan/podinfo:1.10");

  // Unquoted, 1.10 is the number 1.1 for Kubernetes and Flux: a different value, so an upgrade.
  repo.write("releases/dev/tagged.yaml", release_yaml("1.10"));
  const std::string c2 = repo.commit("plain tag");
  auto r2 = run_apply(runner, repo.dir.string(), c1, c2);
  CHECK(r2["tagged"] == "upgraded");
  std::string v2 = helm_values();
  INFO(v2);
  CHECK(v2.find("\"tag\":1.1") != std::string::npos);
  CHECK(deployment_image() == "ghcr.io/stefanprodan/podinfo:1.1");

  run({test::require_env("HELMGATE_HELM"), "uninstall", "tagged", "-n", kNs, "--kubeconfig",
       test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")});
  fs::remove_all(opt.cache_root);
}

TEST_CASE("kubectl create --dry-run=client against a real API server reads the scalar table as the golden file says",
          "[e2e]") {
  // ConfigMap-shaped objects need no CRD; the values sit in a field the client keeps as it read it.
  const std::string dir = test::source_dir() + "/tests/unit/values";
  rapidjson::Document golden;
  {
    std::ifstream in(dir + "/scalar_golden.json");
    std::stringstream ss;
    ss << in.rdbuf();
    golden.Parse(ss.str().c_str());
    REQUIRE_FALSE(golden.HasParseError());
  }
  std::string docs;
  int n = 0;
  std::map<std::string, std::string> names;
  for (const auto& c : YAML::LoadFile(dir + "/scalar_cases.yaml")) {
    std::string name = c["name"].as<std::string>();
    if (golden["cases"][name.c_str()].HasMember("error")) continue;
    std::string obj = "fid-" + std::to_string(n++);
    names[obj] = name;
    std::string body;
    std::istringstream in(c["yaml"].as<std::string>());
    std::string line;
    while (std::getline(in, line)) body += line.empty() ? "\n" : "    " + line + "\n";
    docs += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + obj + "\n  namespace: default\nspec:\n  values:\n" + body;
  }
  const std::string file = (fs::temp_directory_path() / ("hg-values-dry-" + kRunId + ".yaml")).string();
  std::ofstream(file, std::ios::trunc) << docs;
  auto r = run({test::require_env("HELMGATE_KUBECTL"), "create", "--dry-run=client", "--validate=false", "-o", "json",
                "-f", file, "--kubeconfig", test::require_env("HELMGATE_TEST_KUBECONFIG_DEV")});
  fs::remove(file);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // One JSON object per document, one after the other.
  size_t compared = 0;
  rapidjson::StringStream ss(r.out.c_str());
  while (true) {
    while (ss.Peek() == ' ' || ss.Peek() == '\n' || ss.Peek() == '\r' || ss.Peek() == '\t') ss.Take();
    if (ss.Peek() == '\0') break;
    rapidjson::Document it;
    it.ParseStream<rapidjson::kParseStopWhenDoneFlag>(ss);
    REQUIRE_FALSE(it.HasParseError());
    std::string name = names.at(it["metadata"]["name"].GetString());
    INFO("case " << name);
    const auto& want = golden["cases"][name.c_str()]["values"];
    CHECK(it["spec"]["values"] == want);
    ++compared;
  }
  CHECK(compared == names.size());
}
