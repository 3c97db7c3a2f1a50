#pragma once
// Bounds on what a pull request (or a forge, or a chart) can make the process parse and hold: every
// input from Git is hostile, so each parser has a budget and refuses past it with an error that names
// the limit and the configuration key that raises it. Process-wide: set once at startup from the
// configuration (`limits:`), read by the parsers; the defaults are what a large real repository needs
// many times over.
#include <cstdint>
#include <string>

namespace helmgate::core {

struct YamlLimits {
  uint64_t max_bytes = 0;      // one file (or one valuesFrom value)
  uint64_t max_documents = 0;  // documents in one file
  uint64_t max_depth = 0;      // nesting of mappings and sequences
  uint64_t max_nodes = 0;      // nodes in one file, every alias counted as the size of what it names
  std::string key;             // configuration key prefix for messages: "limits.yaml" -> limits.yaml_max_nodes
};

struct Limits {
  // Files from Git: manifests, kustomize inputs, valuesFrom values, Chart.yaml, spec.values.
  YamlLimits yaml{16ull << 20, 10'000, 128, 1'000'000, "limits.yaml"};
  // Output of helm template / kustomize build (and the documents it is split into).
  YamlLimits rendered{64ull << 20, 20'000, 128, 4'000'000, "limits.rendered"};
  uint64_t max_files = 20'000;   // YAML files one discovery (one commit) reads
  uint64_t max_releases = 2'000;  // HelmReleases one cluster declares
  // JSON from forges and clusters (webhook payloads have their own, smaller limit).
  uint64_t json_max_depth = 512;
};

// A copy of the limits in force (the defaults until set_limits).
Limits limits();
void set_limits(const Limits& l);

// 1234567 -> "1,234,567", for limit messages.
std::string with_commas(uint64_t n);

}  // namespace helmgate::core
