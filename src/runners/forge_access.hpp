#pragma once
// The forges every loop runner (preview, apply report, command) talks to: one router per process so all
// runners share each identity's write limiter.
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "forge/router.hpp"

namespace helmgate::runners {

struct ForgeAccess {
  std::shared_ptr<forge::ForgeRouter> router;
  std::string error;  // why there is no router (a forge without a token, ...)
  core::Result<forge::ForgeClient*> client(std::string_view forge_name) const;
};
// Built from the configuration's forges (tokens already resolved into cfg.forges[].token).
ForgeAccess make_forge_access(const config::Config& cfg);

}  // namespace helmgate::runners
