#include "runners/forge_access.hpp"

namespace helmgate::runners {

core::Result<forge::ForgeClient*> ForgeAccess::client(std::string_view forge_name) const {
  if (!router) return core::Error(core::errc::invalid_config, "forges: " + error);
  return router->get(forge_name);
}

ForgeAccess make_forge_access(const config::Config& cfg) {
  ForgeAccess access;
  auto router = std::make_shared<forge::ForgeRouter>();
  if (auto added = router->add_all(cfg.forges); !added) {
    // No router at all rather than a partial one: a job for a forge that did load would work while
    // another silently would not; every loop job instead fails with this reason.
    access.error = added.error().message + " (set the forge's token_env variable for the worker)";
    return access;
  }
  access.router = std::move(router);
  return access;
}

}  // namespace helmgate::runners
