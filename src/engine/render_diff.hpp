#pragma once
// The render diff of a change: every affected release rendered at base and at head (one batch on the
// renderer's pool, cache first), content that changes on every render settled, both sides parsed,
// normalized and redacted, and diffed. One ReleaseReport per affected release; the head renders are kept
// for validation against the clusters (preview) and the live diff (drift).
#include <string>
#include <vector>

#include "diff/normalize.hpp"
#include "diff/report.hpp"
#include "engine/change.hpp"
#include "engine/chart_request.hpp"
#include "engine/head_render.hpp"
#include "engine/validate.hpp"
#include "render/renderer.hpp"

namespace helmgate::engine {

struct RenderedChange {
  std::vector<diff::ReleaseReport> releases;  // in the order of Change::affected; texts scrubbed
  std::vector<HeadRender> head;               // releases that rendered at head
};

struct RenderDiffInput {
  const Change& change;
  ChartSources base, head;  // commit set to change.base / change.head
  bool helm_available = true;  // false: errc::invalid_config when anything is to be rendered
};

// A rendered Secret's value (8 characters at least) joins the redactor; every text of the result is
// scrubbed with it as it stands when that text is made (scrub the whole report at the end again:
// engine::scrub_report). Errors that leave nothing to report (helm missing) are errors; anything tied to
// one release (a chart that cannot be fetched, a failed render, unparsable output) is in its report.
core::Result<RenderedChange> render_diff(const RenderDiffInput& in, render::Renderer& renderer, diff::Redactor& redactor);

// Schema validation as Flux's action would: at head an upgrade when the release was there at base, else
// an install; the base state got there by one or the other.
bool skips_schema_validation(const release::Release& r, bool is_head, bool existed_at_base);

}  // namespace helmgate::engine
