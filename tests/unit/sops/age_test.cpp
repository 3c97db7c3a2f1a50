// age v1 (src/release/sops_age): identities, armored and binary files, STREAM chunks, and the failures,
// against files made by the real age.
#include <catch2/catch.hpp>

#include "release/sops_age.hpp"
#include "support/sops_tools.hpp"

using namespace helmgate;
using release::sops::AgeDecrypted;

namespace {

std::string armor(const std::string& bin) {
  std::string body = test::base64_encode(bin), out = "-----BEGIN AGE ENCRYPTED FILE-----\n";
  for (size_t i = 0; i < body.size(); i += 64) out += body.substr(i, 64) + "\n";
  return out + "-----END AGE ENCRYPTED FILE-----\n";
}

release::sops::AgeIdentity identity(const test::AgeKeyPair& k) {
  auto id = release::sops::parse_age_identity(k.identity);
  REQUIRE(id.ok);
  return id.identity;
}

}  // namespace

TEST_CASE("an age identity from age-keygen gives age-keygen's public key") {
  auto k = test::age_keygen();
  CHECK(identity(k).recipient == k.recipient);
  // Lower case is the same key (Bech32 is case-insensitive but not mixed).
  std::string lower = k.identity;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto id = release::sops::parse_age_identity(lower);
  CHECK(id.ok);
  std::string broken = k.identity;
  broken[20] = broken[20] == 'Q' ? 'P' : 'Q';
  auto bad = release::sops::parse_age_identity(broken);
  CHECK_FALSE(bad.ok);
  CHECK(bad.error.find(k.identity.substr(16, 10)) == std::string::npos);  // never quotes the key
  auto file = release::sops::parse_age_identities("# created: now\n# public key: " + k.recipient + "\n" + k.identity + "\n", "FILE");
  REQUIRE(file.ok);
  CHECK(file.identities.size() == 1);
  auto none = release::sops::parse_age_identities("# nothing\n", "FILE");
  CHECK_FALSE(none.ok);
  CHECK(none.error.find("FILE") != std::string::npos);
}

TEST_CASE("age files made by age decrypt, armored and binary, across chunk boundaries") {
  auto k = test::age_keygen();
  test::SopsScratch s;
  for (size_t n : {size_t(0), size_t(1), size_t(32), size_t(65536), size_t(65537), size_t(2 * 65536 + 7)}) {
    std::string plain(n, '\0');
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<char>((i * 131 + 7) & 0xff);
    for (bool arm : {true, false}) {
      INFO("size " << n << (arm ? " armored" : " binary"));
      auto d = release::sops::age_decrypt(test::age_encrypt(s, plain, k.recipient, arm), {identity(k)});
      INFO(d.error);
      REQUIRE(d.status == AgeDecrypted::Status::ok);
      CHECK(d.plaintext == plain);
    }
  }
}

TEST_CASE("age: the wrong key, a tampered header, a tampered or truncated payload each fail clearly") {
  auto k = test::age_keygen(), other = test::age_keygen();
  test::SopsScratch s;
  const std::string plain(100000, 'x');
  const std::string bin = test::age_encrypt(s, plain, k.recipient, false);

  auto wrong = release::sops::age_decrypt(bin, {identity(other)});
  CHECK(wrong.status == AgeDecrypted::Status::no_identity);

  // A stanza added before the MAC line: the header MAC no longer verifies.
  const size_t mac_line = bin.find("\n--- ");
  REQUIRE(mac_line != std::string::npos);
  std::string extra = bin;
  extra.insert(mac_line + 1, "-> grease x\n\n");
  auto header = release::sops::age_decrypt(extra, {identity(k)});
  CHECK(header.status == AgeDecrypted::Status::header_mac);
  CHECK(header.error.find("header MAC") != std::string::npos);
  // The same through the armor.
  CHECK(release::sops::age_decrypt(armor(extra), {identity(k)}).status == AgeDecrypted::Status::header_mac);

  std::string flipped = bin;
  flipped[flipped.size() - 100] ^= 1;
  CHECK(release::sops::age_decrypt(flipped, {identity(k)}).status == AgeDecrypted::Status::payload);
  // Truncated at the chunk boundary: the first chunk is not marked final, so it does not verify as final.
  const size_t header_end = bin.find('\n', mac_line + 1) + 1;
  std::string cut = bin.substr(0, header_end + 16 + 65536 + 16);
  CHECK(release::sops::age_decrypt(cut, {identity(k)}).status == AgeDecrypted::Status::payload);

  // Armor that is not strict PEM is refused.
  std::string arm = armor(bin);
  std::string bad = arm;
  bad.insert(40, "\n");
  CHECK(release::sops::age_decrypt(bad, {identity(k)}).status == AgeDecrypted::Status::malformed);
  CHECK(release::sops::age_decrypt("not age at all\n", {identity(k)}).status == AgeDecrypted::Status::malformed);
  // Valid armor of the untouched file still decrypts (the checks above are the tampering, not the armor).
  CHECK(release::sops::age_decrypt(arm, {identity(k)}).plaintext == plain);
}
