// SOPS files (src/release/sops*) made by the real sops with age recipients: helmgate's decryption equals
// sops's own, typed values keep their type, and every kind of tampering or a wrong key fails clearly.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <sstream>

#include "core/base64.hpp"

#include "release/sops.hpp"
#include "release/typed_json.hpp"
#include "support/sops_tools.hpp"

using namespace helmgate;
namespace typed = release::typed;

namespace {

const char* kValues = R"(# a comment sops encrypts too
app:
  # another one, inside a map
  name: demo
  created: 2024-01-02T03:04:05Z
  replicas: 3
  ratio: 0.25
  version_float: 1.10
  version: "1.10"
  enabled: true
  disabled: false
  empty: ""
  nothing: null
  octal_string: "0123"
  big: 9007199254740993
  negative: -42
  multiline: |
    line one
    line two
  unicode: "grüße ✓"
  list:
    - one
    - 2
    - three: 3
password: canary-sops-7f3a9
public_unencrypted: visible
)";

release::sops::Keys keys_of(std::initializer_list<test::AgeKeyPair> pairs) {
  release::sops::Keys k;
  for (const auto& p : pairs) {
    auto id = release::sops::parse_age_identity(p.identity);
    REQUIRE(id.ok);
    k.age.push_back(id.identity);
  }
  k.sources.emplace_back("the test");
  return k;
}

typed::Value typed_of(const YAML::Node& n) {
  auto c = typed::from_yaml(n);
  INFO(c.error.message);
  REQUIRE(c.ok);
  return c.value;
}

typed::Value typed_text(const std::string& text) {
  auto c = typed::from_yaml_text(text);
  INFO(c.error.message);
  REQUIRE(c.ok);
  return c.value;
}

release::sops::Decrypted decrypt(const std::string& text, const release::sops::Keys& keys, const std::string& file = "secret.yaml") {
  return release::sops::decrypt_document(YAML::Load(text), keys, file);
}

// Replaces the first match of `re` in s (the test fails when there is none).
std::string replace_once(const std::string& s, const std::string& re, const std::string& with) {
  std::smatch m;
  REQUIRE(std::regex_search(s, m, std::regex(re)));
  return s.substr(0, static_cast<size_t>(m.position(0))) + with + s.substr(static_cast<size_t>(m.position(0) + m.length(0)));
}

}  // namespace

TEST_CASE("a YAML file encrypted by sops decrypts to sops's own plaintext, every type kept") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "values.yaml", kValues, {k.recipient});
  REQUIRE(enc.find("ENC[AES256_GCM,") != std::string::npos);
  REQUIRE(enc.find("canary-sops-7f3a9") == std::string::npos);
  auto d = decrypt(enc, keys_of({k}));
  INFO(d.error);
  REQUIRE(d.ok);
  const std::string oracle = test::sops_decrypt(s, "again.yaml", enc, k.identity);
  CHECK(typed::to_json(typed_of(d.doc)) == typed::to_json(typed_text(oracle)));
  // And the plaintext as written, read as Kubernetes reads YAML (ints stay ints, "1.10" stays a string).
  const auto v = typed_of(d.doc);
  CHECK(typed::to_json(v) == typed::to_json(typed_text(kValues)));
  const auto& app = v.o.at("app");
  CHECK(app.o.at("replicas").type == typed::Value::Type::integer);
  CHECK(app.o.at("version").type == typed::Value::Type::string);
  CHECK(app.o.at("version").s == "1.10");
  CHECK(app.o.at("octal_string").s == "0123");
  CHECK(app.o.at("enabled").type == typed::Value::Type::boolean);
  CHECK(app.o.at("ratio").type == typed::Value::Type::number);
  CHECK(app.o.at("multiline").s == "line one\nline two\n");
  CHECK(v.o.at("public_unencrypted").s == "visible");
  CHECK(!d.doc["sops"]);
  // Every decrypted value is a secret; the unencrypted one is not; the paths are names only.
  CHECK(std::find(d.secrets.begin(), d.secrets.end(), "canary-sops-7f3a9") != d.secrets.end());
  CHECK(std::find(d.secrets.begin(), d.secrets.end(), "visible") == d.secrets.end());
  CHECK(std::find(d.paths.begin(), d.paths.end(), "password") != d.paths.end());
  CHECK(std::find(d.paths.begin(), d.paths.end(), "app.replicas") != d.paths.end());
  for (const auto& p : d.paths) CHECK(p.find("canary") == std::string::npos);
}

TEST_CASE("a JSON file encrypted by sops decrypts to sops's own plaintext") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string plain = R"({"name":"demo","replicas":3,"ratio":1.5,"whole_float":2.0,"version":"1.10","on":true,)"
                            R"("list":[1,"two",{"three":3.25}],"nested":{"token":"canary-json-51c2"},"empty":""})";
  const std::string enc = test::sops_encrypt(s, "values.json", plain, {k.recipient});
  REQUIRE(enc.find("canary-json-51c2") == std::string::npos);
  auto d = release::sops::decrypt_text(enc, true, keys_of({k}), "values.json");
  INFO(d.error);
  REQUIRE(d.ok);
  const std::string oracle = test::sops_decrypt(s, "again.json", enc, k.identity);
  CHECK(d.text == typed::to_json(typed_text(oracle)));
  CHECK(d.text == typed::to_json(typed_text(plain)));
  CHECK(std::find(d.secrets.begin(), d.secrets.end(), "canary-json-51c2") != d.secrets.end());
}

TEST_CASE("a file with two recipients decrypts with the key of the second") {
  auto a = test::age_keygen(), b = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "two.yaml", "token: canary-two-9d1\n", {a.recipient, b.recipient});
  auto d = decrypt(enc, keys_of({b}));
  INFO(d.error);
  REQUIRE(d.ok);
  CHECK(d.doc["token"].Scalar() == "canary-two-9d1");
}

TEST_CASE("encrypted_regex: a Secret with only data and stringData encrypted, its metadata in the MAC") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string secret = R"(apiVersion: v1
kind: Secret
metadata:
  name: app-values
  namespace: team-a
  labels:
    replicas: "3"
  annotations:
    created: 2024-01-02T03:04:05Z
    day: 2024-1-2
    count: 0x1F
    ratio: 1.50
    flag: True
type: Opaque
stringData:
  values.yaml: |
    password: canary-regex-44e1
    replicas: 2
data:
  token: Y2FuYXJ5LWRhdGEtOGI3Mg==
)";
  const std::string enc = test::sops_encrypt(s, "secret.yaml", secret, {k.recipient}, {"--encrypted-regex", "^(data|stringData)$"});
  REQUIRE(enc.find("name: app-values") != std::string::npos);  // metadata stays readable
  auto d = decrypt(enc, keys_of({k}));
  INFO(d.error);
  REQUIRE(d.ok);
  // sops itself writes the unencrypted date 2024-1-2 back as a timestamp: its own decryption is the oracle.
  CHECK(typed::to_json(typed_of(d.doc)) == typed::to_json(typed_text(test::sops_decrypt(s, "again.yaml", enc, k.identity))));
  CHECK(d.doc["stringData"]["values.yaml"].Scalar() == "password: canary-regex-44e1\nreplicas: 2\n");
  // Unencrypted values stay as the file holds them (sops wrote 0x1F as 31).
  CHECK(d.doc["metadata"]["annotations"]["count"].Scalar() == YAML::Load(enc)["metadata"]["annotations"]["count"].Scalar());
  CHECK(d.secrets.size() == 2);
  CHECK(std::find(d.paths.begin(), d.paths.end(), "stringData.values.yaml") != d.paths.end());
  CHECK(std::find(d.paths.begin(), d.paths.end(), "data.token") != d.paths.end());

  // An unencrypted value changed after sops wrote the file: the MAC catches it.
  auto renamed = decrypt(replace_once(enc, "namespace: team-a", "namespace: team-b"), keys_of({k}));
  CHECK_FALSE(renamed.ok);
  CHECK(renamed.error.find("secret.yaml") != std::string::npos);
  CHECK(renamed.error.find("MAC does not match") != std::string::npos);
}

TEST_CASE("mac_only_encrypted and unencrypted_suffix files decrypt") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string plain = "token: canary-maconly-1\nname_unencrypted: plain\nreplicas: 4\n";
  const std::string enc = test::sops_encrypt(s, "m.yaml", plain, {k.recipient}, {"--mac-only-encrypted"});
  REQUIRE(enc.find("mac_only_encrypted: true") != std::string::npos);
  REQUIRE(enc.find("name_unencrypted: plain") != std::string::npos);
  auto d = decrypt(enc, keys_of({k}));
  INFO(d.error);
  REQUIRE(d.ok);
  CHECK(typed::to_json(typed_of(d.doc)) == typed::to_json(typed_text(plain)));
  // With mac_only_encrypted the unencrypted value is outside the MAC (sops's meaning): still decrypts.
  CHECK(decrypt(replace_once(enc, "name_unencrypted: plain", "name_unencrypted: other"), keys_of({k})).ok);
}

TEST_CASE("a tampered value, a value moved to another key, a tampered MAC each fail with a clear message") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "t.yaml", "first: 1\na: canary-tamper-1\nb: canary-tamper-2\n", {k.recipient});
  const auto keys = keys_of({k});

  // One byte of a value's ciphertext.
  std::smatch m;
  REQUIRE(std::regex_search(enc, m, std::regex("a: ENC\\[AES256_GCM,data:([A-Za-z0-9+/]+)")));
  std::string data = m[1].str();
  data[0] = data[0] == 'A' ? 'B' : 'A';
  auto tampered = decrypt(replace_once(enc, "a: ENC\\[AES256_GCM,data:[A-Za-z0-9+/]+", "a: ENC[AES256_GCM,data:" + data), keys, "t.yaml");
  CHECK_FALSE(tampered.ok);
  CHECK(tampered.error.find("t.yaml") != std::string::npos);
  CHECK(tampered.error.find("value at a ") != std::string::npos);
  CHECK(tampered.error.find("does not decrypt") != std::string::npos);

  // The values of a and b swapped: each is bound to its key path.
  std::smatch ma, mb;
  REQUIRE(std::regex_search(enc, ma, std::regex("\na: (ENC\\[[^\\]]+\\])")));
  REQUIRE(std::regex_search(enc, mb, std::regex("\nb: (ENC\\[[^\\]]+\\])")));
  std::string swapped = replace_once(enc, "\na: ENC\\[[^\\]]+\\]", "\na: " + mb[1].str());
  swapped = replace_once(swapped, "\nb: ENC\\[[^\\]]+\\]", "\nb: " + ma[1].str());
  auto moved = decrypt(swapped, keys, "t.yaml");
  CHECK_FALSE(moved.ok);
  CHECK(moved.error.find("does not decrypt") != std::string::npos);

  // The MAC's own ciphertext.
  REQUIRE(std::regex_search(enc, m, std::regex("mac: ENC\\[AES256_GCM,data:([A-Za-z0-9+/]+)")));
  std::string mac = m[1].str();
  mac[3] = mac[3] == 'A' ? 'B' : 'A';
  auto bad_mac = decrypt(replace_once(enc, "mac: ENC\\[AES256_GCM,data:[A-Za-z0-9+/]+", "mac: ENC[AES256_GCM,data:" + mac), keys, "t.yaml");
  CHECK_FALSE(bad_mac.ok);
  CHECK(bad_mac.error.find("t.yaml") != std::string::npos);
  CHECK(bad_mac.error.find("MAC") != std::string::npos);

  // lastmodified is the MAC's additional data.
  auto bad_time = decrypt(replace_once(enc, "lastmodified: \"[^\"]+\"", "lastmodified: \"2001-01-01T00:00:00Z\""), keys, "t.yaml");
  CHECK_FALSE(bad_time.ok);
  CHECK(bad_time.error.find("MAC") != std::string::npos);

  // A value removed: the MAC no longer matches.
  auto removed = decrypt(replace_once(enc, "\nb: ENC\\[[^\\]]+\\]", ""), keys, "t.yaml");
  CHECK_FALSE(removed.ok);
  CHECK(removed.error.find("MAC does not match") != std::string::npos);
  for (const auto* r : {&tampered, &moved, &bad_mac, &bad_time, &removed}) {
    CHECK(r->error.find("canary-tamper") == std::string::npos);
  }
}

TEST_CASE("a tampered age header in sops.age[].enc fails naming the recipient") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "h.yaml", "a: canary-header-1\n", {k.recipient});
  // Decode the armored data key, add a stanza before the MAC line, re-armor it in place.
  YAML::Node doc = YAML::Load(enc);
  const std::string armored = doc["sops"]["age"][0]["enc"].Scalar();
  std::string body;
  {
    std::istringstream in(armored);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("-----", 0) != 0) body += line;
    }
  }
  auto decoded = core::base64_decode(body);
  REQUIRE(decoded);
  std::string bin = *decoded;
  const size_t mac_line = bin.find("\n--- ");
  REQUIRE(mac_line != std::string::npos);
  bin.insert(mac_line + 1, "-> grease x\n\n");
  std::string b = test::base64_encode(bin);
  std::string re_armored = "-----BEGIN AGE ENCRYPTED FILE-----\n";
  for (size_t i = 0; i < b.size(); i += 64) re_armored += b.substr(i, 64) + "\n";
  re_armored += "-----END AGE ENCRYPTED FILE-----\n";
  doc["sops"]["age"][0]["enc"] = re_armored;
  auto d = release::sops::decrypt_document(doc, keys_of({k}), "h.yaml");
  CHECK_FALSE(d.ok);
  CHECK(d.error.find("h.yaml") != std::string::npos);
  CHECK(d.error.find(k.recipient) != std::string::npos);
  CHECK(d.error.find("header MAC") != std::string::npos);
}

TEST_CASE("a wrong key names the file, the recipients tried and the keys held, public keys only") {
  auto a = test::age_keygen(), b = test::age_keygen(), mine = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "w.yaml", "a: canary-wrong-1\n", {a.recipient, b.recipient});
  auto d = decrypt(enc, keys_of({mine}), "clusters/prod/w.yaml");
  CHECK_FALSE(d.ok);
  CHECK(d.error.find("clusters/prod/w.yaml") != std::string::npos);
  CHECK(d.error.find(a.recipient) != std::string::npos);
  CHECK(d.error.find(b.recipient) != std::string::npos);
  CHECK(d.error.find(mine.recipient) != std::string::npos);
  CHECK(d.error.find("AGE-SECRET-KEY") == std::string::npos);
  // No key at all says where keys come from.
  auto none = decrypt(enc, release::sops::Keys{}, "w.yaml");
  CHECK_FALSE(none.ok);
  CHECK(none.error.find("sops.age_keys") != std::string::npos);
  CHECK(none.error.find(a.recipient) != std::string::npos);
}

TEST_CASE("SOPS_AGE_KEY and SOPS_AGE_KEY_FILE are read as sops reads them") {
  auto a = test::age_keygen(), b = test::age_keygen();
  test::SopsScratch s;
  const std::string file = s.write("keys.txt", "# created: now\n" + b.identity + "\n");
  ::setenv("SOPS_AGE_KEY", a.identity.c_str(), 1);
  ::setenv("SOPS_AGE_KEY_FILE", file.c_str(), 1);
  auto loaded = release::sops::keys_from_environment();
  ::unsetenv("SOPS_AGE_KEY");
  ::unsetenv("SOPS_AGE_KEY_FILE");
  REQUIRE(loaded.error.empty());
  REQUIRE(loaded.keys.age.size() == 2);
  CHECK(loaded.keys.age[0].recipient == a.recipient);
  CHECK(loaded.keys.age[1].recipient == b.recipient);
  ::setenv("SOPS_AGE_KEY_FILE", (s.dir / "missing.txt").c_str(), 1);
  auto missing = release::sops::keys_from_environment();
  ::unsetenv("SOPS_AGE_KEY_FILE");
  CHECK(missing.error.find("SOPS_AGE_KEY_FILE") != std::string::npos);
}

TEST_CASE("a regular expression that could backtrack for ever is refused before it runs") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  const std::string enc = test::sops_encrypt(s, "r.yaml", "data:\n  x: canary-regex-1\n", {k.recipient},
                                             {"--encrypted-regex", "^(data|stringData)$"});
  REQUIRE(decrypt(enc, keys_of({k})).ok);
  for (const std::string bad : {"(a*)*b", "(a|aa)+$", "((x+))+", "(a)\\1"}) {
    INFO(bad);
    auto d = decrypt(replace_once(enc, "encrypted_regex: .*", "encrypted_regex: '" + bad + "'"), keys_of({k}), "r.yaml");
    CHECK_FALSE(d.ok);
    CHECK(d.error.find("bounded time") != std::string::npos);
  }
}
