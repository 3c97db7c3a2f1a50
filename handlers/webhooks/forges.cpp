#include "handlers/webhooks/forges.hpp"

#include "handlers/webhooks/payload.hpp"

namespace helmgate::handlers {

std::span<const WebhookForge> webhook_forges() {
  static const std::vector<WebhookForge> table = {webhooks::github_webhook(), webhooks::gitea_webhook()};
  return table;
}

const WebhookForge* webhook_forge(core::ForgeKind kind) {
  for (const auto& f : webhook_forges()) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

std::string first_header(const HeaderLookup& header, const std::vector<std::string_view>& names) {
  for (auto name : names) {
    std::string v = header(name);
    if (!v.empty()) return v;
  }
  return {};
}

}  // namespace helmgate::handlers
