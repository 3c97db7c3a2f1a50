#pragma once
// What the fleet end-to-end tests share: the test environment's clusters (admin and preview identities),
// the real helm binary, and raw REST calls to create objects and set their status (the test clusters
// have no kubelet and no controller-manager, so status is set by hand through the status subresource).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

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

}  // namespace helmgate::test::fleet
