#include "kube/impersonation.hpp"

#include "core/names.hpp"

namespace helmgate::kube {

std::string Impersonation::describe() const {
  if (user.empty()) return {};
  std::string out = "user " + user;
  for (size_t i = 0; i < groups.size(); ++i) out += (i == 0 ? " with groups " : ", ") + groups[i];
  return out;
}

std::string Impersonation::problem() const {
  namespace n = core::names;
  if (user.empty()) return groups.empty() ? std::string() : "groups to impersonate need a user to impersonate";
  if (auto why = n::impersonation_user(user); !why.empty()) return "user " + n::shown(user) + " " + why;
  for (const auto& g : groups) {
    if (auto why = n::impersonation_group(g); !why.empty()) return "group " + n::shown(g) + " " + why;
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> Impersonation::headers() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (user.empty()) return out;
  out.emplace_back("Impersonate-User", user);
  for (const auto& g : groups) out.emplace_back("Impersonate-Group", g);
  return out;
}

Impersonation service_account(const std::string& helmrelease_namespace, const std::string& name) {
  if (name.empty()) return {};
  return {core::names::service_account_user(helmrelease_namespace, name), {}};
}

}  // namespace helmgate::kube
