#pragma once
// What the fleet end-to-end tests share: the test environment's clusters (admin and preview identities),
// the real helm binary, and raw REST calls to create objects and set their status (the test clusters
// have no kubelet and no controller-manager, so status is set by hand through the status subresource).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/drift.hpp"
#include "engine/release_records.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "process/process.hpp"
#include "support/support.hpp"

namespace helmgate::test::fleet {

inline std::string unique(const std::string& stem) {
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr) % 100000);
}

inline std::string kubeconfig_path(const std::string& cluster, const std::string& who = "") {
  return require_env(("HELMGATE_TEST_KUBECONFIG_" + cluster + (who.empty() ? "" : "_" + who)).c_str());
}

inline kube::Kubeconfig kubeconfig(const std::string& cluster, const std::string& who = "") {
  auto kc = kube::load_kubeconfig_file(kubeconfig_path(cluster, who));
  REQUIRE(kc.ok());
  return *kc;
}

struct HelmRun {
  int exit_code = -1;
  std::string out, err;
};

inline HelmRun helm_run(const std::vector<std::string>& args, const std::string& cluster = "STAGING") {
  std::vector<std::string> argv = {require_env("HELMGATE_HELM")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--kubeconfig", kubeconfig_path(cluster)});
  process::ProcessOptions po;
  po.env = {"HOME=" + std::filesystem::temp_directory_path().string(), "PATH=/usr/bin:/bin"};
  po.timeout = std::chrono::milliseconds(120'000);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return {r->exit_code, r->out, r->err};
}

inline std::string helm(const std::vector<std::string>& args, const std::string& cluster = "STAGING") {
  auto r = helm_run(args, cluster);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A REST call that must answer 2xx; returns the body.
inline std::string call(kube::Client& c, const std::string& method, const std::string& path, const std::string& body = {},
                        const std::string& content_type = "application/json") {
  auto r = c.request(method, path, body, body.empty() ? std::string() : content_type);
  REQUIRE(r.ok());
  INFO(method << " " << path << " -> " << r->status << " " << r->body.substr(0, 500));
  REQUIRE(r->status / 100 == 2);
  return r->body;
}

inline void create_namespace(kube::Client& c, const std::string& ns) {
  call(c, "POST", "/api/v1/namespaces", R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns + R"("}})");
}

inline void delete_namespace(kube::Client& c, const std::string& ns) {
  (void)c.request("DELETE", "/api/v1/namespaces/" + ns);
}

// Runs at scope exit, also when a REQUIRE fails: what a test created on the shared clusters goes away.
struct Cleanup {
  std::function<void()> run;
  ~Cleanup() {
    try {
      run();
    } catch (...) {
    }
  }
};

inline std::string podinfo_chart() { return corpus("charts/podinfo-6.14.1"); }

// The drift-demo chart installed with helm as release "shop" in a fresh namespace of staging, from a values
// file, and `want`: what a deploy branch declaring the same values renders. At scope exit (also when a
// REQUIRE fails) "shop" and `also_uninstall` are uninstalled and the namespace deleted.
struct InstalledShop {
  inline static const std::string chart = std::string(HELMGATE_SOURCE_DIR) + "/tests/e2e/fleet/charts/drift-demo";
  std::string ns;
  std::filesystem::path dir;
  std::string values;  // the values file helm read
  kube::Client admin{"staging", kubeconfig("STAGING")};
  engine::DesiredRelease want;
  Cleanup cleanup;

  InstalledShop(const std::string& stem, const std::string& values_json, std::vector<std::string> also_uninstall = {})
      : ns(unique(stem)), dir(std::filesystem::temp_directory_path() / ns), values((dir / "values.json").string()) {
    std::filesystem::create_directories(dir);
    std::ofstream(values) << values_json;
    also_uninstall.insert(also_uninstall.begin(), "shop");
    cleanup.run = [this, also_uninstall] {
      for (const auto& r : also_uninstall) (void)helm_run({"uninstall", r, "--namespace", ns});
      delete_namespace(admin, ns);
      std::filesystem::remove_all(dir);
    };
    helm({"install", "shop", chart, "--namespace", ns, "--create-namespace", "--values", values});
    want.id = "staging/" + ns + "/shop";
    want.release_name = "shop";
    want.namespace_ = ns;
    want.manifest = helm({"template", "shop", chart, "--namespace", ns, "--values", values});
    want.chart_name = "drift-demo";
    want.chart_version = "0.1.0";
    want.values_digest = engine::values_digest(values_json);
  }
  InstalledShop(const InstalledShop&) = delete;
  InstalledShop& operator=(const InstalledShop&) = delete;
};

}  // namespace helmgate::test::fleet
