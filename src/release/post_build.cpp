#include "release/post_build.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/redact.hpp"
#include "release/kustomize_scan.hpp"
#include "release/substitute.hpp"
#include "release/typed_json.hpp"
#include "release/yaml_util.hpp"

namespace fs = std::filesystem;

namespace helmgate::release {

using detail::scalar;

namespace {

// targetNamespace and patches: one kustomization over the documents as resources.yaml, built by kustomize.
core::Result<std::string> overlay(const std::string& text, const Transform& t, const DiscoverOptions& opt,
                                  const Report& problem) {
  if (t.patches.IsSequence()) {
    YAML::Node only(YAML::NodeType::Map);
    only["patches"] = t.patches;
    auto refused = scan_kustomization(only, "", [](const std::string&) { return false; });
    for (const auto& ref : refused) problem("Flux Kustomization spec.patches: " + ref.message(), {t.file, 0, 0});
    if (!refused.empty()) return core::Error(core::errc::forbidden, "Flux Kustomization patches refused");
  }
  typed::Value k = typed::Value::object();
  k.o["apiVersion"] = typed::Value::string("kustomize.config.k8s.io/v1beta1");
  k.o["kind"] = typed::Value::string("Kustomization");
  if (!t.target_namespace.empty()) k.o["namespace"] = typed::Value::string(t.target_namespace);
  k.o["resources"].type = typed::Value::Type::array;
  k.o["resources"].a.push_back(typed::Value::string("resources.yaml"));
  if (t.patches.IsSequence()) {
    auto c = typed::from_yaml(t.patches);
    if (!c.ok) {
      problem("spec.patches of the Flux Kustomization declared in " + t.file + ": " + c.error.message, {t.file, 0, 0});
      return core::Error(core::errc::bad_request, c.error.message);
    }
    k.o["patches"] = std::move(c.value);
  }
  const std::string kz = typed::to_yaml(k);
  const std::string key = core::sha256_hex("flux-kustomization\n" + kz + "\n" + text);
  fs::path dir = fs::path(opt.work_root) / "flux-kustomizations" / key.substr(0, 32);
  // Base and head discovery run at once and may build the same overlay: each writes its own files
  // and renames them into place, so kustomize never reads a half-written one.
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string tmp = ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  for (const auto& [name, content] :
       {std::pair<const char*, const std::string*>{"kustomization.yaml", &kz}, {"resources.yaml", &text}}) {
    std::ofstream(dir / (name + tmp), std::ios::trunc) << *content;
    fs::rename(dir / (name + tmp), dir / name, ec);
  }
  if (!opt.kustomize) return core::Error(core::errc::invalid_config, "no kustomize");
  auto built = opt.kustomize(dir.string(), key);
  if (!built) {
    problem("applying the targetNamespace/patches of the Flux Kustomization declared in " + t.file +
                " failed: " + built.error().message + " (check spec.patches)",
            {t.file, 0, 0});
  }
  return built;
}

}  // namespace

core::Result<std::shared_ptr<const Docs>> apply_transform(const Docs& in, const Transform& t,
                                                          const DiscoverOptions& opt, ParseBudget& budget,
                                                          const Report& problem) {
  // Re-emitted keeping each scalar plain or quoted as written, so that kustomize and the ${var}
  // substitution below see what kustomize-controller sees and the documents parse back typed the same.
  std::string text;
  for (const auto& d : in) {
    auto emitted = typed::emit_preserving(d.node);
    if (!emitted) {
      problem("the documents of the Flux Kustomization declared in " + t.file + " cannot be re-emitted: " +
                  emitted.error().message,
              {d.file, d.line, 0});
      return emitted.error();
    }
    text += "---\n" + *emitted;
  }
  if (!t.target_namespace.empty() || t.patches.IsSequence()) {
    auto built = overlay(text, t, opt, problem);
    if (!built) return built.error();
    text = *built;
  }
  if (t.substitute) {
    auto substituted = subst::substitute_documents(text, t.vars, {opt.flux_strict_substitution, t.substitute_always});
    if (!substituted) {
      problem("the Flux Kustomization declared here fails its postBuild substitution, as kustomize-controller would: " +
                  substituted.error().message,
              {t.file, t.line, 0});
      return substituted.error();
    }
    text = *substituted;
  }
  auto parsed = budget.parse(t.file, text);
  if (auto* f = std::get_if<ParseFailure>(&parsed)) {
    problem("the documents of the Flux Kustomization declared in " + t.file +
                " are not valid YAML after postBuild substitution: " + f->message + " (check the substituted values)",
            {t.file, 0, 0});
    return core::Error(core::errc::bad_request, f->message);
  }
  // Positions survive by identity: the transformed document points at the file its original came from.
  std::map<std::string, const Doc*> origin;
  for (const auto& d : in) origin.emplace(scalar(d.node, "kind") + "/" + scalar(detail::get(d.node, "metadata"), "name"), &d);
  auto docs = std::make_shared<Docs>(std::move(std::get<Docs>(parsed)));
  for (auto& d : *docs) {
    auto it = origin.find(scalar(d.node, "kind") + "/" + scalar(detail::get(d.node, "metadata"), "name"));
    d.file = it != origin.end() ? it->second->file : std::string();
    d.line = it != origin.end() ? it->second->line : 0;
    d.unit = it != origin.end() ? it->second->unit : std::string();
    d.decrypted = it != origin.end() ? it->second->decrypted : nullptr;
  }
  return std::shared_ptr<const Docs>(docs);
}

}  // namespace helmgate::release
