#pragma once
// One client interface for every Git forge (GitHub, Gitea): the preview comment upserted by a hidden
// marker, commit statuses, the PR of a merge commit, a PR's head/mergeable/reviews, a user's
// permission, who we are, reactions. Runners never speak HTTP to a forge themselves: every call goes
// through a client (its transport: auth, retries, the write limiter). Implementations
// live in github/ and gitea/; ForgeRouter (router.hpp) picks one by the configured forge name.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/event.hpp"
#include "forge/pacing.hpp"

namespace helmgate::forge {

struct RepoRef {
  std::string owner;
  std::string name;
  std::string full_name() const { return owner + "/" + name; }
  // "owner/name"; errc::bad_request otherwise.
  static core::Result<RepoRef> parse(std::string_view full_name);
};

struct Comment {
  int64_t id = 0;
  std::string body;
  std::string author;  // login
};

enum class CommitState { pending, success, failure, error };
std::string_view to_string(CommitState s);

struct CommitStatus {
  std::string context;      // "helmgate/<cluster>"
  CommitState state = CommitState::pending;
  std::string description;  // one line; cut to the forge's limit (GitHub: 140 characters)
  std::string target_url;   // link to the job
};

enum class Permission { none, read, write, admin };
std::string_view to_string(Permission p);

enum class Reaction { plus_one, minus_one, laugh, confused, heart, hooray, rocket, eyes };
std::string_view to_string(Reaction r);  // the API's content value: "+1", "eyes", ...

struct PullRequest {
  int64_t number = 0;
  std::string state;  // open | closed
  bool merged = false;
  std::string head_sha;
  std::string base_ref;
  std::string merge_commit_sha;
  std::string html_url;
  std::string author;              // login of who opened it
  std::optional<bool> mergeable;   // nullopt while the forge is still computing it
};

enum class ReviewState { approved, changes_requested, commented, dismissed, pending, other };
std::string_view to_string(ReviewState s);
// GitHub: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING; Gitea: APPROVED,
// REQUEST_CHANGES, COMMENT, PENDING, REQUEST_REVIEW.
ReviewState parse_review_state(std::string_view s);

struct Review {
  int64_t id = 0;
  std::string user;       // reviewer login
  std::string commit_id;  // the head the review was given to ("" when the forge no longer knows it)
  ReviewState state = ReviewState::other;
  bool dismissed = false;  // Gitea keeps the state and sets this flag
  bool stale = false;      // Gitea: a newer push came after the review
};

// What `/helmgate apply` decides on, read in one go.
struct PullRequestState {
  PullRequest pr;               // head_sha, state, mergeable, author
  std::vector<Review> reviews;  // oldest first
};

struct UpsertResult {
  std::vector<int64_t> comment_ids;  // part 1..M, in order
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int deleted = 0;
};

// The hidden marker heading every part: "<!-- helmgate:preview:<key> part N/M -->".
std::string part_marker(std::string_view key, size_t n, size_t m);
// The part number when body carries key's marker; nullopt otherwise (other keys, other comments).
std::optional<size_t> parse_part_marker(std::string_view body, std::string_view key);
// Room every part must leave for its marker line.
constexpr size_t kMarkerReserve = 200;

// What upsert_comment does given the comments already on the PR: edit in place, create what is
// missing, delete surplus parts and duplicates. A pure function so the plan can be tested on its own.
// Only comments written by self (the login we post as) are considered: a look-alike marker in
// anybody else's comment is neither edited nor deleted. An empty self matches no comment.
struct UpsertPlan {
  struct Edit {
    size_t part;  // 1-based
    int64_t comment_id;
  };
  std::vector<Edit> keep;      // already identical
  std::vector<Edit> edit;
  std::vector<size_t> create;  // part numbers
  std::vector<int64_t> remove;
};
UpsertPlan plan_upsert(const std::vector<Comment>& existing, std::string_view key, const std::vector<std::string>& bodies,
                       std::string_view self);

class ForgeClient {
 public:
  virtual ~ForgeClient() = default;

  virtual const std::string& name() const = 0;  // the configured forge name
  virtual core::ForgeKind kind() const = 0;
  // Maximum comment body the forge accepts, in bytes (conservative for characters).
  virtual size_t comment_limit() const = 0;
  // Largest part a caller may pass to upsert_comment (the marker line is added to each).
  size_t part_limit() const { return comment_limit() - kMarkerReserve; }

  // The preview comment of a PR identified by marker_key ("preview" for one per PR, "preview/<cluster>"
  // for one per PR and cluster): parts already split by the caller (each ≤ part_limit()) become
  // comments 1..M, edited in place, created when missing; parts beyond M and duplicates left by an
  // interrupted earlier run are deleted. Empty parts deletes every part. Idempotent. Only comments
  // written by self_login() are ever edited or deleted: anybody can copy the marker into a comment.
  core::Result<UpsertResult> upsert_comment(const RepoRef& repo, int64_t pr, std::string_view marker_key,
                                            std::vector<std::string> parts);

  virtual core::Result<std::vector<Comment>> list_comments(const RepoRef& repo, int64_t pr) = 0;
  virtual core::Result<Comment> create_comment(const RepoRef& repo, int64_t pr, const std::string& body) = 0;
  virtual core::Result<void> edit_comment(const RepoRef& repo, int64_t comment_id, const std::string& body) = 0;
  virtual core::Result<void> delete_comment(const RepoRef& repo, int64_t comment_id) = 0;

  virtual core::Result<void> set_status(const RepoRef& repo, std::string_view sha, const CommitStatus& status) = 0;
  // The latest status per context.
  virtual core::Result<std::vector<CommitStatus>> statuses(const RepoRef& repo, std::string_view sha) = 0;

  // The pull request a commit was merged by (or belongs to); nullopt when there is none.
  virtual core::Result<std::optional<PullRequest>> pull_request_for_commit(const RepoRef& repo, std::string_view sha) = 0;
  // none for users that are not collaborators (or do not exist).
  virtual core::Result<Permission> user_permission(const RepoRef& repo, std::string_view user) = 0;
  virtual core::Result<void> react(const RepoRef& repo, int64_t comment_id, Reaction reaction) = 0;

  // One pull request with mergeable and head; errc::not_found when there is no such PR.
  virtual core::Result<PullRequest> pull_request(const RepoRef& repo, int64_t pr) = 0;
  // Every review of the PR (submitted ones; all pages), oldest first.
  virtual core::Result<std::vector<Review>> reviews(const RepoRef& repo, int64_t pr) = 0;
  // pull_request and reviews together.
  core::Result<PullRequestState> pull_request_state(const RepoRef& repo, int64_t pr);
  // Whether login is an (active) member of the forge team org/team (ownership's team.teams); false when the
  // team or the user does not exist. The default answers errc::invalid_config (a forge without teams).
  virtual core::Result<bool> team_member(std::string_view org, std::string_view team, std::string_view login);

  // The login this client posts as (GET /user; for a GitHub App "<app slug>[bot]"), asked once and
  // then cached. upsert_comment only ever touches comments by this login.
  virtual core::Result<std::string> self_login() = 0;

  // The rate limit the forge last reported for this identity (unknown until a response carried it).
  virtual RateLimitSnapshot rate_limit() const = 0;
};

// One line of at most max bytes (cut on a UTF-8 boundary, "…" when cut).
std::string one_line(std::string_view text, size_t max);
// Logins compare case-insensitively on GitHub and Gitea.
bool same_login(std::string_view a, std::string_view b);

}  // namespace helmgate::forge
