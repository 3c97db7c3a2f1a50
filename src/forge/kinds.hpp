#pragma once
// The client side of the forge-kind table (core/forge_kind.hpp): one factory per kind. A new forge adds
// its client class (src/forge/<kind>/) and one entry in kinds.cpp.
#include <memory>
#include <span>

#include "core/error.hpp"
#include "core/forge_kind.hpp"
#include "forge/forge.hpp"
#include "forge/settings.hpp"

namespace helmgate::forge {

using ClientFactory = core::Result<std::unique_ptr<ForgeClient>> (*)(ForgeSettings settings, ClientDeps deps);

struct ClientKind {
  core::ForgeKind kind;
  ClientFactory create;
  // The forge limits content-creating requests per identity (GitHub's secondary limits: 80 a minute),
  // so the identity's WriteLimiter keeps a sliding window; otherwise only the concurrency cap.
  bool write_rate_limited;
};

std::span<const ClientKind> client_kinds();

// The limiter options for an identity on a forge of this kind (base: the configured ones).
LimiterOptions write_limits(core::ForgeKind kind, LimiterOptions base = {});

// The client for settings.kind; errc::invalid_config when the settings cannot make one (no token, ...)
// or when the kind has no client.
core::Result<std::unique_ptr<ForgeClient>> make_client(ForgeSettings settings, ClientDeps deps);

}  // namespace helmgate::forge
