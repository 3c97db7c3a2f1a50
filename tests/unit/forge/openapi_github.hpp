#pragma once
// A local stand-in for api.github.com built from GitHub's published OpenAPI description: every route of
// the description is served, each request is checked (path + method exist, query parameters declared,
// required body fields present with the declared type and enum, no body where none is taken), and the
// answer is the description's own example, with ids, bodies and states filled from a small in-memory
// store so that comment upserts, statuses, pull requests and reviews behave. A PAT and the app's
// installation tokens both act as "helmgate[bot]" (the app's slug is "helmgate"). Requests the description does not know answer
// 404/405 and are recorded as non-conforming.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "forge/pacing.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

namespace helmgate::test {

// Path of api.github.com.json from the pinned @octokit/openapi (scripts/lib/common.sh:
// ensure_github_openapi). Throws naming scripts/bootstrap when it is missing.
std::string github_openapi_path();

class OpenApiGitHub {
 public:
  struct Options {
    std::shared_ptr<forge::Clock> clock;  // time stamps of requests, token expiry
    std::string pat;                      // accepted as "Bearer <pat>"
    std::string app_id;                   // JWT issuer expected at /app/installations/{id}/access_tokens
    std::string app_public_key_pem;       // verifies the JWT's RS256 signature
  };
  explicit OpenApiGitHub(Options options);
  ~OpenApiGitHub();

  std::string url() const;

  struct Seen {
    std::string method;
    std::string target;
    std::string operation_id;  // "" when the description has no such operation
    std::string problem;       // "" when the request conforms
    double at = 0;             // seconds on the clock
  };
  std::vector<Seen> seen() const;
  size_t count(const std::string& operation_id) const;
  std::vector<std::string> problems() const;  // every non-conforming request, described

  // The next n requests (any operation) get this answer instead, after being checked.
  void fail_next(unsigned status, http::Headers headers, std::string body, int n = 1);
  // Answer of the collaborator-permission operation for a user ("" → 404 Not Found).
  void set_permission(const std::string& user, const std::string& permission);
  int jwt_verified() const;
  // A comment written by someone else (author's login), as if posted through the web UI.
  int64_t add_comment(int64_t issue, const std::string& body, const std::string& author);
  std::string comment_body(int64_t id) const;  // "" when deleted
  // pulls/get answers for this PR (open, unmerged) with this head; list-reviews with these reviews.
  void set_pull(int64_t number, const std::string& head_sha, bool mergeable = true);
  void add_review(int64_t pr, const std::string& user, const std::string& commit_id, const std::string& state);
  std::vector<std::string> issued_tokens() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  std::unique_ptr<http::Server> server_;
  std::thread runner_;
};

}  // namespace helmgate::test
