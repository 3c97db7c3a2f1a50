#include "release/sops_documents.hpp"

#include <openssl/rand.h>

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "release/sops.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

using detail::scalar;

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

// A Secret data/stringData entry that is a SOPS file, as kustomize-controller finds them: the key's
// extension gives the format, the value (base64-decoded for data) carries the SOPS markers.
struct Nested {
  YAML::Node key;
  std::string field, name, text;
  bool json = false;
};

std::vector<Nested> nested_files(const YAML::Node& node) {
  std::vector<Nested> out;
  if (scalar(node, "kind") != "Secret") return out;
  for (const char* field : {"data", "stringData"}) {
    YAML::Node m = detail::get(node, field);
    if (!m || !m.IsMap()) continue;
    for (const auto& kv : m) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar()) continue;
      const std::string key = kv.first.Scalar();
      const bool json = ends_with(key, ".json");
      if (!json && !ends_with(key, ".yaml") && !ends_with(key, ".yml")) continue;
      std::string raw = std::string(field) == "data" ? core::base64_decode_lenient(kv.second.Scalar()) : kv.second.Scalar();
      if (!sops::looks_encrypted(raw)) continue;
      out.push_back({kv.first, field, key, std::move(raw), json});
    }
  }
  return out;
}

// The nested SOPS files of a Secret, decrypted in place. False when one fails (reported).
bool decrypt_secret_values(YAML::Node& node, const sops::Keys& keys, const Doc& d, DecryptedValues& out,
                           const Report& problem) {
  bool ok = true;
  for (const auto& n : nested_files(node)) {
    auto t = sops::decrypt_text(n.text, n.json, keys, d.file + " (" + n.field + "." + n.name + ")");
    if (!t.ok) {
      problem(t.error, {d.file, d.line, 0});
      ok = false;
      continue;
    }
    for (size_t i = 0; i < t.secrets.size(); ++i) {
      out.values.emplace_back(n.field + "." + n.name + "/" + t.paths[i], t.secrets[i]);
    }
    YAML::Node v(n.field == "data" ? core::base64_encode(t.text) : t.text);
    v.SetTag("!");
    node[n.field][n.name] = v;
  }
  return ok;
}

}  // namespace

std::string decrypted_digest(const std::string& value) {
  static const std::string salt = [] {
    unsigned char b[32] = {};
    RAND_bytes(b, sizeof(b));
    return std::string(reinterpret_cast<const char*>(b), sizeof(b));
  }();
  return core::sha256_hex(salt + value);
}

void add_decrypted(Release& r, const Doc& d) {
  if (!d.decrypted) return;
  for (const auto& [path, value] : d.decrypted->values) {
    r.sensitive.push_back(value);
    r.decrypted[d.decrypted->file + ": " + path] = decrypted_digest(value);
  }
}

std::shared_ptr<const Docs> decrypt_documents(const std::shared_ptr<const Docs>& docs, const DiscoverOptions& opt,
                                              const Decryption& how, const Report& problem) {
  if (!docs) return docs;
  auto secret_file = [](const Doc& d) { return !nested_files(d.node).empty(); };
  bool any = false;
  for (const auto& d : *docs) any = any || sops::is_encrypted(d.node) || secret_file(d);
  if (!any) return docs;
  static const sops::Keys no_keys;
  const sops::Keys& keys = opt.sops_keys ? *opt.sops_keys : no_keys;
  auto out = std::make_shared<Docs>();
  for (const auto& d : *docs) {
    const bool whole = sops::is_encrypted(d.node);
    if (!whole && !secret_file(d)) {
      out->push_back(d);
      continue;
    }
    const std::string where = d.file.empty() ? std::string("a document") : d.file;
    if (!how.enabled) {
      problem(where + " is encrypted with SOPS, but " + how.why_not +
                  ": kustomize-controller would not decrypt it (add spec.decryption: {provider: sops})",
              {d.file, d.line, 0});
      continue;
    }
    Doc next = d;
    auto values = std::make_shared<DecryptedValues>();
    values->file = d.file;
    if (whole) {
      auto dec = sops::decrypt_document(d.node, keys, where);
      if (!dec.ok) {
        problem(dec.error, {d.file, d.line, 0});
        continue;
      }
      next.node = dec.doc;
      for (size_t i = 0; i < dec.secrets.size(); ++i) values->values.emplace_back(dec.paths[i], dec.secrets[i]);
    }
    if (scalar(next.node, "kind") == "Secret") {
      if (!whole) next.node = YAML::Clone(d.node);
      if (!decrypt_secret_values(next.node, keys, d, *values, problem)) continue;
    }
    next.decrypted = values;
    out->push_back(std::move(next));
  }
  return out;
}

}  // namespace helmgate::release
