// Signature vectors published by GitHub's docs and octokit (../shared/corpora/github-webhooks/signature-vectors).
#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "handlers/signature.hpp"
#include "support/support.hpp"

using namespace helmgate;

TEST_CASE("published HMAC-SHA256 vectors verify and any one-byte change fails", "[unit][handlers]") {
  const std::string dir = test::corpus("github-webhooks/signature-vectors/");
  core::json::Document doc;
  REQUIRE_FALSE(core::json::parse(doc, test::read_file(dir + "vectors.json")));
  REQUIRE(doc.IsArray());
  REQUIRE(doc.Size() >= 4);
  for (const auto& v : doc.GetArray()) {
    std::string name = v["name"].GetString();
    std::string secret = v["secret"].GetString();
    std::string sig = v["x_hub_signature_256"].GetString();
    std::string payload = test::read_file(dir + v["payload_file"].GetString());
    INFO(name);
    std::string why;
    CHECK(handlers::verify_hmac_sha256(secret, payload, sig, true, &why));
    CHECK(handlers::sign_sha256(secret, payload) == sig);
    // Gitea's X-Gitea-Signature carries the same digest without the prefix.
    CHECK(handlers::verify_hmac_sha256(secret, payload, sig.substr(7), false, &why));

    for (size_t i = 0; i < payload.size(); ++i) {
      std::string changed = payload;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      CHECK_FALSE(handlers::verify_hmac_sha256(secret, changed, sig, true, &why));
    }
    std::string wrong_secret = secret + "x";
    CHECK_FALSE(handlers::verify_hmac_sha256(wrong_secret, payload, sig, true, &why));
    CHECK(why.find("does not match") != std::string::npos);
  }
}

TEST_CASE("malformed signature headers are rejected with a reason", "[unit][handlers]") {
  std::string why;
  CHECK_FALSE(handlers::verify_hmac_sha256("s", "body", "", true, &why));
  CHECK_FALSE(handlers::verify_hmac_sha256("s", "body", "sha1=abcdef", true, &why));
  CHECK(why.find("sha256=") != std::string::npos);
  CHECK_FALSE(handlers::verify_hmac_sha256("s", "body", "sha256=zz", true, &why));
  CHECK(why.find("64 hex") != std::string::npos);
  std::string sig = handlers::sign_sha256("s", "body");
  std::string upper = sig;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  CHECK(handlers::verify_hmac_sha256("s", "body", upper, true, &why));
  sig[20] = sig[20] == 'g' ? 'a' : 'g';
  CHECK_FALSE(handlers::verify_hmac_sha256("s", "body", sig, true, &why));
  CHECK(why == "signature is not hexadecimal");
}
