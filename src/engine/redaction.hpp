#pragma once
// The redactor of a job, the same for preview, apply and drift: every value a release took from a Secret
// and every value at a path the repository's configuration marks sensitive (config::Repo::sensitive_values).
#include <string>
#include <vector>

#include "diff/normalize.hpp"
#include "diff/report.hpp"
#include "release/release.hpp"

namespace helmgate::engine {

void add_release_secrets(diff::Redactor& redactor, const release::Release& r, const std::vector<std::string>& sensitive_paths);
// add_release_secrets for both sides of every affected release: the redactor of a change (preview, apply).
void add_affected_secrets(diff::Redactor& redactor, const std::vector<release::Affected>& affected,
                          const std::vector<std::string>& sensitive_paths);

// Every scalar at or below each dotted path ("auth.password"; "*" matches any one key, so "*.apiKey"
// finds apiKey one level down) in the values JSON. Values that do not parse yield nothing: the render
// reports that error itself.
std::vector<std::string> sensitive_values(const std::string& values_json, const std::vector<std::string>& paths);

// Scrubs every text of a report in place (diffs, errors, notes, reasons) with the redactor as it is once
// all releases are read: a value learnt late (a Secret rendered by a later release) is then gone from
// the report before it is formatted and split into comment parts, where a cut could halve it.
void scrub_report(diff::Report& report, const diff::Redactor& redactor);

}  // namespace helmgate::engine
