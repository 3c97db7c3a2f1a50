// A path's documents as kustomize-controller decrypts them (src/release/sops_documents): whole documents
// with SOPS metadata, Secret values that are SOPS files (data base64, stringData text; YAML and JSON by the
// key's extension), decryption off for a path whose Flux Kustomization has no spec.decryption, and what a
// release takes from a decrypted document (its values for redaction, its key names for the preview).
#include <catch2/catch.hpp>

#include "core/base64.hpp"
#include "release/documents.hpp"
#include "release/sops.hpp"
#include "release/sops_documents.hpp"
#include "release/typed_json.hpp"
#include "support/sops_tools.hpp"

using namespace helmgate;
namespace typed = release::typed;

namespace {

struct Problems {
  std::vector<std::pair<std::string, release::Location>> seen;
  release::Report report() {
    return [this](const std::string& m, const release::Location& at) { seen.emplace_back(m, at); };
  }
};

std::shared_ptr<const release::Docs> docs_of(const std::string& file, const std::string& text) {
  auto parsed = release::parse_documents(file, text);
  REQUIRE(std::holds_alternative<release::Docs>(parsed));
  return std::make_shared<const release::Docs>(std::get<release::Docs>(parsed));
}

release::DiscoverOptions options_with(const test::AgeKeyPair& k) {
  auto keys = std::make_shared<release::sops::Keys>();
  auto id = release::sops::parse_age_identity(k.identity);
  REQUIRE(id.ok);
  keys->age.push_back(id.identity);
  release::DiscoverOptions opt;
  opt.sops_keys = keys;
  return opt;
}

}  // namespace

TEST_CASE("Secret values that are SOPS files are decrypted in place, data and stringData, YAML and JSON") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string yaml_file = test::sops_encrypt(s, "values.yaml", "password: canary-nested-1\nport: 8080\n", {k.recipient});
  const std::string json_file = test::sops_encrypt(s, "config.json", R"({"token":"canary-nested-2","n":3})", {k.recipient});
  std::string indented;
  for (size_t start = 0; start < json_file.size();) {
    size_t nl = json_file.find('\n', start);
    if (nl == std::string::npos) nl = json_file.size();
    indented += "    " + json_file.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  const std::string secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: nested, namespace: demo}\ndata:\n  values.yaml: " +
                             test::base64_encode(yaml_file) + "\n  other: " + test::base64_encode("plain") +
                             "\nstringData:\n  config.json: |\n" + indented;
  auto in = docs_of("releases/nested.yaml", secret);
  Problems p;
  auto out = release::decrypt_documents(in, options_with(k), {true, ""}, p.report());
  INFO((p.seen.empty() ? std::string() : p.seen[0].first));
  REQUIRE(p.seen.empty());
  REQUIRE(out->size() == 1);
  const auto& d = out->front();
  auto values = core::base64_decode(d.node["data"]["values.yaml"].Scalar());
  REQUIRE(values);
  // Re-emitted by helmgate: the same typed values (the string quoted, the number plain).
  CHECK(typed::to_json(typed::from_yaml_text(*values).value) == R"({"password":"canary-nested-1","port":8080})");
  CHECK(d.node["data"]["other"].Scalar() == test::base64_encode("plain"));
  CHECK(d.node["stringData"]["config.json"].Scalar() == R"({"n":3,"token":"canary-nested-2"})");
  REQUIRE(d.decrypted);
  std::map<std::string, std::string> got(d.decrypted->values.begin(), d.decrypted->values.end());
  CHECK(got.at("data.values.yaml/password") == "canary-nested-1");
  CHECK(got.at("stringData.config.json/token") == "canary-nested-2");
  CHECK(d.decrypted->file == "releases/nested.yaml");

  // A release reading it: the values become sensitive, the keys are named, a digest (never the value) kept.
  release::Release r;
  release::add_decrypted(r, d);
  CHECK(std::find(r.sensitive.begin(), r.sensitive.end(), "canary-nested-1") != r.sensitive.end());
  REQUIRE(r.decrypted.count("releases/nested.yaml: data.values.yaml/password") == 1);
  CHECK(r.decrypted.at("releases/nested.yaml: data.values.yaml/password").find("canary") == std::string::npos);
  CHECK(r.decrypted.at("releases/nested.yaml: data.values.yaml/password") == release::decrypted_digest("canary-nested-1"));
}

TEST_CASE("decryption off (no spec.decryption), a failure: the document is left out, reported at file:line") {
  auto k = test::age_keygen(), other = test::age_keygen();
  test::SopsScratch s;
  const std::string cm = test::sops_encrypt(s, "cm.yaml",
                                            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  a: canary-cm-1\n",
                                            {k.recipient}, {"--encrypted-regex", "^data$"});
  auto in = docs_of("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n---\n" + cm);
  Problems off;
  auto kept = release::decrypt_documents(in, options_with(k), {false, "the Flux Kustomization that applies apps has no spec.decryption"},
                                         off.report());
  REQUIRE(kept->size() == 1);
  CHECK(kept->front().node["metadata"]["name"].Scalar() == "plain");
  REQUIRE(off.seen.size() == 1);
  CHECK(off.seen[0].first.find("apps/cm.yaml is encrypted with SOPS") != std::string::npos);
  CHECK(off.seen[0].first.find("no spec.decryption") != std::string::npos);
  CHECK(off.seen[0].second.file == "apps/cm.yaml");
  CHECK(off.seen[0].second.line == 5);

  Problems wrong;
  auto failed = release::decrypt_documents(in, options_with(other), {true, ""}, wrong.report());
  CHECK(failed->size() == 1);
  REQUIRE(wrong.seen.size() == 1);
  CHECK(wrong.seen[0].first.find(k.recipient) != std::string::npos);

  Problems ok;
  auto decrypted = release::decrypt_documents(in, options_with(k), {true, ""}, ok.report());
  REQUIRE(decrypted->size() == 2);
  CHECK(decrypted->at(1).node["data"]["a"].Scalar() == "canary-cm-1");
  REQUIRE(decrypted->at(1).decrypted);  // a ConfigMap's decrypted values are secrets too
  CHECK(decrypted->at(1).decrypted->values.at(0).second == "canary-cm-1");
  CHECK_FALSE(decrypted->at(0).decrypted);

  // Nothing encrypted: the same documents, not a copy.
  auto plain = docs_of("apps/plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n");
  Problems none;
  CHECK(release::decrypt_documents(plain, options_with(k), {false, "x"}, none.report()) == plain);
  CHECK(none.seen.empty());
}
