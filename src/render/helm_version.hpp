#pragma once
// The helm version remembered on disk, so a process start does not run `helm version`: keyed by the helm
// binary's path, size and modification time (another binary, or the same path replaced, is asked again).
// The file is owner-only, written atomically, and read strictly (a version string of a known shape only).
#include <optional>
#include <string>

namespace helmgate::render {

// What identifies the binary ("path\nsize\nmtime"); "" when it cannot be examined (nothing is remembered).
std::string helm_identity(const std::string& helm);

// The version remembered for `identity` under dir; nullopt when there is none, or it is not ours.
std::optional<std::string> remembered_helm_version(const std::string& dir, const std::string& identity);
void remember_helm_version(const std::string& dir, const std::string& identity, const std::string& version);

// "v4.1.4", "v3.18.0-rc.1+abc": what a remembered version may look like.
bool plausible_helm_version(const std::string& v);

}  // namespace helmgate::render
