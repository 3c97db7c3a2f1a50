#include "apply/helm.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>

#include "core/json.hpp"
#include "core/names.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"

#include <cstdio>
#include <memory>

namespace helmgate::apply {

namespace fs = std::filesystem;

namespace {

// The apply step's sandbox: the network stays (helm must reach the API server and chart repositories), the
// rest is as for rendering: only the kubeconfig and the chart read-only, helm's homes (with the values file)
// writable, no sight of the server's environment, configuration or other processes.
core::Result<process::ProcessResult> run_helm_in(const HelmEnv& env, std::vector<std::string> args, const std::string& what,
                                                const std::vector<std::string>& read_only);

}  // namespace

core::Result<process::ProcessResult> run_helm(const HelmEnv& env, std::vector<std::string> args, const std::string& what) {
  return run_helm_in(env, std::move(args), what, {});
}

namespace {

core::Result<process::ProcessResult> run_helm_in(const HelmEnv& env, std::vector<std::string> args, const std::string& what,
                                                const std::vector<std::string>& read_only) {
  if (env.helm.empty()) return core::Error(core::errc::invalid_config, "helm not found: set HELMGATE_HELM or put helm on PATH");
  std::error_code ec;
  fs::create_directories(env.work_dir, ec);
  args.insert(args.begin(), env.helm);
  // Before "--" when there is one: everything after it is positional.
  auto end_of_flags = std::find(args.begin(), args.end(), std::string("--"));
  end_of_flags = args.insert(end_of_flags, "--kubeconfig=" + env.kubeconfig) + 1;
  // Values from Git or configuration: refused unless they follow the identity rules (no CR/LF, no option).
  if (!env.as_user.empty() || !env.as_groups.empty()) {
    if (auto why = core::names::impersonation_user(env.as_user); !why.empty()) {
      return core::Error(core::errc::bad_request, "cluster " + env.cluster + ": " + what +
                                                      ": refused: the user to act as " + core::names::shown(env.as_user) + " " + why);
    }
    std::vector<std::string> as = {"--kube-as-user=" + env.as_user};
    for (const auto& g : env.as_groups) {
      if (auto why = core::names::impersonation_group(g); !why.empty()) {
        return core::Error(core::errc::bad_request, "cluster " + env.cluster + ": " + what +
                                                        ": refused: the group to act as " + core::names::shown(g) + " " + why);
      }
      as.push_back("--kube-as-group=" + g);
    }
    args.insert(end_of_flags, as.begin(), as.end());
  }
  process::ProcessOptions po;
  po.timeout = env.timeout + std::chrono::seconds(30);
  po.env = {"HOME=" + env.work_dir, "HELM_CACHE_HOME=" + env.work_dir + "/cache",
            "HELM_CONFIG_HOME=" + env.work_dir + "/config", "HELM_DATA_HOME=" + env.work_dir + "/data",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            // As for helm template: a short-lived process spends less CPU collecting garbage (heaps of tens of MB).
            // One Go processor: upgrades run several at a time (apply_concurrency per cluster, clusters in
            // parallel), and each one waits on the API server; more processors only spin (-10 % CPU measured).
            "GOGC=400", "GOMAXPROCS=1"};
  po.sandboxed = true;
  po.sandbox.network = true;
  po.sandbox.read_only = read_only;
  po.sandbox.read_only.push_back(env.kubeconfig);
  for (const auto& f : env.kubeconfig_files) po.sandbox.read_only.push_back(f);
  po.sandbox.writable = {env.work_dir};
  auto r = process::run_process(args, po);
  if (!r) return r.error();
  if (r->timed_out) {
    return core::Error(core::errc::timeout, "cluster " + env.cluster + ": " + what + ": helm did not finish in time");
  }
  if (!r->limit.empty()) {
    return core::Error(core::errc::payload_too_large, "cluster " + env.cluster + ": " + what + ": helm exceeded " + r->limit_text);
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

}  // namespace

namespace {
constexpr std::string_view kDigestMark = "helmgate digest ";
bool lower_hex(std::string_view v) {
  return !v.empty() && v.size() <= 128 &&
         std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

std::string digest_description(const std::string& digest) {
  return lower_hex(digest) ? std::string(kDigestMark) + digest : std::string();
}

std::string digest_from_description(const std::string& description) {
  if (description.rfind(kDigestMark, 0) != 0) return {};
  std::string_view d = std::string_view(description).substr(kDigestMark.size());
  return lower_hex(d) ? std::string(d) : std::string();
}

core::Result<std::map<std::string, HelmRelease>> list_releases(const HelmEnv& env) {
  auto r = run_helm(env, {"list", "--all-namespaces", "--max", "100000", "-o", "json"}, "helm list");
  if (!r) return r.error();
  rapidjson::Document doc;
  const bool unparsed = core::json::parse(doc, r->out).has_value();  // iterative, depth-bounded
  if (unparsed || !doc.IsArray()) {
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

core::Result<void> check_release_identity(const std::string& release_name, const std::string& ns, const std::string& what) {
  if (auto why = core::names::helm_release_name(release_name); !why.empty()) {
    return core::Error(core::errc::bad_request, what + ": refused: release name " + core::names::shown(release_name) + " " + why);
  }
  if (auto why = core::names::namespace_name(ns); !why.empty()) {
    return core::Error(core::errc::bad_request, what + ": refused: namespace " + core::names::shown(ns) + " " + why);
  }
  return {};
}

core::Result<int> upgrade_install(const HelmEnv& env, const ReleaseSpec& spec, bool create_namespace,
                                  const std::string& what) {
  if (auto ok = check_release_identity(spec.release_name, spec.namespace_, what); !ok) return ok.error();
  core::ensure_private_dir(env.work_dir + "/values");
  // The merged values may hold Secret data: private file, removed whatever happens.
  std::string path = env.work_dir + "/values/" + core::sha256_hex(spec.id + spec.digest).substr(0, 16) + ".json";
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } remove{path};
  // 0600 from its creation (never readable by others, not even for an instant), whatever the umask.
  if (!core::write_private_file(path, spec.values_json)) {
    return core::Error(core::errc::internal, "cannot write the values file " + path);
  }
  if (spec.chart_args.empty()) return core::Error(core::errc::internal, what + ": no chart");
  // Values from Git never reach argv as options: flags as --flag=value, release and chart after "--".
  std::vector<std::string> args = {"upgrade", "--install", "--namespace=" + spec.namespace_, "--values=" + path,
                                   "--history-max=10", "--timeout=" + std::to_string(env.timeout.count() / 1000) + "s",
                                   "--output=json"};
  if (create_namespace) args.emplace_back("--create-namespace");
  if (spec.skip_schema_validation) args.emplace_back("--skip-schema-validation");
  if (spec.disable_openapi_validation) args.emplace_back("--disable-openapi-validation");
  if (spec.force_conflicts) args.emplace_back("--force-conflicts");
  if (auto d = digest_description(spec.digest); !d.empty()) args.push_back("--description=" + d);
  for (size_t i = 1; i < spec.chart_args.size(); i += 2) {
    args.push_back(i + 1 < spec.chart_args.size() ? spec.chart_args[i] + "=" + spec.chart_args[i + 1] : spec.chart_args[i]);
  }
  args.insert(args.end(), {"--", spec.release_name, spec.chart_args.front()});
  // A local chart is one directory (the other forms carry --repo or are an oci:// reference).
  std::vector<std::string> read_only;
  if (spec.chart_args.size() == 1 && spec.chart_args[0].rfind("oci://", 0) != 0) {
    read_only.push_back(spec.chart_args[0]);
  }
  auto r = run_helm_in(env, args, what, read_only);
  if (!r) return r.error();
  rapidjson::Document doc;
  const bool unparsed = core::json::parse(doc, r->out).has_value();  // iterative, depth-bounded
  if (unparsed || !doc.IsObject()) return 0;
  return static_cast<int>(core::json::get_int(doc, "version").value_or(0));
}

ActionResult upgrade_install_action(const HelmEnv& env, const ReleaseSpec& spec, ActionOutcome on_success,
                                    const std::string& what) {
  ActionResult out;
  if (auto ok = check_release_identity(spec.release_name, spec.namespace_, what); !ok) {
    out.reason = ok.error().message;
    return out;
  }
  auto start = std::chrono::steady_clock::now();
  auto r = upgrade_install(env, spec, spec.create_namespace, what);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  out.touched = true;
  if (!r) {
    out.reason = r.error().message;
    return out;
  }
  out.outcome = on_success;
  out.revision = *r;
  return out;
}

}  // namespace helmgate::apply
