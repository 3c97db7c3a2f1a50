#include "apply/helm.hpp"

#include <rapidjson/document.h>

#include <filesystem>

#include "core/json.hpp"
#include "core/redact.hpp"

#include <cstdio>
#include <memory>

namespace helmgate::apply {

namespace fs = std::filesystem;

core::Result<render::ProcessResult> run_helm(const HelmEnv& env, std::vector<std::string> args, const std::string& what) {
  if (env.helm.empty()) return core::Error(core::errc::invalid_config, "helm not found: set HELMGATE_HELM or put helm on PATH");
  std::error_code ec;
  fs::create_directories(env.work_dir, ec);
  args.insert(args.begin(), env.helm);
  args.emplace_back("--kubeconfig");
  args.push_back(env.kubeconfig);
  render::ProcessOptions po;
  po.timeout = env.timeout + std::chrono::seconds(30);
  po.env = {"HOME=" + env.work_dir, "HELM_CACHE_HOME=" + env.work_dir + "/cache",
            "HELM_CONFIG_HOME=" + env.work_dir + "/config", "HELM_DATA_HOME=" + env.work_dir + "/data",
            "PATH=/usr/local/bin:/usr/bin:/bin"};
  auto r = render::run_process(args, po);
  if (!r) return r.error();
  if (r->timed_out) {
    return core::Error(core::errc::timeout, "cluster " + env.cluster + ": " + what + ": helm did not finish in time");
  }
  if (r->exit_code != 0) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    if (err.size() > 2000) err = err.substr(0, 2000) + " ...";
    // Unreachable clusters are worth retrying; anything else is helm's verdict on the release.
    bool transient = err.find("connection refused") != std::string::npos ||
                     err.find("i/o timeout") != std::string::npos || err.find("no route to host") != std::string::npos ||
                     err.find("Kubernetes cluster unreachable") != std::string::npos;
    return core::Error(transient ? core::errc::unavailable : core::errc::bad_request,
                       "cluster " + env.cluster + ": " + what + ": " + err);
  }
  return r;
}

core::Result<std::map<std::string, HelmRelease>> list_releases(const HelmEnv& env) {
  auto r = run_helm(env, {"list", "--all-namespaces", "--max", "100000", "-o", "json"}, "helm list");
  if (!r) return r.error();
  rapidjson::Document doc;
  doc.Parse(r->out.data(), r->out.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return core::Error(core::errc::internal, "cluster " + env.cluster + ": helm list did not print a JSON array");
  }
  std::map<std::string, HelmRelease> out;
  for (const auto& v : doc.GetArray()) {
    HelmRelease h;
    h.name = core::json::get_string(v, "name").value_or("");
    h.namespace_ = core::json::get_string(v, "namespace").value_or("");
    h.status = core::json::get_string(v, "status").value_or("");
    // helm prints the revision as a string in some versions and a number in others.
    if (auto s = core::json::get_string(v, "revision")) {
      h.revision = std::atoi(s->c_str());
    } else {
      h.revision = static_cast<int>(core::json::get_int(v, "revision").value_or(0));
    }
    out[h.namespace_ + "/" + h.name] = h;
  }
  return out;
}

}  // namespace helmgate::apply

namespace helmgate::apply {

core::Result<int> upgrade_install(const HelmEnv& env, const ReleaseSpec& spec, bool create_namespace,
                                  const std::string& what) {
  std::error_code ec;
  fs::create_directories(env.work_dir + "/values", ec);
  // The merged values may hold Secret data: private file, removed whatever happens.
  std::string path = env.work_dir + "/values/" + core::sha256_hex(spec.id + spec.digest).substr(0, 16) + ".json";
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } remove{path};
  {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return core::Error(core::errc::internal, "cannot write the values file " + path);
    std::unique_ptr<FILE, int (*)(FILE*)> owned(f, &std::fclose);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
    if (std::fwrite(spec.values_json.data(), 1, spec.values_json.size(), f) != spec.values_json.size()) {
      return core::Error(core::errc::internal, "cannot write the values file " + path);
    }
  }
  std::vector<std::string> args = {"upgrade", "--install", spec.release_name};
  args.insert(args.end(), spec.chart_args.begin(), spec.chart_args.end());
  args.insert(args.end(), {"--namespace", spec.namespace_, "--values", path, "--history-max", "10", "--timeout",
                           std::to_string(env.timeout.count() / 1000) + "s", "-o", "json"});
  if (create_namespace) args.emplace_back("--create-namespace");
  auto r = run_helm(env, args, what);
  if (!r) return r.error();
  rapidjson::Document doc;
  doc.Parse(r->out.data(), r->out.size());
  if (doc.HasParseError() || !doc.IsObject()) return 0;
  return static_cast<int>(core::json::get_int(doc, "version").value_or(0));
}

}  // namespace helmgate::apply
