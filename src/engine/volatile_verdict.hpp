#pragma once
// Volatile output (diff/volatile.hpp) for the preview and the apply. The verdict is kept per render key:
// the hash of everything `helm template` is given (chart content id or archive digest, values digest,
// release name, namespace, kube and helm versions, postRenderers). That is "identical inputs" exactly; a
// verdict per chart alone would carry one set of values' randomness over to another (a chart whose
// certificate is generated only when `tls.generate` is on), and the verdict names resources by keys that
// hold the release name and namespace. A release has one render key per change of its inputs, so a chart
// is rendered a second time at most once per such change, and only when its two sides differ. Usually only
// the head is: the base's verdict was settled when the base was the head of the change that merged it.
// And only for charts that can vary: a chart directory whose files call none of sprig's random, crypto or
// clock functions (outside test hooks, which `helm template --skip-tests` leaves out), with values that
// name none either, is never rendered twice; the same for a chart pulled as an archive, scanned inside it.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "diff/report.hpp"
#include "diff/volatile.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

// The stored verdict of a render key; nullopt when none is stored.
std::optional<diff::Volatility> known_volatility(render::Renderer& renderer, const std::string& render_key);

// For each (base job, head job) pair whose renders both succeeded and differ: renders each side whose
// verdict is not known again past the cache (all at once, on the renderer's pool), compares the two
// renders and stores the verdict. Both sides, because only what changes on every render at base and at
// head is noise: a field that a change makes random (a pinned certificate replaced by a generated one) is
// a change. Returns how many requests were rendered again.
size_t settle_volatility(render::Renderer& renderer, const std::vector<render::RenderRequest>& requests,
                         const std::vector<core::Result<render::RenderResult>>& results,
                         const std::vector<std::pair<size_t, size_t>>& pairs);

// The verdict that masks one release's diff: what both sides' verdicts name (content that turned random
// in this change is a change, not noise); the head's alone when the base's could not be settled.
diff::Volatility diff_volatility(render::Renderer& renderer, const std::string& base_key, const std::string& head_key);

// Sets rr.resources (the real changes, volatile parts masked) and rr.volatiles. A release whose two
// renders differ only in volatile content is `unchanged`.
void set_release_diff(diff::ReleaseReport& rr, const std::vector<diff::Resource>& base,
                      const std::vector<diff::Resource>& head, const diff::Volatility& v);

// The digest apply records for a rendered release and compares with the last applied one. Without
// volatile content it is the hash of release name, namespace, manifest and values digest (as before);
// with some, the manifest is normalized and its volatile parts masked first, so two renders of the same
// inputs give the same digest. The values digest counts either way, as Flux's config digest does.
std::string release_digest(const std::string& release_name, const std::string& target_namespace,
                           const std::string& manifest, const std::string& values_json, const diff::Volatility& v);

// release_digest with the stored verdict of the render. When that digest differs from `applied` (so the
// decision would install or upgrade) and no verdict is stored, the request is rendered once more to find
// one (unless its chart cannot vary): content that changes on every render alone never upgrades, and the
// digest recorded after an install or upgrade is already the masked one.
struct ApplyDigest {
  std::string digest;
  bool rendered_again = false;  // a second render settled the verdict
  bool masked = false;          // the verdict named volatile content
};
ApplyDigest apply_digest(render::Renderer& renderer, const render::RenderRequest& request,
                         const render::RenderResult& rendered, const std::string& release_name,
                         const std::string& target_namespace, const std::string& values_json,
                         const std::string& applied);

}  // namespace helmgate::engine
