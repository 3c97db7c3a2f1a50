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
};

std::span<const ClientKind> client_kinds();

// The client for settings.kind; errc::invalid_config when the settings cannot make one (no token, ...)
// or when the kind has no client.
core::Result<std::unique_ptr<ForgeClient>> make_client(ForgeSettings settings, ClientDeps deps);

}  // namespace helmgate::forge
