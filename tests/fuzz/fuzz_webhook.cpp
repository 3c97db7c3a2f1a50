// libFuzzer target over the webhook path: signature check + payload parsing + job decision.
// Input: first byte picks forge and event header; then a signature header line; then the body.
// Properties checked beyond "no crash": a body's own signature always verifies, every job spec survives
// a JSON round trip unchanged, and the payload's one-pass reader (core::json::select) accepts exactly the
// bodies the document parser accepts (but for the documented differences: a NUL, a leading byte order
// mark, a number too big).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/json.hpp"
#include "core/json_select.hpp"
#include "handlers/parse.hpp"
#include "handlers/signature.hpp"
#include "handlers/webhooks/payload.hpp"

namespace {
constexpr const char* kEvents[] = {"ping", "push", "pull_request", "issue_comment", "pull_request_sync",
                                   "create", "status", ""};
const helmgate::config::Config& fuzz_config() {
  static const auto cfg = helmgate::config::load_string("{}");
  return cfg;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace helmgate;
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = rest.find('\n');
  std::string_view sig = nl == std::string_view::npos ? std::string_view{} : rest.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? rest : rest.substr(nl + 1);

  std::string why;
  (void)handlers::verify_hmac_sha256("fuzz-secret", body, sig, (sel & 0x80) != 0, &why);
  if (!handlers::verify_hmac_sha256("fuzz-secret", body, handlers::sign_sha256("fuzz-secret", body), true, &why)) {
    std::abort();
  }

  const bool bom = !body.empty() && (body[0] == '\xef' || body[0] == '\xbb' || body[0] == '\xbf');
  if (body.find('\0') == std::string_view::npos && !bom) {
    core::json::Document doc;
    auto by_document = core::json::parse_bounded(doc, body, 64, false);
    core::json::Selection selection(handlers::webhooks::payload_paths());
    auto by_select = core::json::select(body, selection, 64);
    bool too_big = by_document && by_document->message.find("too big") != std::string::npos;
    if (!too_big && by_document.has_value() != by_select.has_value()) std::abort();
  }

  handlers::WebhookInput in;
  in.forge = (sel & 1) != 0 ? core::ForgeKind::gitea : core::ForgeKind::github;
  in.forge_name = (sel & 1) != 0 ? "gitea" : "github";
  in.event = kEvents[(sel >> 1) & 7];
  in.delivery = "fuzz";
  in.body = body;
  auto ev = handlers::parse_webhook(in);
  if (!ev) return 0;
  auto d = handlers::decide_jobs(*ev, fuzz_config());
  for (const auto& job : d.jobs) {
    std::string js = job.to_json();
    auto back = core::JobSpec::from_json(js);
    if (!back || back->to_json() != js) std::abort();
  }
  return 0;
}
