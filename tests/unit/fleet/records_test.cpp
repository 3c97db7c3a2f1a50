// Helm's release records decoded without a helm process: both base64 layers, gzip with a bound, the
// facts of a record, and the values digest as apply computes it.
#include <catch2/catch.hpp>

#include "core/redact.hpp"
#include "engine/release_records.hpp"
#include "kube/helm_records.hpp"
#include "kube/list.hpp"
#include "support/helm_record.hpp"

using namespace helmgate;

namespace {

const std::string kRelease =
    R"({"name":"podinfo","namespace":"team-a","version":3,)"
    R"("info":{"first_deployed":"2026-01-01T10:00:00Z","last_deployed":"2026-01-02T11:00:00.5Z","status":"deployed","description":"Upgrade complete"},)"
    R"("chart":{"metadata":{"name":"podinfo","version":"6.14.1","appVersion":"6.14.1"},"templates":[]},)"
    R"("config":{"replicaCount":2,"ui":{"message":"hi","ratio":1.5,"big":1e+21}},"manifest":"---\n"})";

}  // namespace

TEST_CASE("a record is decoded through both base64 layers and gzip", "[unit][fleet]") {
  auto json = kube::decode_release_data(test::helm_secret_data(kRelease), "Secret team-a/x");
  REQUIRE(json.ok());
  CHECK(*json == kRelease);

  auto rec = kube::parse_release_json(*json, "Secret team-a/x", {}, {});
  REQUIRE(rec.ok());
  CHECK(rec->name == "podinfo");
  CHECK(rec->namespace_ == "team-a");
  CHECK(rec->revision == 3);
  CHECK(rec->status == "deployed");
  CHECK(rec->chart_name == "podinfo");
  CHECK(rec->chart_version == "6.14.1");
  CHECK(rec->app_version == "6.14.1");
  CHECK(rec->last_deployed == "2026-01-02T11:00:00.5Z");
  CHECK(rec->description == "Upgrade complete");
  // JSON of a record never carries the values, only their digest.
  std::string out = kube::to_json(*rec);
  CHECK(out.find("hi") == std::string::npos);
  CHECK(out.find("values_digest") != std::string::npos);

  // An uncompressed record (helm reads those too).
  auto plain = kube::decode_release_data(test::base64(test::base64(kRelease)), "Secret team-a/y");
  REQUIRE(plain.ok());
  CHECK(*plain == kRelease);
}

TEST_CASE("the values digest is apply's: canonical typed JSON, whatever the order and spelling", "[unit][fleet]") {
  // Git's side: release::Release::values_json is canonical typed JSON (keys sorted, Go's numbers).
  const std::string values_json = R"({"replicaCount":2,"ui":{"big":1e+21,"message":"hi","ratio":1.5}})";
  auto rec = kube::parse_release_json(kRelease, "x", {}, [](const core::json::Value* c) { return engine::values_digest(c); });
  REQUIRE(rec.ok());
  CHECK(rec->values_digest == engine::values_digest(values_json));
  CHECK(rec->values_digest == core::sha256_hex(values_json));  // what apply hashes
  // 2.0 is the integer 2 (apimachinery keeps integral numbers as integers), key order does not count.
  CHECK(engine::values_digest(std::string(R"({"ui":{"ratio":1.5,"message":"hi","big":1e21},"replicaCount":2.0})")) ==
        rec->values_digest);
  CHECK(engine::values_digest(std::string(R"({"replicaCount":3,"ui":{"big":1e+21,"message":"hi","ratio":1.5}})")) !=
        rec->values_digest);
  // No values: helm omits config; Git's side is {}.
  auto none = kube::parse_release_json(R"({"name":"a","version":1,"info":{"status":"deployed"}})", "x", {},
                                       [](const core::json::Value* c) { return engine::values_digest(c); });
  REQUIRE(none.ok());
  CHECK(none->values_digest == engine::values_digest(std::string("{}")));
}

TEST_CASE("a gzip bomb is refused with an error naming the Secret, within the bound", "[unit][fleet]") {
  std::string zeros(1 << 20, '\0');
  std::string data = test::helm_secret_data(zeros, 64);  // 64 MiB inflated, a few tens of KiB stored
  CHECK(data.size() < 400'000);
  kube::DecodeLimits limits;
  limits.max_decompressed_bytes = 8u << 20;
  auto r = kube::decode_release_data(data, "Secret team-a/sh.helm.release.v1.bomb.v1", limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::make_error_code(core::errc::payload_too_large));
  CHECK(r.error().message.find("Secret team-a/sh.helm.release.v1.bomb.v1") != std::string::npos);
  CHECK(r.error().message.find("more than 8 MiB") != std::string::npos);
}

TEST_CASE("broken records are errors, never crashes", "[unit][fleet]") {
  auto not_b64 = kube::decode_release_data("!!!", "Secret a/b");
  REQUIRE_FALSE(not_b64.ok());
  CHECK(not_b64.error().message == "Secret a/b: data.release is not base64");
  auto inner = kube::decode_release_data(test::base64("%%%%"), "Secret a/b");
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.error().message.find("not helm's base64") != std::string::npos);
  std::string gz = test::gzip(kRelease);
  auto truncated = kube::decode_release_data(test::base64(test::base64(gz.substr(0, gz.size() / 2))), "Secret a/b");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().message.find("Secret a/b: cannot gunzip") != std::string::npos);
  auto not_json = kube::parse_release_json("{\"name\":", "Secret a/b", {}, {});
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().message.find("not a JSON object") != std::string::npos);
  auto no_name = kube::parse_release_json("{\"version\":1}", "Secret a/b", {}, {});
  REQUIRE_FALSE(no_name.ok());
  // Values nested past the limit are refused before any recursive walk.
  std::string deep = R"({"name":"a","version":1,"config":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  auto too_deep = kube::parse_release_json(deep, "Secret a/b", {}, [](const core::json::Value* c) { return engine::values_digest(c); });
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().message.find("nest deeper than 256") != std::string::npos);
}

TEST_CASE("list requests: selectors and continue tokens are percent-encoded", "[unit][fleet]") {
  kube::ListRequest req;
  req.group_version_path = "/api/v1";
  req.plural = "secrets";
  req.label_selector = "owner=helm";
  req.field_selector = "type=helm.sh/release.v1";
  req.page_size = 40;
  CHECK(kube::list_target(req, "") == "/api/v1/secrets?limit=40&labelSelector=owner%3Dhelm&fieldSelector=type%3Dhelm.sh%2Frelease.v1");
  req.namespace_ = "team-a";
  CHECK(kube::list_target(req, "eyJ2Ijo+/x==") ==
        "/api/v1/namespaces/team-a/secrets?limit=40&labelSelector=owner%3Dhelm&fieldSelector=type%3Dhelm.sh%2Frelease.v1"
        "&continue=eyJ2Ijo%2B%2Fx%3D%3D");
  CHECK(req.describe() == "secrets in namespace team-a (owner=helm,type=helm.sh/release.v1)");
}
