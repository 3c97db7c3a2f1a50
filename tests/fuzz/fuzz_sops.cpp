// libFuzzer target over SOPS decryption (src/release/sops*), which reads files from Git with a key the
// server holds. Input: the first byte picks the entry point (its value modulo 4), the rest is the text:
//   0  release::sops::age_decrypt (armored or binary age file) with the fixed test identity below
//   1  release::sops::decrypt_document over the first YAML (or JSON) document, with that identity
//   2  release::sops::decrypt_text as JSON
//   3  release::sops::parse_age_identities (a key file)
// Properties checked beyond "no crash": a decrypted document has one key path per secret and no `sops`
// key; an error never quotes the fixed identity.
// The seeds in sops-seeds/ were made by the real sops and age (scripts/sops-tools) for the throwaway test
// key below, which protects nothing else.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/limits.hpp"
#include "core/yaml_bounded.hpp"
#include "release/sops.hpp"

namespace {
using namespace helmgate;

constexpr const char* kTestIdentity = "AGE-SECRET-KEY-1EZ3E24TCRT7DMXJT7G78GNEWKNPNYYTXM9CH0WJQE87RA8K28RUS5XKTG0";

const release::sops::Keys& keys() {
  static const release::sops::Keys k = [] {
    release::sops::Keys out;
    auto id = release::sops::parse_age_identity(kTestIdentity);
    if (!id.ok) std::abort();
    out.age.push_back(id.identity);
    out.sources.emplace_back("the fuzz key");
    return out;
  }();
  return k;
}

// An error may quote the input (a bad value, an unknown type): only an identity the input did not hold is a leak.
void no_key_in(const std::string& error, const std::string& input) {
  const std::string secret = std::string(kTestIdentity).substr(16);
  if (error.find(secret) != std::string::npos && input.find(secret) == std::string::npos) {
    std::fprintf(stderr, "property failed: an error quotes the identity: %.2000s\n", error.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = [] {
    core::Limits l;
    l.yaml = {256u << 10, 4, 32, 20'000, "limits.yaml"};
    core::set_limits(l);
    return true;
  }();
  (void)limited;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto r = release::sops::age_decrypt(text, keys().age);
      no_key_in(r.error, text);
      break;
    }
    case 1: {
      YAML::Node doc;
      try {
        auto docs = core::yaml::load_all(text);
        if (docs.empty()) return 0;
        doc = docs.front();
      } catch (const YAML::Exception&) {
        return 0;
      }
      auto r = release::sops::decrypt_document(doc, keys(), "fuzz.yaml");
      no_key_in(r.error, text);
      if (r.ok && (r.secrets.size() != r.paths.size() || (r.doc.IsMap() && r.doc["sops"]))) {
        std::fprintf(stderr, "property failed: secrets/paths or the sops key left in\n");
        std::abort();
      }
      break;
    }
    case 2: {
      auto r = release::sops::decrypt_text(text, true, keys(), "fuzz.json");
      no_key_in(r.error, text);
      break;
    }
    default: {
      auto r = release::sops::parse_age_identities(text, "fuzz");
      no_key_in(r.error, text);
      break;
    }
  }
  return 0;
}
