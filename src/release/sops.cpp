#include "release/sops.hpp"

#include <cstdlib>
#include <regex>

#include "core/files.hpp"
#include "core/yaml_bounded.hpp"
#include "release/sops_tree.hpp"
#include "release/typed_json.hpp"

namespace helmgate::release::sops {

namespace {

constexpr size_t kMaxKeyFile = 1u << 20;

struct Recipient {
  std::string public_key;  // age1...
  std::string enc;         // the armored age file holding the data key
};

struct Metadata {
  std::vector<Recipient> age;
  std::vector<std::string> other_kinds;  // pgp, kms, ... (not decrypted by helmgate)
  std::string lastmodified, mac;
  Rules rules;
};

std::string str(const YAML::Node& m, const char* key) {
  YAML::Node n = m[key];
  return n && n.IsScalar() ? n.Scalar() : std::string();
}

// std::regex backtracks (Go's RE2 does not): a pattern from Git with a quantified group that itself holds
// a quantifier or an alternation ((a*)*, (a|aa)+) could take exponential time. Those, backreferences and
// long patterns are refused; plain rules such as ^(data|stringData)$ or password pass.
bool backtracking_safe(const std::string& p) {
  if (p.size() > 256) return false;
  std::vector<bool> risky(1, false);  // per open group: holds a quantifier or an alternation
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9') return false;  // backreference
      ++i;
      continue;
    }
    if (c == '[') {  // a class: skip to its end
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
      i = j;
      continue;
    }
    const bool quant = c == '*' || c == '+' || c == '?' || c == '{';
    if (c == '(') {
      risky.push_back(false);
    } else if (c == ')') {
      if (risky.size() < 2) return false;
      const bool inner = risky.back();
      risky.pop_back();
      const bool quantified = i + 1 < p.size() && (p[i + 1] == '*' || p[i + 1] == '+' || p[i + 1] == '?' || p[i + 1] == '{');
      if (quantified && inner) return false;
      risky.back() = risky.back() || inner || quantified;
    } else if (quant || c == '|') {
      risky.back() = true;
    }
  }
  return risky.size() == 1;
}

bool compile(const std::string& pattern, const char* key, std::optional<std::regex>& out, std::string& error) {
  if (!backtracking_safe(pattern)) {
    error = std::string("sops.") + key + " is longer than 256 characters, or repeats a group that holds a repetition, "
            "an alternation or a backreference, which helmgate refuses (a regular expression from Git must run in "
            "bounded time); simplify it";
    return false;
  }
  try {
    out.emplace(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    error = std::string("sops.") + key + " is not a regular expression helmgate can read";
    return false;
  }
}

void read_age(const YAML::Node& list, Metadata& md) {
  if (!list || !list.IsSequence()) return;
  for (const auto& a : list) {
    if (a.IsMap()) md.age.push_back({str(a, "recipient"), str(a, "enc")});
  }
}

// sops.lastmodified as Go's time.Format(time.RFC3339) writes the parsed time: the MAC's additional data.
bool normalize_time(const std::string& in, std::string& out) {
  static const std::regex re(R"(^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$)");
  std::smatch m;
  if (!std::regex_match(in, m, re)) return false;
  const std::string zone = m[3].str() == "+00:00" ? "Z" : m[3].str();
  out = m[1].str() + zone;
  return true;
}

bool read_metadata(const YAML::Node& sops, Metadata& md, std::string& error) {
  if (!sops.IsMap()) {
    error = "its sops metadata is not a map";
    return false;
  }
  read_age(sops["age"], md);
  if (YAML::Node groups = sops["key_groups"]; groups && groups.IsSequence()) {
    if (groups.size() > 1) {
      error = "it uses " + std::to_string(groups.size()) + " key groups (Shamir secret sharing), which helmgate does not decrypt; "
              "encrypt it for age recipients in one group";
      return false;
    }
    for (const auto& g : groups) read_age(g["age"], md);
  }
  for (const char* kind : {"pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"}) {
    if (YAML::Node n = sops[kind]; n && n.IsSequence() && n.size() > 0) md.other_kinds.emplace_back(kind);
  }
  md.mac = str(sops, "mac");
  if (md.mac.empty()) {
    error = "its sops metadata has no mac";
    return false;
  }
  if (!normalize_time(str(sops, "lastmodified"), md.lastmodified)) {
    error = "its sops.lastmodified is not an RFC 3339 time";
    return false;
  }
  const std::string us = str(sops, "unencrypted_suffix"), es = str(sops, "encrypted_suffix"),
                    ur = str(sops, "unencrypted_regex"), er = str(sops, "encrypted_regex"),
                    ucr = str(sops, "unencrypted_comment_regex"), ecr = str(sops, "encrypted_comment_regex");
  const int rules = !us.empty() + !es.empty() + !ur.empty() + !er.empty() + !ucr.empty() + !ecr.empty();
  if (rules > 1) {
    error = "its sops metadata sets more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
            "unencrypted_regex, encrypted_comment_regex, unencrypted_comment_regex (sops refuses it too)";
    return false;
  }
  if (!ucr.empty() || !ecr.empty()) {
    error = "it uses encrypted_comment_regex or unencrypted_comment_regex, which helmgate does not support "
            "(use encrypted_regex or unencrypted_regex)";
    return false;
  }
  md.rules.unencrypted_suffix = rules == 0 ? "_unencrypted" : us;
  md.rules.encrypted_suffix = es;
  if (!ur.empty() && !compile(ur, "unencrypted_regex", md.rules.unencrypted_regex, error)) return false;
  if (!er.empty() && !compile(er, "encrypted_regex", md.rules.encrypted_regex, error)) return false;
  YAML::Node moe = sops["mac_only_encrypted"];
  md.rules.mac_only_encrypted = moe && moe.IsScalar() && (moe.Scalar() == "true" || moe.Scalar() == "True");
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The 32-byte data key, from the first age recipient one of our identities opens.
bool data_key(const Metadata& md, const Keys& keys, std::string& key, std::string& error) {
  std::vector<std::string> listed;
  for (const auto& r : md.age) listed.push_back(r.public_key.empty() ? std::string("(unnamed)") : r.public_key);
  if (md.age.empty()) {
    error = "it has no age recipient" +
            (md.other_kinds.empty() ? std::string() : " (only " + join(md.other_kinds) + ", which helmgate does not decrypt)") +
            "; encrypt it for an age recipient whose key helmgate holds";
    return false;
  }
  std::vector<std::string> held;
  for (const auto& id : keys.age) held.push_back(id.recipient);
  if (keys.age.empty()) {
    error = "helmgate holds no age key (" +
            (keys.sources.empty() ? std::string("configure sops.age_keys in the server configuration; SOPS_AGE_KEY or "
                                                "SOPS_AGE_KEY_FILE for the CLI")
                                  : join(keys.sources)) +
            "); the file's recipients are " + join(listed);
    return false;
  }
  for (const auto& r : md.age) {
    AgeDecrypted d = age_decrypt(r.enc, keys.age);
    if (d.status == AgeDecrypted::Status::no_identity) continue;
    if (d.status != AgeDecrypted::Status::ok) {
      error = "the data key encrypted for recipient " + (r.public_key.empty() ? std::string("(unnamed)") : r.public_key) +
              " cannot be read: " + d.error;
      return false;
    }
    if (d.plaintext.size() != 32) {
      crypto::wipe(d.plaintext);
      error = "the data key encrypted for recipient " + r.public_key + " is not 32 bytes";
      return false;
    }
    key = std::move(d.plaintext);
    return true;
  }
  error = "none of the age keys helmgate holds (" + join(held) +
          (keys.sources.empty() ? std::string() : ", from " + join(keys.sources)) +
          ") is a recipient of this file; its recipients are " + join(listed) +
          ". Add one of them to helmgate's keys, or add a key helmgate holds to the file (sops updatekeys)";
  return false;
}

}  // namespace

LoadedKeys keys_from_environment() {
  LoadedKeys out;
  if (const char* v = std::getenv("SOPS_AGE_KEY"); v != nullptr && *v != '\0') {
    auto ids = parse_age_identities(v, "SOPS_AGE_KEY");
    if (!ids.ok) {
      out.error = ids.error;
      return out;
    }
    out.keys.age.insert(out.keys.age.end(), ids.identities.begin(), ids.identities.end());
    out.keys.sources.emplace_back("SOPS_AGE_KEY");
  }
  if (const char* f = std::getenv("SOPS_AGE_KEY_FILE"); f != nullptr && *f != '\0') {
    std::string text = core::read_file(f, kMaxKeyFile).value_or("");
    if (text.empty()) {
      out.error = std::string("SOPS_AGE_KEY_FILE names ") + f + ", which cannot be read or is not an age key file";
      return out;
    }
    auto ids = parse_age_identities(text, std::string("SOPS_AGE_KEY_FILE (") + f + ")");
    crypto::wipe(text);
    if (!ids.ok) {
      out.error = ids.error;
      return out;
    }
    out.keys.age.insert(out.keys.age.end(), ids.identities.begin(), ids.identities.end());
    out.keys.sources.push_back(std::string("SOPS_AGE_KEY_FILE ") + f);
  }
  return out;
}

bool is_encrypted(const YAML::Node& doc) {
  if (!doc.IsMap()) return false;
  YAML::Node s = doc["sops"];
  return s && s.IsMap() && s["mac"];
}

bool looks_encrypted(std::string_view text) {
  // What kustomize-controller looks for in a Secret value before it decrypts it as a file.
  return text.find("sops") != std::string_view::npos && text.find("mac") != std::string_view::npos &&
         text.find("ENC[AES256_GCM,") != std::string_view::npos;
}

Decrypted decrypt_document(const YAML::Node& doc, const Keys& keys, const std::string& file) {
  Decrypted out;
  const std::string where = file.empty() ? std::string("a SOPS-encrypted document") : file;
  auto fail = [&](const std::string& why) {
    out.error = where + ": cannot decrypt with SOPS: " + why;
    return out;
  };
  if (!is_encrypted(doc)) return fail("it has no sops metadata (a top-level sops map with a mac)");
  Metadata md;
  std::string error;
  if (!read_metadata(doc["sops"], md, error)) return fail(error);
  std::string key;
  if (!data_key(md, keys, key, error)) return fail(error);
  Walked w = walk_document(doc, md.rules, key);
  if (!w.ok) {
    crypto::wipe(key);
    return fail(w.error);
  }
  Value mac = decrypt_value(md.mac, key, md.lastmodified);
  crypto::wipe(key);
  if (!mac.ok) {
    for (auto& s : w.secrets) crypto::wipe(s);
    return fail("its MAC (sops.mac) " + mac.error + "; sops.mac or sops.lastmodified was altered");
  }
  if (!crypto::equal(mac.plaintext, w.mac)) {
    for (auto& s : w.secrets) crypto::wipe(s);
    return fail("the MAC does not match its values (a value or a key was altered after sops wrote the file); "
                "restore it, or re-encrypt it with sops");
  }
  out.ok = true;
  out.doc = w.doc;
  out.secrets = std::move(w.secrets);
  out.paths = std::move(w.paths);
  return out;
}

DecryptedText decrypt_text(std::string_view text, bool json, const Keys& keys, const std::string& file) {
  DecryptedText out;
  YAML::Node doc;
  try {
    auto docs = core::yaml::load_all(text);
    if (docs.size() != 1) {
      out.error = file + ": cannot decrypt with SOPS: it holds " + std::to_string(docs.size()) +
                  " YAML documents; helmgate decrypts a file of one document";
      return out;
    }
    doc = docs.front();
  } catch (const YAML::Exception& e) {
    out.error = file + ": cannot decrypt with SOPS: it is not valid " + (json ? "JSON" : "YAML") + " (line " +
                std::to_string(e.mark.line + 1) + ")";
    return out;
  }
  Decrypted d = decrypt_document(doc, keys, file);
  if (!d.ok) {
    out.error = d.error;
    return out;
  }
  if (json) {
    auto typed_doc = typed::from_yaml(d.doc);
    if (!typed_doc.ok) {
      out.error = file + ": the decrypted file cannot be written as JSON: " + typed_doc.error.message;
      return out;
    }
    out.text = typed::to_json(typed_doc.value);
  } else {
    auto emitted = typed::emit_preserving(d.doc);
    if (!emitted) {
      out.error = file + ": the decrypted file cannot be re-emitted: " + emitted.error().message;
      return out;
    }
    out.text = *emitted;
  }
  out.ok = true;
  out.secrets = std::move(d.secrets);
  out.paths = std::move(d.paths);
  return out;
}

}  // namespace helmgate::release::sops
