#include "release/flux_kustomization.hpp"

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "release/sources.hpp"
#include "release/typed_json.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

namespace {

// A map[string]string field (ConfigMap/Secret data, postBuild.substitute) as the API server holds it: keys
// typed (a key written yes is "true"), and a value that is not a string in JSON (a plain 3, true, 1.10)
// is a problem, because the API server refuses the object; such entries are left out.
std::vector<std::pair<std::string, std::string>> string_map(const YAML::Node& m, const std::string& what,
                                                            const Location& at, const Report& problem) {
  std::vector<std::pair<std::string, std::string>> out;
  auto c = typed::from_yaml(m);
  if (!c.ok) {
    problem(what + ": " + c.error.message, at);
    return out;
  }
  for (const auto& [k, v] : c.value.o) {
    if (v.type == typed::Value::Type::string) {
      out.emplace_back(k, v.s);
    } else if (v.is_null()) {
      out.emplace_back(k, "");
    } else {
      problem(what + "." + k + " is not a string in Kubernetes (YAML reads it as a number, boolean, list or map), "
              "so the API server refuses the object; quote it",
              at);
    }
  }
  return out;
}

// postBuild.substituteFrom then postBuild.substitute into t.
void read_post_build(const Doc& d, const YAML::Node& post, const std::string& ks, const ObjectIndex& objects,
                     const Report& problem, Transform& t) {
  t.substitute = true;
  t.substitute_always = scalar(post, "substituteStrategy") == "Always";
  const std::string ns = scalar(detail::get(d.node, "metadata"), "namespace");
  for (const auto& f : detail::get(post, "substituteFrom")) {
    const std::string kind = scalar(f, "kind"), name = scalar(f, "name");
    const bool optional = detail::truthy(f, "optional");
    const Doc* obj = (kind == "ConfigMap" || kind == "Secret") ? objects.find(kind, ns, name) : nullptr;
    if (obj == nullptr) {
      if (!optional) {
        problem("Flux Kustomization " + ks + ": postBuild.substituteFrom " + kind + " " + ns + "/" + name +
                    " is not in this cluster's manifests (add it to the repository, or mark it optional: true)",
                {d.file, d.line, 0});
      }
      continue;
    }
    if (!obj->file.empty()) t.file = obj->file;
    // Decrypted from SOPS in the repository: every value it yielded is secret, a ConfigMap's too.
    if (obj->decrypted) {
      for (const auto& v : obj->decrypted->values) t.sensitive.push_back(v.second);
    }
    for (const char* field : {"data", "stringData"}) {
      YAML::Node data = detail::get(obj->node, field);
      if (!data || !data.IsMap()) continue;
      for (const auto& [k, raw] :
           string_map(data, kind + " " + ns + "/" + name + " " + field, {obj->file, obj->line, 0}, problem)) {
        std::string v = kind == "Secret" && std::string(field) == "data" ? core::base64_decode_lenient(raw) : raw;
        if (kind == "Secret") t.sensitive.push_back(v);
        t.vars[k] = v;
      }
    }
  }
  // Inline values win over substituteFrom, as in kustomize-controller.
  YAML::Node sub = detail::get(post, "substitute");
  if (sub && sub.IsMap()) {
    for (const auto& [k, v] :
         string_map(sub, "Flux Kustomization " + ks + " postBuild.substitute", {d.file, d.line, 0}, problem)) {
      t.vars[k] = v;
    }
  }
}

}  // namespace

std::shared_ptr<const Transform> transform_of(const Doc& d, const std::string& ks, const ObjectIndex& objects,
                                              const Report& problem) {
  YAML::Node spec = detail::get(d.node, "spec");
  auto t = std::make_shared<Transform>();
  t->target_namespace = scalar(spec, "targetNamespace");
  if (YAML::Node p = detail::get(spec, "patches"); p && p.IsSequence() && p.size() > 0) t->patches = p;
  if (YAML::Node post = detail::get(spec, "postBuild"); post && post.IsMap()) {
    read_post_build(d, post, ks, objects, problem, *t);
  }
  if (YAML::Node dec = detail::get(spec, "decryption"); dec && dec.IsMap()) t->decrypt = scalar(dec, "provider") == "sops";
  if (!t->rewrites() && !t->decrypt) return nullptr;
  if (!d.file.empty()) t->file = d.file;
  t->line = d.line;
  std::string patches_text;
  if (t->patches.IsSequence()) {
    auto c = typed::from_yaml(t->patches);
    patches_text = c.ok ? typed::to_json(c.value) : detail::dump(t->patches);
  }
  std::string material = t->target_namespace + "\n" + patches_text + "\n" + (t->substitute ? "subst" : "") +
                         (t->substitute_always ? "always" : "") + (t->decrypt ? "\nsops" : "");
  for (const auto& [k, v] : t->vars) material += "\n" + k + "=" + v;
  t->digest = core::sha256_hex(material).substr(0, 16);
  return t;
}

std::vector<Applied> follow(const Doc& d, const KustomizationEnv& env) {
  std::vector<Applied> out;
  if (scalar(d.node, "kind") != "Kustomization" ||
      scalar(d.node, "apiVersion").rfind("kustomize.toolkit.fluxcd.io/", 0) != 0) {
    return out;
  }
  YAML::Node md = detail::get(d.node, "metadata");
  YAML::Node spec = detail::get(d.node, "spec");
  const std::string ks = scalar(md, "namespace", "default") + "/" + scalar(md, "name");
  const Location at{d.file, d.line, 0};
  const std::string path = clean_path(scalar(spec, "path"));
  YAML::Node sref = detail::get(spec, "sourceRef");
  const std::string src_kind = scalar(sref, "kind");
  const std::string src_name = scalar(sref, "name");
  const std::string ns = scalar(sref, "namespace", scalar(md, "namespace"));
  auto transform = transform_of(d, ks, env.objects, env.problem);
  auto tenant = [&](const Doc& gr, const std::string& gr_id, const std::string& tenant_path) {
    auto opened = env.sources.open(gr, gr_id, env.opt.open_source);
    if (opened.index) {
      out.push_back({*opened.index, tenant_path, transform});
    } else {
      env.note("Flux Kustomization " + ks + " applies " + opened.label + ", which " + opened.why +
                   "; releases declared there are not in this preview",
               at);
    }
  };
  // A source mapped to a path of this repository (--source, repos[].sources) wins over every other rule.
  if (const SourceMapping* m = find_mapping(env.opt.sources, src_kind, ns, src_name);
      m != nullptr && src_kind != "ExternalArtifact") {
    out.push_back({0, join_path(m->path, path), transform});
    return out;
  }
  if (src_kind == "GitRepository") {
    const Doc* gr = env.objects.find("GitRepository", ns, src_name);
    const std::string url = gr != nullptr ? scalar(detail::get(gr->node, "spec"), "url") : std::string();
    if (is_self_git_repository(env.opt, src_name, url)) {
      out.push_back({0, path, transform});
    } else if (gr == nullptr) {
      env.note("Flux Kustomization " + ks + " applies GitRepository " + ns + "/" + src_name +
                   ", which is not declared in this cluster's manifests; its path '" + path +
                   "' is not in this preview",
               at);
    } else {
      tenant(*gr, ns + "/" + src_name, path);
    }
  } else if (src_kind == "ExternalArtifact") {
    // Made by an ArtifactGenerator from its own sources: followed to the source the path was copied from.
    auto place = charts::locate_artifact(ns, src_name, path, env.charts);
    if (place.kind == charts::ArtifactPlace::Kind::self) {
      out.push_back({0, place.path, transform});
    } else if (place.kind == charts::ArtifactPlace::Kind::git_repository) {
      const auto& g = place.git_repository;
      const std::string gid = scalar(detail::get(g.node, "metadata"), "namespace", ns) + "/" +
                              scalar(detail::get(g.node, "metadata"), "name");
      tenant(Doc{g.node, g.file, g.line, {}, nullptr}, gid, place.path);
    } else {
      env.note("Flux Kustomization " + ks + " applies ExternalArtifact " + ns + "/" + src_name +
                   ", which is not previewed: " + place.why + "; releases declared there are not in this report",
               at);
    }
  } else if (!src_kind.empty()) {
    const Doc* src = env.objects.find(src_kind, ns, src_name);
    const std::string url = src != nullptr ? scalar(detail::get(src->node, "spec"), "url") : std::string();
    env.note("Flux Kustomization " + ks + " applies " + src_kind + " " + ns + "/" + src_name +
                 (url.empty() ? std::string() : " (" + core::redact_url(url) + ")") +
                 "; sources of this kind are not previewed, so releases declared there are not in this report",
             at);
  }
  return out;
}

}  // namespace helmgate::release
