#pragma once
// The age keys a job decrypts SOPS files with: the repository's sops.age_keys (config/sops: each an
// environment variable or a file, read now, so a rotated key is used by the next job), plus, for the CLI
// (`helmgate preview`, `helmgate drift`), SOPS_AGE_KEY and SOPS_AGE_KEY_FILE as sops reads them. The
// server never reads those two.
#include <memory>

#include "config/config.hpp"
#include "release/sops.hpp"

namespace helmgate::engine {

// Called once by the CLI commands: from then on sops_keys() adds SOPS_AGE_KEY / SOPS_AGE_KEY_FILE.
void use_sops_environment(bool on);

// Never fails: a key that cannot be read or parsed leaves Keys::age without it and puts the reason
// (naming the configuration key and the variable or file, never a key) in the sources, so a file that
// then cannot be decrypted says why. Null when nothing is configured and the environment adds nothing.
std::shared_ptr<const release::sops::Keys> sops_keys(const config::SopsSettings& settings);

}  // namespace helmgate::engine
