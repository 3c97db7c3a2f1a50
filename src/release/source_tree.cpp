#include "release/source_tree.hpp"

#include "release/kustomize_build.hpp"

namespace helmgate::release {

std::optional<std::string> SourceTree::read(const std::string& path) const {
  record(path);
  auto t = repo->read_file(commit, path);
  if (t.ok() && t->has_value()) return **t;
  return std::nullopt;
}

std::optional<std::string> SourceTree::read(const std::string& path, const git::TreeEntry& listed) const {
  if (listed.is_tree || listed.mode == git::kModeSymlink || listed.mode == git::kModeSubmodule) return read(path);
  record(path);
  auto t = repo->read_blob(listed.oid);
  if (t.ok() && t->has_value()) return **t;
  return std::nullopt;
}

std::optional<std::string> SourceTree::object_id(const std::string& path) const {
  record(path);
  auto id = repo->object_id(commit, path);
  if (id.ok() && id->has_value()) return **id;
  return std::nullopt;
}

bool SourceTree::is_dir(const std::string& path) const {
  record(path);
  return repo->is_dir(commit, path);
}

core::Result<std::vector<git::TreeEntry>> SourceTree::list(const std::string& dir, bool recursive) const {
  record(dir);
  return repo->list(commit, dir, recursive);
}

namespace {

class Walk {
 public:
  Walk(SourceTree& tree, const TreeEnv& env, RootRead& out) : tree_(tree), env_(env), out_(out) {}

  core::Result<std::shared_ptr<const Docs>> load(const std::string& root, std::vector<std::string>& inputs) {
    if (!root.empty() && !tree_.is_dir(root)) {
      if (auto text = tree_.read(root)) {
        inputs.push_back(root);
        auto pf = env_.budget.parse_file(tree_.prefix, root, *text);
        if (auto* f = std::get_if<ParseFailure>(&pf)) {
          env_.problem(f->message, f->where);
          return core::Error(core::errc::bad_request, f->message);
        }
        return std::shared_ptr<const Docs>(std::make_shared<Docs>(std::get<Docs>(pf)));
      }
      env_.problem("path '" + root + "' does not exist at " + tree_.commit.substr(0, 12) +
                       " (check the cluster paths or the Flux Kustomization spec.path)",
                   {root, 0, 0});
      out_.missing = true;
      return core::Error(core::errc::not_found, "missing " + root);
    }
    if (!kustomization_file(tree_, root).empty()) return build_kustomization(tree_, root, inputs, env_);
    auto entries = tree_.list(root, false);
    if (!entries) {
      env_.problem(entries.error().message, {root, 0, 0});
      return entries.error();
    }
    auto docs = std::make_shared<Docs>();
    bool failed = false;
    for (const auto& e : *entries) {
      const std::string p = join_path(root, e.path);
      if (e.is_tree) {
        // A chart's templates are Go templates, not manifests; charts are read by the renderer.
        if (tree_.read(join_path(p, "Chart.yaml"))) continue;
        std::vector<std::string> sub_inputs;
        auto sub = load(p, sub_inputs);
        inputs.insert(inputs.end(), sub_inputs.begin(), sub_inputs.end());
        if (!sub) {
          failed = true;
          continue;
        }
        docs->insert(docs->end(), (*sub)->begin(), (*sub)->end());
        continue;
      }
      if (!is_yaml_path(p) || e.mode == git::kModeSymlink) continue;
      if (env_.budget.exhausted()) return core::Error(core::errc::bad_request, "limits.max_files");
      auto text = tree_.read(p, e);
      if (!text) continue;
      inputs.push_back(p);
      auto pf = env_.budget.parse_file(tree_.prefix, p, *text);
      if (auto* f = std::get_if<ParseFailure>(&pf)) {
        env_.problem(f->message, f->where);
        failed = true;
        continue;
      }
      auto& d = std::get<Docs>(pf);
      docs->insert(docs->end(), d.begin(), d.end());
    }
    // What could be read is kept (the other releases of the path are still previewed); the caller records
    // the path as read in part.
    if (failed) out_.partial = true;
    return std::shared_ptr<const Docs>(docs);
  }

 private:
  SourceTree& tree_;
  const TreeEnv& env_;
  RootRead& out_;
};

}  // namespace

RootRead read_root(SourceTree& tree, const std::string& root, const TreeEnv& env) {
  RootRead out;
  auto docs = Walk(tree, env, out).load(root, out.inputs);
  if (docs) out.docs = *docs;
  return out;
}

}  // namespace helmgate::release
