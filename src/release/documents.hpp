#pragma once
// Discovery, room (a): documents. Reads YAML text into the documents of a tree, each with the file and
// line it was declared at; bounds how many files one discovery parses (limits.max_files); keeps parsed
// documents shared between the base and head discoveries; and indexes the objects a cluster declares by
// kind/namespace/name. Knows nothing of Git, kustomize or Flux.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "release/release.hpp"

namespace helmgate::release {

// The values SOPS decryption (release/sops_documents) took out of one document, by key path ("data.token",
// "data.values.yaml/password" for a SOPS file inside a Secret value): secrets, for redaction.
struct DecryptedValues {
  std::string file;
  std::vector<std::pair<std::string, std::string>> values;
};

struct Doc {
  YAML::Node node;
  std::string file;  // repository path when known
  int line = 0;      // of the document in file (1-based, 0 unknown)
  std::string unit;  // the kustomization directory it was built in ("" for a file read as it is)
  std::shared_ptr<const DecryptedValues> decrypted;  // set when it was SOPS-encrypted in the repository
};
using Docs = std::vector<Doc>;

struct ParseFailure {
  std::string message;
  Location where;
};

// What a file declares, as release/own_inputs decides by: the apiVersion, kind and name of each document
// when every document is such a whole object; nullopt when one is not (a patch, a values file, a scalar),
// when there is none, or when the file does not parse.
struct ObjectName {
  std::string api_version, kind, name;
};
using FileObjects = std::optional<std::vector<ObjectName>>;

// A file's documents (maps only) with their lines; a syntax error or a limit names the file, line and column.
// objects, when given, gets what the file declares.
std::variant<Docs, ParseFailure> parse_documents(const std::string& path, const std::string& text,
                                                 FileObjects* objects = nullptr);

// The YAML files one discovery parses, at most max_files (core::limits().max_files): past it every parse
// fails, naming the limit.
class ParseBudget {
 public:
  explicit ParseBudget(uint64_t max_files) : max_(max_files) {}
  std::variant<Docs, ParseFailure> parse(const std::string& path, const std::string& text);
  // parse() of a file as it is in its tree (not a text made from it; prefix: the tree's, "" for this
  // repository): what it declares is kept for objects(), so that it is not parsed again to narrow inputs.
  std::variant<Docs, ParseFailure> parse_file(const std::string& prefix, const std::string& path,
                                              const std::string& text);
  // What a file parsed by parse_file declares (key: prefix + path); null when it was not parsed so.
  const FileObjects* objects(const std::string& key) const {
    auto it = files_.find(key);
    return it == files_.end() ? nullptr : &it->second;
  }
  bool exhausted() const { return parsed_ > max_; }
  uint64_t parsed() const { return parsed_; }
  uint64_t max() const { return max_; }
  // Files a cluster taken from the discovery cache parsed when it was discovered: counted as parsed again.
  void charge(uint64_t files) { parsed_ += files; }

 private:
  uint64_t max_;
  uint64_t parsed_ = 0;
  std::map<std::string, FileObjects> files_;
};

// Where a room reports what it met: what and where (file:line). The orchestrator adds the cluster and,
// for a tenant repository, which one.
using Report = std::function<void(const std::string& message, const Location& where)>;

// Repository paths as discovery keys them: "./a//b/" -> "a/b", "." -> "".
std::string clean_path(std::string p);
std::string join_path(const std::string& dir, const std::string& rel);
bool is_yaml_path(const std::string& p);

// Parsed documents shared between discoveries (base and head), keyed by content.
class DocCache {
 public:
  std::shared_ptr<const Docs> get(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const Docs> docs);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Docs>> docs_;
};

// The objects of one cluster that others refer to by name: chart and Kustomization sources
// (HelmRepository, GitRepository, OCIRepository, HelmChart, ArtifactGenerator) and valuesFrom /
// substituteFrom objects (ConfigMap, Secret). A later declaration of the same object wins.
class ObjectIndex {
 public:
  void add(const Doc& d);  // ignored for any other kind
  // By namespace; an empty ns also finds "default", and objects declared without a namespace take the
  // namespace of what refers to them.
  const Doc* find(const std::string& kind, const std::string& ns, const std::string& name) const;
  std::vector<const Doc*> all(const std::string& kind) const;  // ordered by namespace/name
  void clear() { objects_.clear(); }

 private:
  std::map<std::string, Doc> objects_;  // kind/namespace/name
};

}  // namespace helmgate::release
