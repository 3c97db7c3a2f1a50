// The webhook table: every forge kind has an entry, each entry's headers and verifier answer what the
// route answered before the table (the 401 reasons byte for byte), and the per-forge parsers differ only
// where the forges do.
#include <catch2/catch.hpp>

#include <map>

#include "core/forge_kind.hpp"
#include "handlers/parse.hpp"
#include "handlers/signature.hpp"
#include "handlers/webhooks/forges.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {

handlers::HeaderLookup headers(std::map<std::string, std::string> h) {
  return [h = std::move(h)](std::string_view name) {
    auto it = h.find(std::string(name));
    return it == h.end() ? std::string() : it->second;
  };
}

bool verify(const handlers::WebhookForge& f, const handlers::HeaderLookup& h, std::string_view secret,
            std::string_view body, std::string* why) {
  return f.verify(h, f.signature_headers, secret, body, why);
}

const handlers::WebhookForge& entry(core::ForgeKind k) {
  const auto* f = handlers::webhook_forge(k);
  REQUIRE(f != nullptr);
  return *f;
}

}  // namespace

TEST_CASE("every forge kind has one webhook entry", "[unit][handlers]") {
  for (const auto& info : core::forge_kinds()) {
    INFO(info.name);
    const auto& f = entry(info.kind);
    CHECK(f.kind == info.kind);
    CHECK_FALSE(f.event_headers.empty());
    CHECK_FALSE(f.delivery_headers.empty());
    CHECK_FALSE(f.signature_headers.empty());
    CHECK(f.verify != nullptr);
    CHECK(f.parse != nullptr);
  }
  CHECK(handlers::webhook_forges().size() == core::forge_kinds().size());
}

TEST_CASE("GitHub deliveries: X-Hub-Signature-256 with its prefix, GitHub's headers", "[unit][handlers]") {
  const auto& gh = entry(core::ForgeKind::github);
  const std::string body = R"({"zen":"hi"})";
  const std::string sig = handlers::sign_sha256("s3cret", body);
  std::string why;
  CHECK(verify(gh, headers({{"X-Hub-Signature-256", sig}}), "s3cret", body, &why));
  CHECK_FALSE(verify(gh, headers({}), "s3cret", body, &why));
  CHECK(why == "missing X-Hub-Signature-256 header");
  // GitHub never signs without the prefix, and X-Gitea-Signature means nothing to it.
  CHECK_FALSE(verify(gh, headers({{"X-Hub-Signature-256", sig.substr(7)}}), "s3cret", body, &why));
  CHECK(why == "signature header must start with 'sha256='");
  CHECK_FALSE(verify(gh, headers({{"X-Gitea-Signature", sig.substr(7)}}), "s3cret", body, &why));
  CHECK(why == "missing X-Hub-Signature-256 header");
  CHECK_FALSE(verify(gh, headers({{"X-Hub-Signature-256", sig}}), "other", body, &why));
  CHECK(why == "signature does not match the payload (check the webhook secret)");

  auto h = headers({{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "d-1"}, {"X-Gitea-Event", "ping"}});
  CHECK(handlers::first_header(h, gh.event_headers) == "push");
  CHECK(handlers::first_header(h, gh.delivery_headers) == "d-1");
}

TEST_CASE("Gitea deliveries: X-Hub-Signature-256 first, else bare X-Gitea-Signature, Gitea headers first",
          "[unit][handlers]") {
  const auto& gt = entry(core::ForgeKind::gitea);
  const std::string body = R"({"ref":"refs/heads/main"})";
  const std::string sig = handlers::sign_sha256("s3cret", body);
  std::string why;
  CHECK(verify(gt, headers({{"X-Gitea-Signature", sig.substr(7)}}), "s3cret", body, &why));
  CHECK(verify(gt, headers({{"X-Hub-Signature-256", sig}}), "s3cret", body, &why));
  CHECK_FALSE(verify(gt, headers({}), "s3cret", body, &why));
  CHECK(why == "missing X-Hub-Signature-256 or X-Gitea-Signature header");
  // The prefixed header is checked when present, whatever X-Gitea-Signature says.
  CHECK_FALSE(
      verify(gt, headers({{"X-Hub-Signature-256", sig.substr(7)}, {"X-Gitea-Signature", sig.substr(7)}}), "s3cret",
                body, &why));
  CHECK(why == "signature header must start with 'sha256='");

  CHECK(handlers::first_header(headers({{"X-Gitea-Event", "push"}, {"X-GitHub-Event", "ping"}}), gt.event_headers) ==
        "push");
  CHECK(handlers::first_header(headers({{"X-GitHub-Event", "ping"}}), gt.event_headers) == "ping");
  CHECK(handlers::first_header(headers({{"X-GitHub-Delivery", "d-2"}}), gt.delivery_headers) == "d-2");
  CHECK(handlers::first_header(headers({}), gt.delivery_headers).empty());
}

TEST_CASE("each forge's parser keeps its own spellings", "[unit][handlers]") {
  auto body = test::read_file(test::corpus("gitea-webhooks/go-scm/pull_request_synchronized.json"));
  auto gitea = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "pull_request_sync", "", body});
  REQUIRE(gitea.ok());
  CHECK(gitea->kind == core::EventKind::pull_request);
  CHECK(gitea->action == "synchronize");
  // Neither the event name nor the action spelling is GitHub's: a GitHub forge does not take them.
  auto github = handlers::parse_webhook({core::ForgeKind::github, "github", "pull_request_sync", "", body});
  REQUIRE(github.ok());
  CHECK(github->kind == core::EventKind::other);
  github = handlers::parse_webhook({core::ForgeKind::github, "github", "pull_request", "", body});
  REQUIRE(github.ok());
  CHECK(github->action == "synchronized");

  // The missing-event message names the forge's own header.
  auto r = handlers::parse_webhook({core::ForgeKind::gitea, "gitea", "", "", "{}"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "missing X-Gitea-Event header");
}
