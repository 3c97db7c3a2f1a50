#include "forge/kinds.hpp"

#include <array>

#include "forge/gitea/gitea_client.hpp"
#include "forge/github/github_client.hpp"

namespace helmgate::forge {
namespace {

// Client::create returns its own type; the table holds the base type.
template <typename Client>
core::Result<std::unique_ptr<ForgeClient>> create(ForgeSettings settings, ClientDeps deps) {
  auto c = Client::create(std::move(settings), std::move(deps));
  if (!c) return c.error();
  return std::unique_ptr<ForgeClient>(std::move(*c));
}

constexpr std::array<ClientKind, 2> kClients = {{
    {core::ForgeKind::github, create<github::GitHubClient>, true},
    {core::ForgeKind::gitea, create<gitea::GiteaClient>, false},  // Gitea has no per-identity write limit
}};

}  // namespace

std::span<const ClientKind> client_kinds() { return kClients; }

LimiterOptions write_limits(core::ForgeKind kind, LimiterOptions base) {
  for (const auto& k : kClients) {
    if (k.kind == kind) base.windowed = base.windowed && k.write_rate_limited;
  }
  return base;
}

core::Result<std::unique_ptr<ForgeClient>> make_client(ForgeSettings settings, ClientDeps deps) {
  for (const auto& k : kClients) {
    if (k.kind == settings.kind) return k.create(std::move(settings), std::move(deps));
  }
  return core::Error(core::errc::invalid_config, "forge '" + settings.name + "': helmgate has no client for kind " +
                                                     std::string(core::to_string(settings.kind)));
}

}  // namespace helmgate::forge
