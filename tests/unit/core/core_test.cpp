#include <catch2/catch.hpp>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/hmac.hpp"
#include "core/job.hpp"
#include "core/json.hpp"
#include "core/json_select.hpp"
#include "core/redact.hpp"

using namespace helmgate;

TEST_CASE("valid_utf8 accepts UTF-8 and refuses everything else", "[unit][core]") {
  CHECK(core::json::valid_utf8(""));
  CHECK(core::json::valid_utf8("plain ascii"));
  CHECK(core::json::valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x99\xa5 \xf0\x9f\x9a\x80"));  // été ♥ 🚀
  CHECK_FALSE(core::json::valid_utf8("\xff"));
  CHECK_FALSE(core::json::valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(core::json::valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(core::json::valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate
  CHECK_FALSE(core::json::valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(core::json::valid_utf8("ok\xe2\x99"));        // truncated at the end
}

TEST_CASE("hmac_sha256 matches RFC 4231's test vectors, short and longer-than-a-block keys", "[unit][core]") {
  auto hex = [](const core::Sha256Digest& d) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
    return out;
  };
  // Test case 2: a key shorter than the block.
  CHECK(hex(core::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a 131-byte key, hashed first.
  CHECK(hex(core::hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // A key of exactly one block is used as it is, not hashed.
  CHECK(core::hmac_sha256(std::string(64, 'k'), "x") != core::hmac_sha256(std::string(65, 'k'), "x"));
  // SHA-256 over the same fetched algorithm (FIPS 180-2's "abc" and the empty message).
  CHECK(hex(core::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(core::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("control characters are escaped when written and refused raw when read, in long strings too",
          "[unit][core]") {
  // Long enough that a 16-byte vectorised scan would meet every byte (RapidJSON 1.1.0's SSE2 scans
  // took 0x1A-0x1F for ordinary characters).
  std::string value(40, 'a');
  for (int c = 1; c < 0x20; ++c) value += static_cast<char>(c);
  value += std::string(40, 'b');
  rapidjson::StringBuffer buf;
  core::json::Writer w(buf);
  w.StartObject();
  core::json::kv(w, "k", value);
  w.EndObject();
  std::string text = buf.GetString();
  for (unsigned char c : text) CHECK(c >= 0x20);
  core::json::Document doc;
  REQUIRE_FALSE(core::json::parse(doc, text));
  CHECK(doc["k"].GetString() == value);

  const core::json::PathSet paths{"k"};
  for (int c = 1; c < 0x20; ++c) {
    INFO("byte " << c);
    std::string raw = "{\"k\":\"" + std::string(40, 'a') + static_cast<char>(c) + std::string(40, 'b') + "\"}";
    CHECK(core::json::parse(doc, raw));
    CHECK(core::json::parse_unvalidated(doc, raw));
    core::json::Selection selection(paths);
    CHECK(core::json::select(raw, selection, 64));
  }
}

TEST_CASE("dotted lookups stop at each segment", "[unit][core]") {
  core::json::Document doc;
  REQUIRE_FALSE(core::json::parse(doc, R"({"a":{"b":{"c":"deep"}},"a.b":"flat","n":7})"));
  CHECK(core::json::get_string(doc, "a.b.c") == "deep");
  CHECK_FALSE(core::json::get_string(doc, "a.b"));  // an object, not a string
  CHECK(core::json::get_int(doc, "n") == 7);
  CHECK_FALSE(core::json::get_int(doc, "a.b.c"));
  CHECK(core::json::parse(doc, "{\"x\": \"\xff\"}").has_value());            // strict parse refuses
  CHECK_FALSE(core::json::parse_unvalidated(doc, "{\"x\": \"\xff\"}").has_value());
}

TEST_CASE("job specs survive a JSON round trip", "[unit][core]") {
  core::JobSpec s;
  s.kind = "preview";
  s.forge = "github";
  s.repo = "acme/fleet";
  s.pr = 42;
  s.head_sha = std::string(40, 'a');
  s.command = "/helmgate preview \"dev\"\n";
  auto back = core::JobSpec::from_json(s.to_json());
  REQUIRE(back.ok());
  CHECK(back->to_json() == s.to_json());
  CHECK(back->coalesce_key() == "preview:github/acme/fleet#42");
  auto bad = core::JobSpec::from_json("{\"repo\":\"x\"}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "job spec: missing \"kind\"");
  CHECK(core::http_status_for(bad.error().code) == 400);
}

TEST_CASE("credentials never survive redaction", "[unit][core]") {
  CHECK(core::redact_url("redis://:hunter2@10.0.0.1:6379/0") == "redis://***@10.0.0.1:6379/0");
  CHECK(core::redact_url("https://user:tok@git.example.com/a/b.git") == "https://***@git.example.com/a/b.git");
  CHECK(core::redact_url("https://git.example.com/a@b") == "https://git.example.com/a@b");
  auto m1 = core::secret_marker("hunter2", "k1");
  CHECK(m1.find("hunter2") == std::string::npos);
  CHECK(m1 == core::secret_marker("hunter2", "k1"));
  CHECK(m1 != core::secret_marker("hunter3", "k1"));
  CHECK(m1 != core::secret_marker("hunter2", "k2"));  // keyed: not a plain hash of the value
}

TEST_CASE("base64: encoding pads to whole quads and decodes back, every byte value", "[unit][core]") {
  CHECK(core::base64_encode("") == "");
  CHECK(core::base64_encode("h") == "aA==");
  CHECK(core::base64_encode("he") == "aGU=");
  CHECK(core::base64_encode("helmgate") == "aGVsbWdhdGU=");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n <= bytes.size(); n += 37) CHECK(core::base64_decode(core::base64_encode(bytes.substr(0, n))) == bytes.substr(0, n));
}

TEST_CASE("base64: strict refuses what is not base64, lenient reads the URL-safe alphabet too", "[unit][core]") {
  CHECK(core::base64_decode("aGVsbWdhdGU=") == "helmgate");
  CHECK(core::base64_decode("aGVs\nbWdh dGU=") == "helmgate");  // whitespace and padding skipped
  CHECK_FALSE(core::base64_decode("not base64!"));
  CHECK(core::base64_decode_lenient("aGVsbWdhdGU=") == "helmgate");
  CHECK(core::base64_decode_lenient("_-8") == core::base64_decode_lenient("/+8"));  // URL-safe = standard
  CHECK(core::base64_decode_lenient("aGVs*bWdhdGU") == "helmgate");                 // stray characters skipped
}

TEST_CASE("base64: canonical accepts exactly one text per byte string", "[unit][core]") {
  using core::Base64Padding;
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  for (size_t n = 0; n <= 40; ++n) {
    const std::string padded = core::base64_encode(bytes.substr(n, n));
    std::string bare = padded;
    while (!bare.empty() && bare.back() == '=') bare.pop_back();
    CHECK(core::base64_decode_canonical(padded, Base64Padding::required) == bytes.substr(n, n));
    CHECK(core::base64_decode_canonical(bare, Base64Padding::forbidden) == bytes.substr(n, n));
    if (bare != padded) {
      CHECK_FALSE(core::base64_decode_canonical(padded, Base64Padding::forbidden));  // padding where none may be
      CHECK_FALSE(core::base64_decode_canonical(bare, Base64Padding::required));     // padding missing
    }
  }
  CHECK_FALSE(core::base64_decode_canonical("aGU", Base64Padding::required));
  CHECK_FALSE(core::base64_decode_canonical("aGVs\nbWdh", Base64Padding::forbidden));  // whitespace
  CHECK_FALSE(core::base64_decode_canonical("aGVsb", Base64Padding::forbidden));       // 1 character left over
  CHECK_FALSE(core::base64_decode_canonical("aGV=", Base64Padding::forbidden));
  CHECK_FALSE(core::base64_decode_canonical("aGU===", Base64Padding::required));
  CHECK_FALSE(core::base64_decode_canonical("_-8", Base64Padding::forbidden));         // URL-safe alphabet
  // "he" is aGU; aGV and aGW decode to the same bytes with non-zero unused bits: refused.
  CHECK(core::base64_decode_canonical("aGU", Base64Padding::forbidden) == "he");
  CHECK_FALSE(core::base64_decode_canonical("aGV", Base64Padding::forbidden));
  CHECK_FALSE(core::base64_decode_canonical("aGW=", Base64Padding::required));
  CHECK_FALSE(core::base64_decode_canonical("aB==", Base64Padding::required));  // "h" is aA==
  CHECK(core::base64_decode_canonical("aA==", Base64Padding::required) == "h");
}
