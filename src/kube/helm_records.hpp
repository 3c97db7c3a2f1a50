#pragma once
// Helm's own record of its releases, read straight from the cluster without a helm process. Helm 3
// keeps one Secret per revision (type helm.sh/release.v1, labels owner=helm, name, version, status);
// its data.release is base64 (Helm's) of the gzipped JSON release, inside the Secret's own base64.
// The record holds the chart, the rendered manifest and the user-supplied values (`config`) in clear:
// nothing of it leaves this file but names, versions, status, times and a digest of the values.
// Decompression is bounded (a crafted Secret cannot make us allocate more than the limit), and a record
// that cannot be read is an error naming its Secret, never a crash.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "kube/client.hpp"

namespace helmgate::kube {

struct HelmRecord {
  std::string name;
  std::string namespace_;
  int64_t revision = 0;         // the latest revision on the cluster
  std::string status;           // helm's: deployed, failed, pending-install, pending-upgrade, pending-rollback,
                                // superseded, uninstalling, uninstalled, unknown
  std::string chart_name;
  std::string chart_version;
  std::string app_version;
  std::string values_digest;    // of `config`, see RecordOptions::values_digest
  std::string first_deployed;   // RFC 3339, as helm wrote it
  std::string last_deployed;
  std::string description;      // helm's info.description ("Install complete", or why it failed), at most 512 bytes
  std::string apply_method;     // helm 4's "ssa" or "csa" (how it applied the revision); "" in helm 3's records
  std::string secret;           // the Secret holding the latest revision (sh.helm.release.v1.<name>.v<n>)
  int64_t revisions_kept = 0;   // how many revision Secrets the cluster keeps for it
  std::string error;            // set when the latest record could not be read (then only the labels' facts)
};

struct DecodeLimits {
  size_t max_encoded_bytes = 8u << 20;       // the Secret's value (the API server caps objects near 1.5 MiB)
  size_t max_decompressed_bytes = 32u << 20;  // the release JSON after gunzip
  unsigned max_values_depth = 256;           // nesting of `config`
};

// Digest of the user-supplied values; config is nullptr when the release has none. The default is the
// SHA-256 of the compact JSON as parsed (engine/release_records.hpp supplies apply's canonical one).
using ValuesDigest = std::function<std::string(const core::json::Value* config)>;

struct RecordOptions {
  std::vector<std::string> namespaces;  // empty: every namespace (one list call)
  DecodeLimits limits;
  ValuesDigest values_digest;
  // Records are large (chart files and manifest, up to the API server's ~1.5 MiB per object): 40 a page
  // stays under the client's 64 MiB answer bound whatever their size.
  size_t page_size = 40;
};

struct RecordError {
  std::string namespace_;
  std::string secret;
  std::string message;
};

struct HelmRecords {
  std::vector<HelmRecord> releases;  // sorted by namespace, then name
  std::vector<RecordError> errors;   // records that could not be read (their release is still listed)
};

// data.release as the API returns it (the Kubernetes base64) -> the release JSON. `where` names the
// Secret in errors ("Secret team-a/sh.helm.release.v1.podinfo.v3").
core::Result<std::string> decode_release_data(std::string_view data_release, const std::string& where,
                                              const DecodeLimits& limits = {});
// The release JSON -> the record's facts (revision, status, chart, times, values digest).
core::Result<HelmRecord> parse_release_json(std::string_view json, const std::string& where, const DecodeLimits& limits,
                                            const ValuesDigest& values_digest);

// Lists helm's Secrets (type helm.sh/release.v1, owner=helm) page by page, keeps the latest revision of
// every release and decodes only that one. A failure to list (unreachable, forbidden) is the error; a
// record that cannot be decoded is in `errors` and its release listed with `error` set.
core::Result<HelmRecords> read_helm_records(Client& client, const RecordOptions& options = {});

// {"name","namespace","revision","status","chart","chart_version","app_version","values_digest","first_deployed",
//  "last_deployed","description","secret","revisions_kept","error"?}; HelmRecords: {"releases":[..],"errors":[{"namespace","secret","message"}]}
std::string to_json(const HelmRecord& r);
std::string to_json(const HelmRecords& r);
void write_json(core::json::Writer& w, const HelmRecord& r);

}  // namespace helmgate::kube
