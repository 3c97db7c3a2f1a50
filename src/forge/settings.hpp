#pragma once
// How one configured forge is reached, and the shared pieces (limiter, clock, HTTP client) its
// clients are built with. Credentials here are never printed.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/event.hpp"
#include "forge/pacing.hpp"
#include "http/client.hpp"

namespace helmgate::forge {

// A GitHub App installation: the client signs a JWT with the app's key and trades it for an
// installation access token (valid one hour), renewed before it runs out.
struct GitHubApp {
  std::string app_id;           // or the app's client id: both are accepted as the JWT issuer
  std::string private_key_pem;  // the app's RSA private key
  int64_t installation_id = 0;
};

struct ForgeSettings {
  std::string name;  // the configured forge name
  core::ForgeKind kind = core::ForgeKind::github;
  std::string api_url;  // GitHub: https://api.github.com (or GHES .../api/v3); Gitea: https://host (the /api/v1 is added)
  std::string token;    // GitHub PAT or Gitea access token; empty with github_app
  std::optional<GitHubApp> github_app;
};

struct ClientDeps {
  std::shared_ptr<WriteLimiter> limiter;  // null: one of its own
  std::shared_ptr<Clock> clock;           // null: real time
  std::shared_ptr<http::Client> http;     // null: one of its own
  RetryPolicy retry;
};

}  // namespace helmgate::forge
