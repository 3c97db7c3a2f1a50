// The live diff's rules without a server: Helm ownership decides whether a live object may be shown, and a
// Secret's live diff is key names with added/removed/changed/unchanged, never a value, marker or hash.
#include <catch2/catch.hpp>

#include "core/redact.hpp"
#include "security/kube/b64.hpp"
#include "engine/live_state.hpp"
#include "engine/validate.hpp"

using namespace helmgate;

namespace {

std::string object(const std::string& labels, const std::string& annotations, const std::string& rest = "") {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"team","labels":)" + labels +
         R"(,"annotations":)" + annotations + "}" + rest + "}";
}

const std::string kHelm = R"({"app.kubernetes.io/managed-by":"Helm"})";

std::string owner(const std::string& rel, const std::string& ns) {
  return R"({"meta.helm.sh/release-name":")" + rel + R"(","meta.helm.sh/release-namespace":")" + ns + R"("})";
}

using test::b64;

std::string secret(const std::map<std::string, std::string>& data, const std::string& extra_md = "") {
  std::string d;
  for (const auto& [k, v] : data) d += (d.empty() ? "" : ",") + ("\"" + k + "\":\"" + b64(v) + "\"");
  return R"({"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"s","namespace":"team")" + extra_md +
         R"(},"data":{)" + d + "}}";
}

void no_trace_of(const std::string& text, const std::string& value) {
  INFO(text);
  CHECK(text.find(value) == std::string::npos);
  CHECK(text.find(b64(value)) == std::string::npos);
  CHECK(text.find(core::secret_marker(value)) == std::string::npos);
}

}  // namespace

TEST_CASE("ownership: Helm's release annotations and managed-by label must all name this release", "[security]") {
  CHECK(engine::helm_ownership(object(kHelm, owner("web", "team")), "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership(object(kHelm, owner("web", "team")), "api", "team").owned);
  CHECK_FALSE(engine::helm_ownership(object(kHelm, owner("web", "team")), "web", "other").owned);
  CHECK_FALSE(engine::helm_ownership(object("{}", owner("web", "team")), "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership(object(R"({"app.kubernetes.io/managed-by":"kubectl"})", owner("web", "team")),
                                      "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership(object(kHelm, "{}"), "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership(object(kHelm, R"({"meta.helm.sh/release-name":"web"})"), "web", "team").owned);
  // Ownership marks in the wrong place (data, spec) do not count.
  CHECK_FALSE(engine::helm_ownership(
                  R"({"kind":"ConfigMap","metadata":{"name":"x"},"data":{"app.kubernetes.io/managed-by":"Helm",)"
                  R"("meta.helm.sh/release-name":"web","meta.helm.sh/release-namespace":"team"}})",
                  "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership("not json", "web", "team").owned);
  CHECK_FALSE(engine::helm_ownership(R"({"metadata":{"labels":[],"annotations":"x"}})", "web", "team").owned);
}

TEST_CASE("secret live diff: key names and changed/unchanged only, no value, marker or hash", "[security]") {
  const std::string live_pw = "live-password-3b1d9e", head_pw = "pr-password-c47a02", user = "service-user-88";
  kube::ObjectRef ref{"v1", "Secret", "team", "s"};
  auto d = engine::secret_live_diff(ref, secret({{"password", live_pw}, {"user", user}, {"old", "gone-value-1"}}),
                                     secret({{"password", head_pw}, {"user", user}, {"token", "new-token-value"}}));
  REQUIRE(d.has_value());
  INFO(d->diff);
  CHECK(d->change == diff::Change::changed);
  CHECK(d->key == "core/Secret/team/s");
  CHECK(d->diff.find("data.password: changed") != std::string::npos);
  CHECK(d->diff.find("data.user: unchanged") != std::string::npos);
  CHECK(d->diff.find("data.token: added") != std::string::npos);
  CHECK(d->diff.find("data.old: removed") != std::string::npos);
  for (const auto& v : {live_pw, head_pw, user, std::string("gone-value-1"), std::string("new-token-value")}) no_trace_of(d->diff, v);

  // The same live Secret against a right and a wrong guess: the text differs only in changed/unchanged.
  auto right = engine::secret_live_diff(ref, secret({{"password", live_pw}, {"x", "1"}}), secret({{"password", live_pw}, {"x", "2"}}));
  auto wrong = engine::secret_live_diff(ref, secret({{"password", live_pw}, {"x", "1"}}), secret({{"password", "guess"}, {"x", "2"}}));
  REQUIRE(right.has_value());
  REQUIRE(wrong.has_value());
  no_trace_of(right->diff, live_pw);
  no_trace_of(wrong->diff, live_pw);
  no_trace_of(wrong->diff, "guess");

  // Nothing differs: no entry at all.
  CHECK_FALSE(engine::secret_live_diff(ref, secret({{"a", "same-value"}}), secret({{"a", "same-value"}})).has_value());
  // stringData in the answer counts as data (the API server folds it).
  CHECK_FALSE(engine::secret_live_diff(
                  ref, secret({{"a", "same-value"}}),
                  R"({"kind":"Secret","type":"Opaque","metadata":{"name":"s"},"stringData":{"a":"same-value"}})")
                  .has_value());

  // A Secret that does not exist yet: its keys, added, still without values.
  auto fresh = engine::secret_live_diff(ref, std::nullopt, secret({{"password", head_pw}}));
  REQUIRE(fresh.has_value());
  CHECK(fresh->change == diff::Change::added);
  CHECK(fresh->diff.find("data.password: added") != std::string::npos);
  no_trace_of(fresh->diff, head_pw);

  // kubectl's last-applied copy (it holds the data) is neither compared nor named; other annotations by name.
  auto md = engine::secret_live_diff(
      ref,
      secret({{"a", "v-1234"}}, R"(,"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"a\":\"x\"}}","note":"one"})"),
      secret({{"a", "v-1234"}}, R"(,"annotations":{"note":"two"})"));
  REQUIRE(md.has_value());
  CHECK(md->diff.find("metadata.annotations.note: changed") != std::string::npos);
  CHECK(md->diff.find("last-applied") == std::string::npos);
  CHECK(md->diff.find("one") == std::string::npos);
  CHECK(md->diff.find("two") == std::string::npos);
}

TEST_CASE("validation output: offline only says why, in markdown and JSON", "[security]") {
  engine::ClusterValidation v;
  v.offline_note = "no preview credential";
  CHECK(engine::to_markdown(v, "dev").find("offline checks only") != std::string::npos);
  CHECK(engine::to_markdown(v, "dev").find("no preview credential") != std::string::npos);
  CHECK(engine::to_json(v, "dev").find("\"offline_only\":\"no preview credential\"") != std::string::npos);
}
