#pragma once
// SOPS decryption (issue 14), the room's entry: files encrypted by sops with age recipients, decrypted by
// helmgate itself (no sops or age process). Rooms: sops_crypto (OpenSSL primitives), sops_age (age v1),
// sops_tree (the walk over a document: which values are encrypted, AES-256-GCM with the key path as
// additional data, the MAC), this file (metadata, the data key, whole documents and files).
//
// A decrypted value is a secret: callers add `secrets` to Release::sensitive, so every output redacts
// it. Errors name the file, the key path and the recipients tried (public keys only), never a value.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "release/sops_age.hpp"

namespace helmgate::release::sops {

// The private keys helmgate may decrypt with (from the server configuration or, for the CLI, from
// SOPS_AGE_KEY / SOPS_AGE_KEY_FILE), and where they came from (names only, for error messages).
struct Keys {
  std::vector<AgeIdentity> age;
  std::vector<std::string> sources;
};

// Reads SOPS_AGE_KEY (identities in the value) and SOPS_AGE_KEY_FILE (a key file) as sops itself does;
// an unset variable adds nothing. error: a variable set to something that is not an age key file.
struct LoadedKeys {
  Keys keys;
  std::string error;
};
LoadedKeys keys_from_environment();

// True when a document carries SOPS metadata: a top-level `sops` map with a `mac`.
bool is_encrypted(const YAML::Node& doc);
// True when a text looks like a SOPS-encrypted YAML or JSON file (the marker kustomize-controller uses).
bool looks_encrypted(std::string_view text);

struct Decrypted {
  bool ok = false;
  YAML::Node doc;                     // the plaintext document, without its `sops` key
  std::vector<std::string> secrets;   // every decrypted value (for redaction)
  std::vector<std::string> paths;     // the key paths of the decrypted values ("data:password"), names only
  std::string error;                  // says what failed, in which file, what to do
};

// One document (a YAML document, or a JSON file read as YAML) with its `sops` metadata. Values keep the
// type sops recorded (int stays int, a str "1.10" stays a string).
Decrypted decrypt_document(const YAML::Node& doc, const Keys& keys, const std::string& file);

// A whole file's text (YAML, or JSON when json is true), as kustomize-controller decrypts a Secret data
// value that is itself a SOPS file: the plaintext file as text (YAML block style, or canonical JSON).
struct DecryptedText {
  bool ok = false;
  std::string text;
  std::vector<std::string> secrets;
  std::vector<std::string> paths;
  std::string error;
};
DecryptedText decrypt_text(std::string_view text, bool json, const Keys& keys, const std::string& file);

}  // namespace helmgate::release::sops
