#pragma once
// SOPS decryption, room (b): age (C2SP age v1), decryption only, X25519 recipients only (what sops writes
// for `age:` recipients). Identities are `AGE-SECRET-KEY-1...` (Bech32); files are binary or armored
// (`-----BEGIN AGE ENCRYPTED FILE-----`, as sops stores the data key in each `enc`).
#include <string>
#include <string_view>
#include <vector>

#include "release/sops_crypto.hpp"

namespace helmgate::release::sops {

struct AgeIdentity {
  crypto::Key32 secret{};
  std::string recipient;  // its public key, age1...
};

// One identity. The error never quotes the text (it is a private key).
struct AgeIdentityResult {
  bool ok = false;
  AgeIdentity identity;
  std::string error;
};
AgeIdentityResult parse_age_identity(std::string_view text);

// A key file as age-keygen writes it (and SOPS_AGE_KEY holds): one identity per line, `#` comments and
// blank lines ignored. `where` names the source in errors (a variable or a file, never its content).
struct AgeIdentities {
  bool ok = false;
  std::vector<AgeIdentity> identities;
  std::string error;
};
AgeIdentities parse_age_identities(std::string_view text, const std::string& where);

// A Bech32 recipient `age1...` → its 32-byte X25519 public key; false when it is not one.
bool parse_age_recipient(std::string_view text, crypto::Key32& out);

struct AgeDecrypted {
  enum class Status { ok, malformed, no_identity, header_mac, payload } status = Status::malformed;
  std::string plaintext;
  std::string error;  // what failed (never key material)
};

// Decrypts an age file (armored or binary) with the first identity that opens one of its X25519 stanzas.
AgeDecrypted age_decrypt(std::string_view file, const std::vector<AgeIdentity>& identities);

}  // namespace helmgate::release::sops
