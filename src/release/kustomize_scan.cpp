#include "release/kustomize_scan.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/egress.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "github.com", "gitlab.example.org:8443": a first path segment that reads as a host name.
bool host_like(const std::string& seg) {
  auto dot = seg.rfind('.');
  if (dot == std::string::npos || dot == 0 || std::isalnum(static_cast<unsigned char>(seg[0])) == 0) return false;
  std::string tld = seg.substr(dot + 1);
  if (auto colon = tld.find(':'); colon != std::string::npos) tld = tld.substr(0, colon);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
}

enum class Role {
  base,  // resources/bases/components: kustomize tries a remote Git repository when the path is not local
  file,  // a file kustomize loads (which may be an http(s) URL)
};

class Scanner {
 public:
  Scanner(std::string dir, const std::function<bool(const std::string&)>& exists)
      : dir_(std::move(dir)), exists_(exists) {}

  void entry(const YAML::Node& n, const std::string& field, Role role, bool strip_key = false) {
    if (!n || !n.IsScalar()) return;
    std::string s = n.Scalar();
    if (s.find('\n') != std::string::npos) return;  // an inline patch or config, not a path
    if (strip_key) {
      if (auto eq = s.find('='); eq != std::string::npos) s = s.substr(eq + 1);
    }
    if (s.empty()) return;
    auto refuse = [&](const std::string& why) {
      out.push_back({field, core::redact_userinfo(s), why, n.Mark().is_null() ? 0 : n.Mark().line + 1,
                     n.Mark().is_null() ? 0 : n.Mark().column + 1});
    };
    if (kustomize_entry_is_remote(s)) {
      refuse("remote resources are not fetched (kustomize runs without network); commit the files into the repository");
      return;
    }
    if (s[0] == '/' || s[0] == '~') {
      refuse("an absolute path reads the server's own files; use a path relative to the kustomization");
      return;
    }
    std::string joined = (fs::path(dir_.empty() ? "." : dir_) / s).lexically_normal().generic_string();
    if (joined == ".." || joined.rfind("../", 0) == 0) {
      refuse("the path leaves the repository");
      return;
    }
    if (role == Role::base) {
      auto slash = s.find('/');
      if (slash != std::string::npos && host_like(s.substr(0, slash)) && !exists_(joined == "." ? "" : joined)) {
        refuse("it is not a path in the repository, so kustomize would fetch it as a remote Git repository; remote "
               "resources are refused (commit the files into the repository)");
      }
    }
  }

  void list(const YAML::Node& k, const char* field, Role role) {
    YAML::Node l = k[field];
    if (!l || !l.IsSequence()) return;
    for (const auto& e : l) entry(e, field, role);
  }

  // Items that are maps with a `path` (patches, patchesJson6902, replacements).
  void paths(const YAML::Node& k, const char* field) {
    YAML::Node l = k[field];
    if (!l || !l.IsSequence()) return;
    for (size_t i = 0; i < l.size(); ++i) {
      if (l[i].IsMap()) entry(l[i]["path"], std::string(field) + "[" + std::to_string(i) + "].path", Role::file);
    }
  }

  void generators(const YAML::Node& k, const char* field) {
    YAML::Node l = k[field];
    if (!l || !l.IsSequence()) return;
    for (size_t i = 0; i < l.size(); ++i) {
      const YAML::Node& g = l[i];
      if (!g.IsMap()) continue;
      const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
      for (const char* f : {"files", "envs"}) {
        if (g[f] && g[f].IsSequence()) {
          for (const auto& e : g[f]) entry(e, at + "." + f, Role::file, std::string(f) == "files");
        }
      }
      entry(g["env"], at + ".env", Role::file);
    }
  }

  void helm(const YAML::Node& k) {
    YAML::Node charts = k["helmCharts"];
    if (charts && charts.IsSequence()) {
      for (size_t i = 0; i < charts.size(); ++i) {
        const YAML::Node& c = charts[i];
        if (!c.IsMap()) continue;
        const std::string at = "helmCharts[" + std::to_string(i) + "]";
        if (c["repo"] && c["repo"].IsScalar() && !c["repo"].Scalar().empty()) {
          const YAML::Node& r = c["repo"];
          out.push_back({at + ".repo", core::redact_userinfo(r.Scalar()),
                         "kustomize does not pull charts here; declare a HelmRelease with a HelmRepository instead, whose "
                         "URL passes the egress policy",
                         r.Mark().line + 1, r.Mark().column + 1});
        }
        entry(c["valuesFile"], at + ".valuesFile", Role::file);
        if (c["additionalValuesFiles"] && c["additionalValuesFiles"].IsSequence()) {
          for (const auto& e : c["additionalValuesFiles"]) entry(e, at + ".additionalValuesFiles", Role::file);
        }
      }
    }
    YAML::Node globals = k["helmGlobals"];
    if (globals && globals.IsMap()) {
      entry(globals["chartHome"], "helmGlobals.chartHome", Role::file);
      entry(globals["configHome"], "helmGlobals.configHome", Role::file);
    }
    YAML::Node legacy = k["helmChartInflationGenerator"];
    if (legacy && legacy.IsSequence()) {
      for (size_t i = 0; i < legacy.size(); ++i) {
        const YAML::Node& c = legacy[i];
        if (!c.IsMap()) continue;
        const std::string at = "helmChartInflationGenerator[" + std::to_string(i) + "]";
        if (c["chartRepoUrl"] && c["chartRepoUrl"].IsScalar() && !c["chartRepoUrl"].Scalar().empty()) {
          const YAML::Node& r = c["chartRepoUrl"];
          out.push_back({at + ".chartRepoUrl", core::redact_userinfo(r.Scalar()),
                         "kustomize does not pull charts here; declare a HelmRelease instead", r.Mark().line + 1,
                         r.Mark().column + 1});
        }
        entry(c["chartHome"], at + ".chartHome", Role::file);
        entry(c["values"], at + ".values", Role::file);
      }
    }
  }

  std::vector<KustomizeRefusal> out;

 private:
  std::string dir_;
  const std::function<bool(const std::string&)>& exists_;
};

}  // namespace

std::string KustomizeRefusal::message() const {
  return field + " entry '" + entry + "' is refused: " + reason;
}

bool kustomize_entry_is_remote(const std::string& entry) {
  const std::string s = lower(entry);
  if (s.find("://") != std::string::npos) return true;
  for (const char* p : {"git@", "git::", "gh:", "file:", "http:", "https:", "ssh:", "s3::", "gcs::", "hg::", "github.com/",
                        "gitlab.com/", "bitbucket.org/", "ssh.dev.azure.com", "dev.azure.com/"}) {
    if (s.rfind(p, 0) == 0) return true;
  }
  for (const char* q : {"?ref=", "&ref=", "?version=", "&version=", "?submodules=", "&submodules=", "?timeout=",
                        "&timeout="}) {
    if (s.find(q) != std::string::npos) return true;
  }
  // scp-like: user@host:path (no '/' before the ':')
  auto at = s.find('@');
  auto colon = s.find(':');
  auto slash = s.find('/');
  return at != std::string::npos && colon != std::string::npos && at < colon && (slash == std::string::npos || colon < slash);
}

std::vector<KustomizeRefusal> scan_kustomization(const YAML::Node& k, const std::string& dir,
                                                 const std::function<bool(const std::string&)>& exists) {
  Scanner sc(dir, exists);
  if (!k || !k.IsMap()) return {};
  // generators/transformers/validators may name a directory with a kustomization of its own, like a base.
  for (const char* f : {"resources", "bases", "components", "generators", "transformers", "validators"}) {
    sc.list(k, f, Role::base);
  }
  for (const char* f : {"crds", "configurations", "patchesStrategicMerge"}) sc.list(k, f, Role::file);
  for (const char* f : {"patches", "patchesJson6902", "replacements"}) sc.paths(k, f);
  if (k["openapi"] && k["openapi"].IsMap()) sc.entry(k["openapi"]["path"], "openapi.path", Role::file);
  for (const char* f : {"configMapGenerator", "secretGenerator"}) sc.generators(k, f);
  sc.helm(k);
  return std::move(sc.out);
}

}  // namespace helmgate::release
