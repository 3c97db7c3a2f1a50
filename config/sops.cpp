#include "config/sops.hpp"

namespace helmgate::config::detail {

void read_sops(const Reader& r, const YAML::Node& n, const std::string& p, SopsSettings& s) {
  r.expect_map(n, p, {"age_keys"});
  s.age_keys.clear();
  YAML::Node keys = n["age_keys"];
  if (!keys) return;
  if (!keys.IsSequence()) r.fail(keys, p + ".age_keys", "must be a list of {env: VARIABLE} or {file: PATH}");
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string kp = p + ".age_keys[" + std::to_string(i) + "]";
    const YAML::Node& k = keys[i];
    if (!k.IsMap()) {
      r.fail(k, kp, "must be {env: VARIABLE} or {file: PATH}; an age key never goes in the configuration itself");
    }
    r.expect_map(k, kp, {"env", "file"});
    SopsKeyRef ref;
    ref.env = r.str(k, kp, "env", "");
    ref.file = r.str(k, kp, "file", "");
    ref.where = kp;
    if (ref.env.empty() == ref.file.empty()) {
      r.fail(k, kp, "give exactly one of env (a variable holding an age key file's text) or file (a path)");
    }
    if (!ref.env.empty() && !valid_env_name(ref.env)) r.fail(k["env"], kp + ".env", "must be an environment variable name");
    if (!ref.file.empty() && ref.file.front() != '/') r.fail(k["file"], kp + ".file", "must be an absolute path");
    if (ref.env.rfind("AGE-SECRET-KEY-", 0) == 0 || ref.file.rfind("AGE-SECRET-KEY-", 0) == 0) {
      r.fail(k, kp, "holds an age key itself; put it in an environment variable or a file and name that here");
    }
    s.age_keys.push_back(std::move(ref));
  }
}

}  // namespace helmgate::config::detail
