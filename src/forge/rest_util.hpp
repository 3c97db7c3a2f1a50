#pragma once
// JSON helpers the GitHub and Gitea clients share: their REST shapes for comments, statuses and
// pull requests are close enough to read with the same code.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "forge/forge.hpp"

namespace helmgate::forge::rest {

// Percent-encodes one path segment (owners, names, users, refs may hold characters a path cannot).
std::string segment(std::string_view s);
std::string repo_path(const RepoRef& repo);  // "/repos/<owner>/<name>"

// Parses an answer that must be JSON; errc::unavailable naming what when it is not.
core::Result<core::json::Document> parse_json(const std::string& body, const std::string& what);

Comment read_comment(const core::json::Value& v);
PullRequest read_pull(const core::json::Value& v);
Review read_review(const core::json::Value& v);
std::optional<CommitState> parse_state(std::string_view s);

std::string comment_body_json(const std::string& body);
std::string status_json(const CommitStatus& s, size_t description_limit);
std::string reaction_json(Reaction r);

}  // namespace helmgate::forge::rest
