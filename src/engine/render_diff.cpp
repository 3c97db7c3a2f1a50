#include "engine/render_diff.hpp"

#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "diff/scope.hpp"
#include "engine/volatile_verdict.hpp"

namespace helmgate::engine {

namespace {

diff::Problem to_problem(const release::Problem& p) { return {p.message, p.where.file, p.where.line, p.where.column}; }

using Side = std::pair<size_t, bool>;  // (index in affected, is_head)

// The batch of one change: render requests by side, and why a side could not be prepared.
struct Batch {
  std::vector<render::RenderRequest> requests;
  std::map<Side, size_t> job_of;
  std::map<Side, std::string> prep_errors;
  std::vector<core::Result<render::RenderResult>> results;
  const core::Result<render::RenderResult>* result(size_t i, bool is_head) const {
    auto it = job_of.find({i, is_head});
    return it == job_of.end() ? nullptr : &results[it->second];
  }
  std::string key(size_t i, bool is_head) const {
    auto* r = result(i, is_head);
    return r == nullptr || !*r ? std::string() : (*r)->key;
  }
};

// What failed, where: the first problems met reading the path (max of them).
void add_failure(diff::ReleaseReport& rr, const diff::Redactor& redactor, const std::string& what,
                 const std::vector<release::Problem>& why, size_t max) {
  if (why.empty()) {
    rr.errors.push_back({redactor.scrub(what), "", 0, 0});
    return;
  }
  for (size_t k = 0; k < why.size() && k < max; ++k) {
    auto p = to_problem(why[k]);
    p.message = redactor.scrub(what + ": " + p.message);
    rr.errors.push_back(p);
  }
}

void add_side_failures(diff::ReleaseReport& rr, const release::Affected& x, const diff::Redactor& redactor) {
  // The others are in the report's errors for head; for base they are not shown elsewhere, so all of them.
  if (x.head_failed) {
    add_failure(rr, redactor, "[head] the manifests of this release could not be read at head (it is not shown as removed)",
                x.head_problems, 1);
  }
  if (x.base_failed) {
    add_failure(rr, redactor,
                "[base] the manifests of this release could not be read at base, so head cannot be compared with it "
                "(it is not shown as added)",
                x.base_problems, 3);
  }
  if (!x.head_sync_fails.empty()) {
    add_failure(rr, redactor,
                "[head] the sync of path " + x.head_sync_fails +
                    " would fail as a whole (Flux fails the Kustomization that applies it); the diff shows what it "
                    "would apply once the path can be read",
                x.head_problems, 1);
  }
}

diff::ReleaseReport release_report(const release::Affected& x, size_t i, const Batch& batch, render::Renderer& renderer,
                                   diff::Redactor& redactor, const diff::Scopes& scopes) {
  const release::Release* any = x.head != nullptr ? x.head : x.base;
  diff::ReleaseReport rr;
  rr.cluster = any->cluster;
  rr.namespace_ = any->namespace_;
  rr.name = any->name;
  rr.release_name = any->release_name;
  rr.target_namespace = any->target_namespace;
  rr.chart = any->chart.describe();
  rr.reasons = x.reasons;
  rr.notes = any->notes;
  rr.status = x.base == nullptr   ? diff::ReleaseStatus::added
              : x.head == nullptr ? (x.head_failed ? diff::ReleaseStatus::error : diff::ReleaseStatus::removed)
                                  : diff::ReleaseStatus::changed;
  add_side_failures(rr, x, redactor);
  std::vector<diff::Resource> sides[2];
  // A side whose manifests could not be read is unknown, not empty: no "everything removed/added".
  bool side_ok[2] = {!x.base_failed, !x.head_failed};
  for (bool is_head : {false, true}) {
    const release::Release* r = is_head ? x.head : x.base;
    if (r == nullptr) continue;
    std::string label = is_head ? "head" : "base";
    for (const auto& e : r->errors) {
      auto p = to_problem(e);
      p.message = redactor.scrub("[" + label + "] " + p.message);
      rr.errors.push_back(p);
      side_ok[is_head] = false;
    }
    if (auto pe = batch.prep_errors.find({i, is_head}); pe != batch.prep_errors.end()) {
      rr.errors.push_back({redactor.scrub("[" + label + "] " + pe->second), r->where.file, r->where.line, 0});
      side_ok[is_head] = false;
      continue;
    }
    const auto* res = batch.result(i, is_head);
    if (res == nullptr) continue;
    if (!*res) {
      rr.errors.push_back({redactor.scrub("[" + label + "] " + res->error().message), r->where.file, r->where.line, 0});
      side_ok[is_head] = false;
      continue;
    }
    diff::ParseOptions po;
    po.redactor = &redactor;
    po.default_namespace = r->target_namespace;
    po.scopes = &scopes;
    po.source = "helm template " + r->release_name + " (" + label + ")";
    std::vector<std::string> rendered_secrets;
    po.secret_values = &rendered_secrets;
    auto parsed = diff::parse_manifest((*res)->manifest, po);
    // A template may copy a rendered Secret's value anywhere (an annotation, a ConfigMap): every output
    // is scrubbed with this redactor at the end. Charts put short, common words in Secrets too ("admin",
    // "true", "5432"): scrubbing those everywhere would blank half the diff, so 8 characters at least.
    for (const auto& v : rendered_secrets) {
      if (v.size() >= 8) redactor.add_sensitive(v);
    }
    if (!parsed) {
      rr.errors.push_back({redactor.scrub(parsed.error().message), r->where.file, r->where.line, 0});
      side_ok[is_head] = false;
      continue;
    }
    sides[is_head] = std::move(parsed.value());
  }
  // A side that failed to render must not show up as "everything removed/added".
  if (side_ok[0] && side_ok[1]) {
    set_release_diff(rr, sides[0], sides[1], diff_volatility(renderer, batch.key(i, false), batch.key(i, true)));
  }
  if (!rr.errors.empty()) rr.status = diff::ReleaseStatus::error;
  return rr;
}

}  // namespace

bool skips_schema_validation(const release::Release& r, bool is_head, bool existed_at_base) {
  if (!is_head) return r.install_checks.skip_schema_validation || r.upgrade_checks.skip_schema_validation;
  return r.checks_for(!existed_at_base).skip_schema_validation;
}

core::Result<RenderedChange> render_diff(const RenderDiffInput& in, render::Renderer& renderer, diff::Redactor& redactor) {
  const auto& aff = in.change.affected;
  Batch batch;
  for (size_t i = 0; i < aff.size(); ++i) {
    for (bool is_head : {false, true}) {
      const release::Release* r = is_head ? aff[i].head : aff[i].base;
      if (r == nullptr || !r->errors.empty()) continue;
      auto req = render_request(*r, is_head ? in.head : in.base);
      if (!req) {
        batch.prep_errors[{i, is_head}] = req.error().message;
        continue;
      }
      req->skip_schema_validation = skips_schema_validation(*r, is_head, aff[i].base != nullptr);
      batch.job_of[{i, is_head}] = batch.requests.size();
      batch.requests.push_back(std::move(*req));
    }
  }
  if (!batch.requests.empty() && !in.helm_available) {
    return core::Error(core::errc::invalid_config, "helm not found: set HELMGATE_HELM or put helm on PATH");
  }
  batch.results = renderer.render_all(batch.requests);
  // Two sides that render differently: is some of it content that changes on every render?
  std::vector<std::pair<size_t, size_t>> sides_of;
  for (size_t i = 0; i < aff.size(); ++i) {
    auto b = batch.job_of.find({i, false}), h = batch.job_of.find({i, true});
    if (b != batch.job_of.end() && h != batch.job_of.end()) sides_of.emplace_back(b->second, h->second);
  }
  settle_volatility(renderer, batch.requests, batch.results, sides_of);
  // Scopes of the custom kinds the rendered CRDs declare: resources are keyed with their effective namespace.
  diff::Scopes scopes;
  for (const auto& res : batch.results) {
    if (res) scopes.add_crds(res->manifest);
  }
  std::set<std::tuple<std::string, std::string, std::string>> at_base;  // cluster, release name, namespace
  for (const auto& r : in.change.at_base.releases) at_base.emplace(r.cluster, r.release_name, r.target_namespace);

  RenderedChange out;
  for (size_t i = 0; i < aff.size(); ++i) {
    out.releases.push_back(release_report(aff[i], i, batch, renderer, redactor, scopes));
    const release::Release* h = aff[i].head;
    const auto* res = batch.result(i, true);
    if (h == nullptr || res == nullptr || !*res) continue;
    out.head.push_back({h->cluster, h->id(), h->release_name, h->target_namespace, (*res)->manifest,
                        creates_namespace(*h), at_base.count({h->cluster, h->release_name, h->target_namespace}) != 0,
                        kube::service_account(h->namespace_, h->spec.service_account_name())});
  }
  return out;
}

}  // namespace helmgate::engine
