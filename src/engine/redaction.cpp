#include "engine/redaction.hpp"

#include <yaml-cpp/yaml.h>

#include "core/yaml_bounded.hpp"

namespace helmgate::engine {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size()) {
      out.back() += path[++i];  // "\." is a dot inside a key, as in Helm's --set
    } else if (path[i] == '.') {
      out.emplace_back();
    } else {
      out.back() += path[i];
    }
  }
  return out;
}

void leaves(const YAML::Node& n, std::vector<std::string>& out) {
  if (n.IsScalar()) {
    // Very short values ("1", "a") would scrub unrelated text everywhere; they protect nothing anyway.
    if (n.Scalar().size() >= 4) out.push_back(n.Scalar());
  } else if (n.IsMap()) {
    for (const auto& kv : n) leaves(kv.second, out);
  } else if (n.IsSequence()) {
    for (const auto& x : n) leaves(x, out);
  }
}

void walk(const YAML::Node& n, const std::vector<std::string>& parts, size_t i, std::vector<std::string>& out) {
  if (i == parts.size()) {
    leaves(n, out);
    return;
  }
  if (!n.IsMap()) return;
  for (const auto& kv : n) {
    if (parts[i] == "*" || kv.first.Scalar() == parts[i]) walk(kv.second, parts, i + 1, out);
  }
}

}  // namespace

std::vector<std::string> sensitive_values(const std::string& values_json, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  if (paths.empty()) return out;
  YAML::Node root;
  try {
    root = core::yaml::load(values_json, core::yaml::Source::rendered);
  } catch (const YAML::Exception&) {
    return out;
  }
  for (const auto& p : paths) walk(root, split_path(p), 0, out);
  return out;
}

void scrub_report(diff::Report& report, const diff::Redactor& redactor) {
  if (redactor.empty()) return;
  auto problems = [&](std::vector<diff::Problem>& ps) {
    for (auto& p : ps) p.message = redactor.scrub(std::move(p.message));
  };
  problems(report.errors);
  problems(report.notes);
  for (auto& rr : report.releases) {
    problems(rr.errors);
    for (auto& s : rr.reasons) s = redactor.scrub(std::move(s));
    for (auto& s : rr.notes) s = redactor.scrub(std::move(s));
    for (auto& d : rr.resources) d.diff = redactor.scrub(std::move(d.diff));
    for (auto& v : rr.volatiles) {
      for (auto& f : v.fields) f = redactor.scrub(std::move(f));  // field names come from the chart's output
    }
  }
}

void add_release_secrets(diff::Redactor& redactor, const release::Release& r, const std::vector<std::string>& sensitive_paths) {
  for (const auto& s : r.sensitive) redactor.add_sensitive(s);
  for (const auto& s : sensitive_values(r.values_json, sensitive_paths)) redactor.add_sensitive(s);
}

void add_affected_secrets(diff::Redactor& redactor, const std::vector<release::Affected>& affected,
                          const std::vector<std::string>& sensitive_paths) {
  for (const auto& a : affected) {
    for (const auto* r : {a.base, a.head}) {
      if (r != nullptr) add_release_secrets(redactor, *r, sensitive_paths);
    }
  }
}

}  // namespace helmgate::engine
