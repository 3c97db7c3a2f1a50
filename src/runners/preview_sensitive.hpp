#pragma once
// Values a repository's configuration marks sensitive (config::Repo::sensitive_values): found in a
// release's merged values so the redactor scrubs them like Secret data.
#include <string>
#include <vector>

namespace helmgate::runners {

// Every scalar at or below each dotted path ("auth.password"; "*" matches any one key, so "*.apiKey"
// finds apiKey one level down) in the values YAML. Values that do not parse yield nothing: the render
// reports that error itself.
std::vector<std::string> preview_sensitive_values(const std::string& values_json, const std::vector<std::string>& paths);

}  // namespace helmgate::runners
