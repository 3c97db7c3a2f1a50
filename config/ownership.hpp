#pragma once
// Ownership: which team owns which paths of a repository, where its releases may go and whom they act as.
// Declared in the server configuration (repos[].ownership) and/or in a file on the deploy branch
// (repos[].owners_file, default .helmgate/owners.yaml; never read from a pull request's head), same schema:
//
//   ownership:
//     - paths: ["clusters/*/team-a/**"]           # globs: * within a path segment, ** any segments, ?
//       team: {users: [alice], teams: [acme/team-a]}  # forge logins and forge teams (org/team)
//       clusters: [dev, staging]                  # where its releases may go; absent: any cluster
//       namespaces: [team-a]                      # the HelmRelease's and the target namespace; absent: any
//       identity: {user: "system:serviceaccount:team-a:deployer", groups: []}  # who its releases act as
//
// The entries of the file come first, the configuration's after them; the last entry whose globs match a
// path owns it (as in CODEOWNERS), so the configuration has the last word.
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace helmgate::config {

struct OwnershipEntry {
  std::vector<std::string> paths;  // globs over repository paths
  std::vector<std::string> users;  // forge logins of the team
  std::vector<std::string> teams;  // forge teams, "org/team"
  std::vector<std::string> clusters;    // empty: any
  std::vector<std::string> namespaces;  // empty: any
  std::string identity_user;            // empty: the release's own (Flux's serviceAccountName) or none
  std::vector<std::string> identity_groups;
  std::string where;  // "<file>:<line>" of the entry, for messages
  std::string team_name() const;  // "alice, acme/team-a" (not escaped)
};

// Whether path matches glob: '*' any characters but '/', '?' one of them, '**' as a whole segment any number
// of segments; a glob without wildcards also matches everything below it (a directory).
bool path_glob_match(std::string_view glob, std::string_view path);

// The entry owning path (the last that matches); nullptr when none does.
const OwnershipEntry* owner_of(const std::vector<OwnershipEntry>& entries, std::string_view path);

// The owners file's text (YAML, a mapping with the key `ownership`): errc::invalid_config with
// "<source>:<line>:<col>: <key path>: <reason>" when it breaks the schema.
core::Result<std::vector<OwnershipEntry>> parse_owners_file(std::string_view text, const std::string& source);

namespace detail {
class Reader;
// A list of ownership entries at key path p (throws ConfigError at the failing node, like every reader).
void read_ownership(const Reader& r, const YAML::Node& list, const std::string& p, std::vector<OwnershipEntry>& out);
}  // namespace detail

}  // namespace helmgate::config
