#pragma once
// The forge router: every configured forge by name, each with its client. Clients of the same
// identity (same forge host and token, or same app installation) share one WriteLimiter, because
// GitHub counts its secondary limits per identity, not per repository or process thread.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "forge/forge.hpp"
#include "forge/settings.hpp"

namespace helmgate::forge {

struct RouterOptions {
  std::shared_ptr<Clock> clock;        // null: real time
  std::shared_ptr<http::Client> http;  // null: one shared by all clients
  RetryPolicy retry;
  LimiterOptions limits;
};

class ForgeRouter {
 public:
  explicit ForgeRouter(RouterOptions options = {});

  // Builds the forge's client. errc::conflict for a name already added; invalid_config when the
  // settings cannot make a client (no token, ...).
  core::Result<void> add(ForgeSettings settings);
  // Every forge of the configuration; tokens must already be resolved (config::resolve_secrets with forge_tokens).
  core::Result<void> add_all(const std::vector<config::Forge>& forges);

  // errc::not_found naming the configured forges when there is no such one.
  core::Result<ForgeClient*> get(std::string_view name) const;
  std::vector<ForgeClient*> clients() const;
  size_t limiter_count() const { return limiters_.size(); }

 private:
  RouterOptions options_;
  std::map<std::string, std::unique_ptr<ForgeClient>, std::less<>> clients_;
  std::map<std::string, std::shared_ptr<WriteLimiter>> limiters_;  // by identity key (a hash, never a token)
};

ForgeSettings settings_from_config(const config::Forge& forge);
// Stable key of the identity the settings authenticate as; contains no credential.
std::string identity_key(const ForgeSettings& settings);

}  // namespace helmgate::forge
