#pragma once
// Bounded YAML loading for content from Git, charts and helm output. yaml-cpp shares the node of an
// anchor among its aliases, so loading an alias bomb ("billion laughs", under 1 KB) is cheap, but any
// walk over the result (merge, clone, dump, digest) expands it: gigabytes. These loaders first run
// yaml-cpp's event parser over the text and refuse it, before a node is built, when it is over:
//   * max_bytes      the size of the text,
//   * max_documents  the number of documents,
//   * max_depth      the nesting of mappings and sequences (bounds every recursive walk after),
//   * max_nodes      the number of nodes with every alias counted as the full size of what it names,
//                    (and max_bytes again for the scalar text with aliases expanded),
// and when an alias names a node that contains it (yaml-cpp would build a cycle: endless walks).
// Then they load as YAML::Load / YAML::LoadAll do, so accepted text gives exactly the same nodes.
//
// Errors are thrown as LimitExceeded, a YAML::Exception: code that catches YAML::Exception already
// reports it with its place; msg names the limit and the configuration key that raises it, e.g.
// "YAML alias expansion exceeds 1,000,000 nodes (limits.yaml_max_nodes)".
#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"

namespace helmgate::core::yaml {

class LimitExceeded : public YAML::Exception {
 public:
  LimitExceeded(const YAML::Mark& where, const std::string& message) : YAML::Exception(where, message) {}
};

enum class Source {
  repository,  // a file from Git (or a value inside one): core::limits().yaml
  rendered,    // helm template / kustomize output: core::limits().rendered
};

// Throws LimitExceeded, or YAML::ParserException for invalid YAML (the same as YAML::Load would).
void check(std::string_view text, const YamlLimits& limits);

std::vector<YAML::Node> load_all(std::string_view text, const YamlLimits& limits);
YAML::Node load(std::string_view text, const YamlLimits& limits);

// With the process-wide limits (core::limits()) for the kind of source.
std::vector<YAML::Node> load_all(std::string_view text, Source source = Source::repository);
YAML::Node load(std::string_view text, Source source = Source::repository);
// Reads a file no larger than max_bytes (YAML::BadFile when it cannot be read), then load().
YAML::Node load_file(const std::string& path, Source source = Source::repository);

}  // namespace helmgate::core::yaml
