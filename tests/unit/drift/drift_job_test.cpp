// Drift signals compare a scan with the drift JSON the previous scan stored: a release starts drifting
// (also on the first scan), stops when known again and not drifted; an unknown state (cluster unreachable)
// is neither. The remediation's job spec survives its JSON round trip; its plan forces conflicts.
#include <catch2/catch.hpp>

#include "core/job.hpp"
#include "runners/apply_remediation.hpp"
#include "runners/drift_runner.hpp"
#include "runners/drift_signals.hpp"

using namespace helmgate;
using engine::DriftState;

namespace {

engine::ClusterDrift drift_of(std::vector<std::pair<std::string, DriftState>> states) {
  engine::ClusterDrift d;
  d.cluster = "staging";
  d.observed_at = "2026-12-02T10:00:00Z";
  for (const auto& [name, st] : states) {
    engine::ReleaseDrift r;
    r.id = "staging/apps/" + name;
    r.release_name = name;
    r.namespace_ = "apps";
    r.state = st;
    if (st == DriftState::drifted) r.reasons = {"1 live object(s) differ from what Git declares"};
    d.releases.push_back(r);
  }
  return d;
}

}  // namespace

TEST_CASE("drift signals: started and stopped against the previous scan", "[unit][drift]") {
  auto first = drift_of({{"web", DriftState::drifted}, {"api", DriftState::in_sync}});
  auto c0 = runners::drift_changes("", first);
  REQUIRE(c0.size() == 1);
  CHECK(c0[0].id == "staging/apps/web");
  CHECK(c0[0].started);

  const std::string stored = engine::to_json(first);
  CHECK(runners::drift_changes(stored, first).empty());  // still drifted: nothing new

  auto later = drift_of({{"web", DriftState::in_sync}, {"api", DriftState::drifted}});
  auto c1 = runners::drift_changes(stored, later);
  REQUIRE(c1.size() == 2);
  CHECK(c1[0].id == "staging/apps/web");
  CHECK_FALSE(c1[0].started);
  CHECK(c1[0].state == "in_sync");
  CHECK(c1[1].id == "staging/apps/api");
  CHECK(c1[1].started);
  const auto text = runners::drift_message("staging", c1);
  CHECK(text ==
        "helmgate drift on staging:\nstopped drifting: staging/apps/web (now in_sync)\n"
        "started drifting: staging/apps/api (1 live object(s) differ from what Git declares)");

  // The cluster cannot be reached: unknown is neither a start nor a stop.
  auto unreachable = drift_of({{"web", DriftState::unknown}, {"api", DriftState::unknown}});
  CHECK(runners::drift_changes(engine::to_json(later), unreachable).empty());
  // Stored JSON that does not parse counts as no previous scan.
  CHECK(runners::drift_changes("{not json", later).size() == 1);

  auto comment = runners::tracking_comment(later, text);
  CHECK(comment.rfind("<!-- helmgate:drift:staging -->\n", 0) == 0);
  // The reason is Markdown-escaped text (rendered, it reads "1 live object(s) differ").
  CHECK(comment.find("- `staging/apps/api`: 1 live object\\(s\\) differ") != std::string::npos);
  CHECK(comment.find("staging/apps/web`") == std::string::npos);  // in sync now: not listed
}

TEST_CASE("drift signals: ids and reasons from the cluster cannot add links, mentions or break out of code",
          "[unit][drift]") {
  // An "extra" release's id and helm's failure text come from Secrets on the cluster, not from Git.
  engine::ClusterDrift now;
  now.cluster = "staging";
  engine::ReleaseDrift r;
  r.id = "staging/ns/a`b";
  r.state = DriftState::drifted;
  r.reasons = {"see [the fix](http://evil.example) @admins <img src=x>"};
  now.releases.push_back(r);
  const std::string changes = "started drifting: x\n```\n@admins [y](http://evil.example)";
  auto comment = runners::tracking_comment(now, changes);
  CHECK(comment.find("``staging/ns/a`b``") != std::string::npos);  // a longer backtick run around the id
  CHECK(comment.find("[the fix](http") == std::string::npos);
  CHECK(comment.find("<img") == std::string::npos);
  CHECK(comment.find(" @admins") == std::string::npos);
  CHECK(comment.find("\n````\n" + changes + "\n````\n") != std::string::npos);  // the fence outgrows the text's
  CHECK(runners::slack_text("<!channel> a & b <http://evil|click>") ==
        "&lt;!channel&gt; a &amp; b &lt;http://evil|click&gt;");
}

TEST_CASE("drift webhook: the egress policy is checked before anything is sent", "[unit][drift]") {
  core::EgressPolicy strict;
  auto r = runners::post_drift_webhook("http://127.0.0.1:9/services/T0/B0/hook-secret-path", strict, "x");
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().message.rfind("drift webhook: http://127.0.0.1:9/... refused by the egress policy", 0) == 0);
  CHECK(r.error().message.find("hook-secret-path") == std::string::npos);  // the path may be a credential
  core::EgressPolicy open_policy;
  open_policy.allow_http = true;
  open_policy.allow_private = true;
  auto down = runners::post_drift_webhook("http://127.0.0.1:9/services/T0/B0/hook-secret-path", open_policy, "x");
  REQUIRE_FALSE(down.ok());  // nobody listens on the discard port
  INFO(down.error().message);
  CHECK(down.error().message.rfind("drift webhook http://127.0.0.1:9/...: ", 0) == 0);
  CHECK(down.error().message.find("hook-secret-path") == std::string::npos);
  config::DriftSettings s;
  CHECK(runners::drift_webhook_url(s).empty());
  s.webhook_url_env = "HELMGATE_TEST_DRIFT_HOOK_UNSET_XYZ";
  CHECK(runners::drift_webhook_url(s).empty());
  ::setenv("HELMGATE_TEST_DRIFT_HOOK_XYZ", "https://hooks.example.com/T/secret", 1);
  s.webhook_url_env = "HELMGATE_TEST_DRIFT_HOOK_XYZ";
  CHECK(runners::drift_webhook_url(s) == "https://hooks.example.com/T/secret");
}

TEST_CASE("drift remediation: the job spec round trip and the forced plan", "[unit][drift]") {
  core::JobSpec spec;
  spec.kind = "apply";
  spec.repo = "platform/fleet";
  spec.after = spec.before = std::string(40, 'a');
  spec.clusters = {"staging"};
  spec.remediate = {"staging/apps/web", "staging/apps/api"};
  auto back = core::JobSpec::from_json(spec.to_json());
  REQUIRE(back.ok());
  CHECK(back->remediate == spec.remediate);
  CHECK(back->clusters == spec.clusters);
  CHECK_FALSE(core::JobSpec::from_json(R"({"kind":"apply","remediate":[1]})").ok());
  CHECK(core::JobSpec::from_json(R"({"kind":"apply"})")->remediate.empty());

  engine::PlannedRelease unchanged;
  unchanged.present = true;
  unchanged.decision = {apply::Action::none, "render unchanged"};
  runners::remediate_plan(unchanged);
  CHECK(unchanged.decision.action == apply::Action::upgrade);
  CHECK(unchanged.spec.force_conflicts);
  engine::PlannedRelease failed;
  failed.present = true;
  failed.failure = "render failed";
  runners::remediate_plan(failed);
  CHECK(failed.decision.action == apply::Action::none);
  CHECK_FALSE(failed.spec.force_conflicts);

  // Only the commit the cluster runs is remediated.
  queue::AppliedRecord other{std::string(40, 'b'), true, "job", 1};
  auto skip = runners::remediation_skip("staging", spec.after, other);
  REQUIRE(skip.has_value());
  CHECK(skip->status == engine::ClusterStatus::skipped);
  CHECK(skip->reason.find("runs bbbbbbbbbbbb now") != std::string::npos);
  queue::AppliedRecord same{spec.after, true, "job", 1};
  CHECK_FALSE(runners::remediation_skip("staging", spec.after, same).has_value());
  CHECK_FALSE(runners::remediation_skip("staging", spec.after, std::nullopt).has_value());
}

TEST_CASE("drift scan: the log line counts every state", "[unit][drift]") {
  runners::DriftScan s;
  s.cluster = "staging";
  s.commit = std::string(40, 'c');
  s.drift = drift_of({{"web", DriftState::drifted}, {"api", DriftState::in_sync}, {"db", DriftState::in_sync}});
  s.duration_ms = 812;
  CHECK(runners::scan_summary(s) ==
        "drift scan staging: 2 in_sync, 1 drifted, 0 missing, 0 failed, 0 extra, 0 unknown in 812 ms at cccccccccccc");
}
