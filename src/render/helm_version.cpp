#include "render/helm_version.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "core/files.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"

namespace fs = std::filesystem;

namespace helmgate::render {

namespace {

constexpr const char* kFormat = "helmgate-helm-version-v1";

fs::path file_for(const std::string& dir, const std::string& identity) {
  return fs::path(dir) / ("helm-version-" + core::sha256_hex(identity).substr(0, 32));
}

}  // namespace

std::string helm_identity(const std::string& helm) {
  struct stat st {};
  if (helm.empty() || ::stat(helm.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return helm + "\n" + std::to_string(st.st_size) + "\n" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

bool plausible_helm_version(const std::string& v) {
  if (v.size() < 2 || v.size() > 64 || v[0] != 'v') return false;
  for (char c : v.substr(1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '+')) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> remembered_helm_version(const std::string& dir, const std::string& identity) {
  if (dir.empty() || identity.empty()) return std::nullopt;
  const fs::path p = file_for(dir, identity);
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0 || st.st_size > 4096) {
    spdlog::warn("helm version cache: ignoring {} (not a small private file of this user)", p.string());
    return std::nullopt;
  }
  std::string text = core::read_file(p.string(), 4096).value_or("");
  // format \n identity (3 lines) \n version \n
  const std::string prefix = std::string(kFormat) + "\n" + identity + "\n";
  if (text.rfind(prefix, 0) != 0 || text.empty() || text.back() != '\n') {
    spdlog::warn("helm version cache: ignoring {} (not this binary's entry, or truncated)", p.string());
    return std::nullopt;
  }
  std::string v = text.substr(prefix.size(), text.size() - prefix.size() - 1);
  if (!plausible_helm_version(v)) {
    spdlog::warn("helm version cache: ignoring {} (not a version)", p.string());
    return std::nullopt;
  }
  return v;
}

void remember_helm_version(const std::string& dir, const std::string& identity, const std::string& version) {
  if (dir.empty() || identity.empty() || !plausible_helm_version(version)) return;
  if (!core::ensure_private_dir(dir)) return;
  const fs::path p = file_for(dir, identity);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = fs::path(dir) / (".tmp-helm-version-" + std::to_string(rng()));
  std::error_code ec;
  if (core::write_private_file(tmp.string(), std::string(kFormat) + "\n" + identity + "\n" + version + "\n")) {
    fs::rename(tmp, p, ec);
  }
  if (ec || fs::exists(tmp, ec)) fs::remove(tmp, ec);
}

}  // namespace helmgate::render
