#include "forge/router.hpp"

#include "core/redact.hpp"
#include "forge/kinds.hpp"

namespace helmgate::forge {

ForgeSettings settings_from_config(const config::Forge& forge) {
  ForgeSettings s;
  s.name = forge.name;
  s.kind = forge.kind;
  s.api_url = forge.api_url;
  s.token = forge.token;
  if (forge.github_app) {
    s.github_app = GitHubApp{forge.github_app->app_id, forge.github_app->private_key, forge.github_app->installation_id};
  }
  return s;
}

std::string identity_key(const ForgeSettings& s) {
  std::string who = s.github_app ? "app:" + s.github_app->app_id + ":" + std::to_string(s.github_app->installation_id)
                                 : "token:" + core::sha256_hex(s.token).substr(0, 16);
  return std::string(core::to_string(s.kind)) + "|" + s.api_url + "|" + who;
}

ForgeRouter::ForgeRouter(RouterOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = system_clock();
  if (!options_.http) options_.http = std::make_shared<http::Client>();
}

core::Result<void> ForgeRouter::add(ForgeSettings settings) {
  if (clients_.count(settings.name)) {
    return core::Error(core::errc::conflict, "forge '" + settings.name + "' is configured twice");
  }
  auto& limiter = limiters_[identity_key(settings)];
  if (!limiter) limiter = std::make_shared<WriteLimiter>(write_limits(settings.kind, options_.limits), options_.clock);
  ClientDeps deps{limiter, options_.clock, options_.http, options_.retry};
  std::string name = settings.name;
  auto client = make_client(std::move(settings), deps);
  if (!client) return client.error();
  clients_.emplace(std::move(name), std::move(*client));
  return {};
}

core::Result<void> ForgeRouter::add_all(const std::vector<config::Forge>& forges) {
  for (const auto& f : forges) {
    if (auto r = add(settings_from_config(f)); !r) return r;
  }
  return {};
}

core::Result<ForgeClient*> ForgeRouter::get(std::string_view name) const {
  auto it = clients_.find(name);
  if (it != clients_.end()) return it->second.get();
  std::string known;
  for (const auto& [n, c] : clients_) known += (known.empty() ? "" : ", ") + n;
  return core::Error(core::errc::not_found, "no forge named '" + std::string(name) + "' is configured (configured: " +
                                                (known.empty() ? std::string("none") : known) + ")");
}

std::vector<ForgeClient*> ForgeRouter::clients() const {
  std::vector<ForgeClient*> out;
  for (const auto& [n, c] : clients_) out.push_back(c.get());
  return out;
}

}  // namespace helmgate::forge
