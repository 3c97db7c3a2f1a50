#include "engine/sops_keys.hpp"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>

#include "core/files.hpp"

namespace helmgate::engine {

namespace {

std::atomic<bool> g_environment{false};
constexpr size_t kMaxKeyFile = 1u << 20;

}  // namespace

void use_sops_environment(bool on) { g_environment = on; }

std::shared_ptr<const release::sops::Keys> sops_keys(const config::SopsSettings& settings) {
  auto keys = std::make_shared<release::sops::Keys>();
  auto add = [&](const std::string& text, const std::string& label) {
    auto ids = release::sops::parse_age_identities(text, label);
    if (!ids.ok) {
      keys->sources.push_back(ids.error);
      return;
    }
    keys->age.insert(keys->age.end(), ids.identities.begin(), ids.identities.end());
    keys->sources.push_back(label);
  };
  for (const auto& ref : settings.age_keys) {
    if (!ref.env.empty()) {
      const char* v = std::getenv(ref.env.c_str());
      if (v == nullptr || *v == '\0') {
        keys->sources.push_back(ref.where + ": environment variable " + ref.env + " is not set");
        continue;
      }
      add(v, ref.where + " (environment variable " + ref.env + ")");
      continue;
    }
    struct stat st {};
    if (::stat(ref.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      keys->sources.push_back(ref.where + ": " + ref.file + " does not exist or is not a file");
      continue;
    }
    if ((st.st_mode & 0077) != 0) {
      keys->sources.push_back(ref.where + ": " + ref.file + " is readable by others than its owner (chmod 600 it)");
      continue;
    }
    std::string text = core::read_file(ref.file, kMaxKeyFile).value_or("");
    if (text.empty()) {
      keys->sources.push_back(ref.where + ": " + ref.file + " cannot be read or is empty");
      continue;
    }
    add(text, ref.where + " (" + ref.file + ")");
    release::sops::crypto::wipe(text);
  }
  if (g_environment) {
    auto env = release::sops::keys_from_environment();
    if (!env.error.empty()) keys->sources.push_back(env.error);
    keys->age.insert(keys->age.end(), env.keys.age.begin(), env.keys.age.end());
    keys->sources.insert(keys->sources.end(), env.keys.sources.begin(), env.keys.sources.end());
  }
  if (keys->age.empty() && keys->sources.empty()) return nullptr;
  return keys;
}

}  // namespace helmgate::engine
