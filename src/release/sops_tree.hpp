#pragma once
// SOPS decryption, room (c): the walk over one document as sops walks its tree. Which values are
// encrypted (unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex over the key path),
// each value's AES-256-GCM decryption with the path ("a:b:") as additional data, its type
// (str|int|float|bool|bytes|time|comment), and the SHA-512 MAC over the plaintext values in order.
#include <yaml-cpp/yaml.h>

#include <regex>
#include <optional>
#include <string>
#include <vector>

namespace helmgate::release::sops {

struct Rules {
  std::string unencrypted_suffix = "_unencrypted";  // sops's default when the metadata names none
  std::string encrypted_suffix;
  std::optional<std::regex> unencrypted_regex, encrypted_regex;
  bool mac_only_encrypted = false;
};

struct Walked {
  bool ok = false;
  YAML::Node doc;  // a deep copy with every encrypted value replaced by its typed plaintext
  std::string mac;  // the MAC sops computes over it (hex, upper case)
  std::vector<std::string> secrets, paths;
  std::string error;  // names the key path, never a value
};

// doc without its `sops` key; data_key is 32 bytes.
Walked walk_document(const YAML::Node& doc, const Rules& rules, const std::string& data_key);

// One ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value with its additional data.
struct Value {
  bool ok = false;
  std::string plaintext;
  std::string type;
  std::string error;
};
Value decrypt_value(const std::string& enc, const std::string& data_key, const std::string& aad);

// sops's ToBytes for a plain (untagged) YAML scalar as go-yaml v3 resolves it: strings as they are, ints
// as strconv.Itoa, floats as FormatFloat('f', -1), booleans "True"/"False"; nullopt for null.
std::optional<std::string> mac_bytes_plain(const std::string& scalar);

}  // namespace helmgate::release::sops
