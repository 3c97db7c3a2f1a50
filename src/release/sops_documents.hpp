#pragma once
// SOPS decryption, room (d): a path's documents as kustomize-controller decrypts them when its Flux
// Kustomization has spec.decryption {provider: sops}: a document carrying SOPS metadata is decrypted
// whole, and a Secret value that is itself a SOPS file (a key named *.yaml, *.yml or *.json) is decrypted
// in place. Each decrypted document records what it yielded (Doc::decrypted) for redaction.
#include <memory>
#include <string>

#include "release/documents.hpp"

namespace helmgate::release {

struct Decryption {
  bool enabled = false;
  std::string why_not;  // when not enabled: why ("the Flux Kustomization ... has no spec.decryption")
};

// docs unchanged (the same pointer) when none is encrypted. A document that cannot be decrypted (or may
// not be: decryption off) is left out and reported at its file:line, as Flux fails that sync.
std::shared_ptr<const Docs> decrypt_documents(const std::shared_ptr<const Docs>& docs, const DiscoverOptions& opt,
                                              const Decryption& how, const Report& problem);

// A digest of a decrypted value, salted per process: tells whether a value changed between two commits
// without ever being a way to guess it.
std::string decrypted_digest(const std::string& value);

// Adds what a document decrypted to a release: its values to r.sensitive, its key names to r.decrypted.
void add_decrypted(Release& r, const Doc& d);

}  // namespace helmgate::release
