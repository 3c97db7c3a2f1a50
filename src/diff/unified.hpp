#pragma once
// Line diffs (Myers) and per-resource comparison.
#include <string>
#include <string_view>
#include <vector>

#include "diff/normalize.hpp"

namespace helmgate::diff {

// A unified diff (with "---/+++" labels and @@ hunks); empty when the texts are equal.
std::string unified_diff(std::string_view a, std::string_view b, std::string_view label_a,
                         std::string_view label_b, int context = 3);

enum class Change { added, removed, changed };
std::string_view to_string(Change c);

struct ResourceDiff {
  std::string key;
  std::string group, kind, namespace_, name;
  Change change = Change::changed;
  std::string diff;  // unified diff, already redacted
};

// Resources of one release at base and head: only the ones that differ, ordered by key. The diff headers
// name the sides with the labels ("base/<key>", "head/<key>"; the live diff says "live").
std::vector<ResourceDiff> diff_resources(const std::vector<Resource>& base, const std::vector<Resource>& head,
                                         int context = 3, std::string_view base_label = "base",
                                         std::string_view head_label = "head");

}  // namespace helmgate::diff
