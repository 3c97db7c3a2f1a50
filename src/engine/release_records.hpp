#pragma once
// Helm's release records of a cluster (kube/helm_records.hpp) with the values digest computed as apply
// treats values: the user-supplied values typed as Kubernetes and helm hold them (release/typed_json.hpp),
// written as canonical JSON, SHA-256 in hex. A release Git declares has the digest
// values_digest(release.values_json); the record of a release helmgate applied has the same digest as
// long as nobody changed its values by hand (`helm upgrade --set`) since.
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "kube/client.hpp"
#include "kube/helm_records.hpp"

namespace helmgate::engine {

// Of helm's `config` (nullptr or null: no values, as "{}").
std::string values_digest(const core::json::Value* config);
// Of a release's values_json (release::Release::values_json); the same function of the same values.
std::string values_digest(const std::string& values_json);

// Every release's latest record in the namespaces (empty: all), values digests as above.
core::Result<kube::HelmRecords> read_release_records(kube::Client& client, const std::vector<std::string>& namespaces = {});

}  // namespace helmgate::engine
