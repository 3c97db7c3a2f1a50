#include "engine/plan.hpp"

#include "engine/volatile_verdict.hpp"
#include "engine/validate.hpp"

namespace helmgate::engine {

PlannedRelease plan_release(const release::Affected& a, const Observed& observed, const ChartSources& head,
                            render::Renderer& renderer, const std::string& commit, const OwnershipRules* rules) {
  const release::Release* r = a.head != nullptr ? a.head : a.base;
  PlannedRelease p;
  p.id = r->id();
  p.release_name = r->release_name;
  p.namespace_ = r->target_namespace;
  p.present = a.head != nullptr;
  p.spec.id = r->id();
  p.spec.release_name = r->release_name;
  p.spec.namespace_ = r->target_namespace;
  // Flux's spec.serviceAccountName: helm acts as that service account of the HelmRelease's namespace (an
  // uninstall as the one the deploy branch declared). The ownership entry's identity, when set, replaces it.
  const OwnershipRules none;
  const kube::Impersonation as = release_identity(rules != nullptr ? *rules : none, *r);
  p.spec.as_user = as.user;
  p.spec.as_groups = as.groups;
  if (rules != nullptr && !rules->error.empty()) {  // fail closed: no rule is known, so nothing is allowed
    p.failure = "refused: the ownership rules cannot be read: " + rules->error;
    return p;
  }
  if (auto why = rules != nullptr && a.head != nullptr ? placement_problem(*rules, *r) : std::string(); !why.empty()) {
    p.failure = "refused by the ownership rules: " + why;
    return p;
  }
  if (a.head == nullptr && a.head_failed) {
    p.failure = "its manifests could not be read at " + commit.substr(0, 12) + "; not uninstalled";
    return p;
  }
  if (!a.head_sync_fails.empty()) {
    // Flux fails the sync of a path with a malformed file as a whole: nothing of it is applied.
    const release::Problem* why = a.head_problems.empty() ? nullptr : &a.head_problems.front();
    p.failure = "path " + a.head_sync_fails + " cannot be read in full at " + commit.substr(0, 12) +
                (why == nullptr ? std::string()
                                : " (" + why->where.file + (why->where.line > 0 ? ":" + std::to_string(why->where.line) : "") +
                                      ": " + why->message + ")") +
                "; not applied, as Flux fails the sync of the whole path";
    return p;
  }
  apply::Desired desired;
  if (a.head != nullptr) {
    desired.present = true;
    if (!r->errors.empty()) {
      p.failure = r->errors.front().message;
      return p;
    }
    if (!r->post_render_kustomization.empty()) {
      p.failure = "postRenderers are not applied by helmgate yet; apply this release with Flux or without postRenderers";
      return p;
    }
    auto req = render_request(*r, head);
    // Installed or not decides the action (apply::determine_release_action): the render validates as that
    // action will. Also the preview's render of the head (same flag when the release existed at its base),
    // so the apply finds it in the render cache instead of rendering again.
    const bool installed = observed.helm.count(r->target_namespace + "/" + r->release_name) != 0;
    if (req) req->skip_schema_validation = r->checks_for(!installed).skip_schema_validation;
    if (!req) {
      p.failure = "chart " + r->chart.describe() + ": " + req.error().message;
      return p;
    }
    auto rendered = renderer.render(*req);
    if (!rendered) {
      p.failure = rendered.error().message;
      return p;
    }
    if (auto bad = manifest_identity_problem(rendered->manifest); !bad.empty()) {
      p.failure = "refused: the rendered manifest has an object that breaks Kubernetes' naming rules: " + bad;
      return p;
    }
    // The digest that decides upgrades: the render with its names and the typed values (as Flux's values
    // digest: "1.10" -> 1.10 upgrades even when the chart renders both the same); content that changes on
    // every render (a generated certificate) is masked, so alone it never upgrades.
    std::string applied;
    if (auto it = observed.digests.find(r->id()); it != observed.digests.end()) applied = it->second;
    auto digest = apply_digest(renderer, *req, *rendered, r->release_name, r->target_namespace, r->values_json, applied);
    desired.digest = digest.digest;
    desired.volatile_masked = digest.masked;
    p.spec.chart_args = helm_chart_args(req->chart);
    p.spec.values_json = r->values_json;
    p.spec.digest = desired.digest;
    p.spec.create_namespace = creates_namespace(*r);
  }
  apply::Observed seen;
  if (auto it = observed.digests.find(r->id()); it != observed.digests.end()) seen.applied_digest = it->second;
  if (auto it = observed.helm.find(r->target_namespace + "/" + r->release_name); it != observed.helm.end()) {
    seen.installed = true;
    seen.status = it->second.status;
    seen.apply_method = it->second.apply_method;
    // What helm says the latest revision deployed wins over the record in Redis: an apply whose worker
    // died after helm finished, before recording, is not applied again when the job is retried.
    if (auto d = apply::digest_from_description(it->second.description); !d.empty()) seen.applied_digest = d;
  }
  p.decision = apply::determine_release_action(desired, seen, observed.prune);
  // Flux's spec.install/upgrade.disableSchemaValidation and disableOpenAPIValidation: the flags of the
  // action about to run.
  const bool installing = p.decision.action == apply::Action::install;
  const release::Release::ActionChecks& checks = r->checks_for(installing);
  p.spec.skip_schema_validation = checks.skip_schema_validation;
  if (installing || p.decision.action == apply::Action::upgrade) {
    p.spec.disable_openapi_validation =
        checks.skip_openapi_validation ||
        apply::server_checks_manifests(p.decision.action, seen, renderer.helm_version());
  }
  return p;
}

}  // namespace helmgate::engine
