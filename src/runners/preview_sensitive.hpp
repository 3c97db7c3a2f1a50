#pragma once
// Values a repository's configuration marks sensitive (config::Repo::sensitive_values): found in a
// release's merged values so the redactor scrubs them like Secret data.
#include <string>
#include <vector>

#include "diff/normalize.hpp"
#include "diff/report.hpp"

namespace helmgate::runners {

// Every scalar at or below each dotted path ("auth.password"; "*" matches any one key, so "*.apiKey"
// finds apiKey one level down) in the values YAML. Values that do not parse yield nothing: the render
// reports that error itself.
std::vector<std::string> preview_sensitive_values(const std::string& values_json, const std::vector<std::string>& paths);

// Scrubs every text of a report in place (diffs, errors, notes, reasons) with the redactor as it is once
// all releases are read: a value learnt late (a Secret rendered by a later release) is then gone from
// the report before it is formatted and split into comment parts, where a cut could halve it.
void scrub_report(diff::Report& report, const diff::Redactor& redactor);

}  // namespace helmgate::runners
