#pragma once
// The forge-neutral event: every forge's webhook payload becomes one of these (Atlantis-style),
// so everything after the handler never looks at a forge's JSON again.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/forge_kind.hpp"

namespace helmgate::core {

enum class EventKind { ping, push, pull_request, comment, other };
std::string_view to_string(EventKind k);

struct RepoRef {
  std::string full_name;       // "owner/name"
  std::string clone_url;       // https clone URL as the forge reports it
  std::string html_url;
  std::string default_branch;
};

struct Event {
  ForgeKind forge = ForgeKind::github;
  std::string forge_name;   // the configured forge this webhook came to
  EventKind kind = EventKind::other;
  std::string raw_event;    // the event header's value as received (X-GitHub-Event, X-Gitea-Event, ...)
  std::string delivery_id;  // the delivery header's value (X-GitHub-Delivery, ...; may be empty)
  std::string action;       // normalized: opened, reopened, synchronize, closed, created, edited, ...
  RepoRef repo;
  std::string sender;

  // push
  std::string ref;     // "refs/heads/main"
  std::string before;  // sha
  std::string after;   // sha
  bool ref_deleted = false;

  // pull_request (also set for a comment on a PR: number only)
  int64_t pr_number = 0;
  std::string head_sha, head_ref, base_sha, base_ref;
  bool merged = false;
  std::string merge_commit_sha;

  // comment
  int64_t comment_id = 0;
  std::string comment_body;
  std::string comment_author;
  bool comment_on_pull = false;

  // "refs/heads/main" -> "main"; empty if ref is not a branch
  std::string branch() const;
};

}  // namespace helmgate::core
