#pragma once
// Files that may hold rendered manifests, values or fetched content: owner-only, whatever the umask.
#include <string>
#include <string_view>

namespace helmgate::core {

// Creates `dir` and any missing parent, each new one with mode 0700, and sets `dir` itself to 0700
// (also when it existed, if it is ours and not sticky: a shared directory such as /tmp is never
// narrowed, and false is returned). Existing parents are left as they are. False on failure.
bool ensure_private_dir(const std::string& dir);

// Writes `data` to `path` (created or truncated) with mode 0600, set explicitly after open so that
// neither the umask nor an older, wider file changes it; the parent is created with ensure_private_dir.
// Refuses to follow a symbolic link at `path`.
bool write_private_file(const std::string& path, std::string_view data);

}  // namespace helmgate::core
