// Every answer of the webhook endpoints and the jobs API, against a real Redis.
#include <catch2/catch.hpp>

#include <thread>

#include "core/json.hpp"
#include "harness.hpp"
#include "support/support.hpp"

using namespace helmgate;
using test::Harness;

namespace {

core::json::Document parse_json(const std::string& body) {
  core::json::Document doc;
  auto err = core::json::parse(doc, body);
  if (err) FAIL("response is not JSON: " << *err << ": " << body);
  return doc;
}

std::vector<std::string> job_ids(const std::string& body) {
  auto doc = parse_json(body);
  std::vector<std::string> out;
  for (const auto& v : doc["jobs"].GetArray()) out.emplace_back(v.GetString());
  return out;
}

std::string pr_payload(const std::string& head_sha, const std::string& action = "synchronize") {
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/synchronize.payload.json"));
  auto doc = parse_json(body);
  auto& a = doc["action"];
  a.SetString(action.c_str(), static_cast<rapidjson::SizeType>(action.size()), doc.GetAllocator());
  doc["pull_request"]["head"]["sha"].SetString(head_sha.c_str(), static_cast<rapidjson::SizeType>(head_sha.size()),
                                                doc.GetAllocator());
  return core::json::to_string(doc);
}

}  // namespace

TEST_CASE("a signed pull_request is enqueued durably and answered 202 with the job id", "[redis][http]") {
  Harness h;
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/synchronize.payload.json"));
  auto r = h.post_webhook("github", "pull_request", body, "delivery-1");
  REQUIRE(r.status == 202);
  auto ids = job_ids(r.body);
  REQUIRE(ids.size() == 1);

  queue::Queue q(h.url, h.opts);
  auto job = q.get(ids[0]);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  CHECK((*job)->spec.kind == "preview");
  CHECK((*job)->state == "queued");
  CHECK((*job)->spec.delivery_id == "delivery-1");

  SECTION("a redelivery answers 200 with the original ids and enqueues nothing") {
    auto again = h.post_webhook("github", "pull_request", body, "delivery-1");
    CHECK(again.status == 200);
    CHECK(job_ids(again.body) == ids);
    CHECK(parse_json(again.body)["status"].GetString() == std::string("duplicate"));
    auto all = q.list({});
    REQUIRE(all.ok());
    CHECK(all->size() == 1);
  }
}

TEST_CASE("a newer head supersedes the queued preview of the same PR", "[redis][http]") {
  Harness h;
  auto first = h.post_webhook("github", "pull_request", pr_payload(std::string(40, 'a')), "d-a");
  REQUIRE(first.status == 202);
  auto second = h.post_webhook("github", "pull_request", pr_payload(std::string(40, 'b')), "d-b");
  REQUIRE(second.status == 202);
  auto old_id = job_ids(first.body).at(0);
  auto new_id = job_ids(second.body).at(0);
  CHECK(old_id != new_id);
  auto doc = parse_json(second.body);
  REQUIRE(doc["superseded"].Size() == 1);
  CHECK(doc["superseded"][0].GetString() == old_id);

  queue::Queue q(h.url, h.opts);
  auto old_job = q.get(old_id);
  REQUIRE((old_job.ok() && old_job->has_value()));
  CHECK((*old_job)->state == "superseded");
  CHECK((*old_job)->superseded_by == new_id);
}

TEST_CASE("Gitea deliveries with X-Gitea-Signature are accepted", "[redis][http]") {
  Harness h;
  std::string body = test::read_file(test::corpus("gitea-webhooks/go-scm/pull_request_opened.json"));
  auto r = h.post_webhook("gitea", "pull_request", body, "gitea-1");
  CHECK(r.status == 202);
  CHECK(job_ids(r.body).size() == 1);
}

TEST_CASE("webhook error answers", "[redis][http]") {
  Harness h(64 * 1024);
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/opened.payload.json"));

  SECTION("401 when the signature is missing") {
    auto r = h.post_webhook("github", "pull_request", body, "x", false);
    CHECK(r.status == 401);
    CHECK(r.body.find("missing X-Hub-Signature-256") != std::string::npos);
  }
  SECTION("401 and 400 bodies per forge, exactly as before the webhook table") {
    CHECK(h.post_webhook("github", "pull_request", body, "x", false).body ==
          R"({"error":"missing X-Hub-Signature-256 header"})" "\n");
    CHECK(h.post_webhook("gitea", "pull_request", body, "x", false).body ==
          R"({"error":"missing X-Hub-Signature-256 or X-Gitea-Signature header"})" "\n");
    // Gitea: a prefixed X-Hub-Signature-256 is checked first; Gitea's GitHub-style headers are understood.
    auto r = http::request("POST", h.base() + "/webhooks/gitea",
                           {{"Content-Type", "application/json"}, {"X-GitHub-Event", "pull_request"},
                            {"X-Hub-Signature-256", handlers::sign_sha256(test::kGiteaSecret, body).substr(7)}},
                           body);
    REQUIRE(r.ok());
    CHECK(r->status == 401);
    CHECK(r->body == R"({"error":"signature header must start with 'sha256='"})" "\n");
    r = http::request("POST", h.base() + "/webhooks/gitea",
                      {{"Content-Type", "application/json"},
                       {"X-Hub-Signature-256", handlers::sign_sha256(test::kGiteaSecret, body)}},
                      body);
    REQUIRE(r.ok());
    CHECK(r->status == 400);
    CHECK(r->body == R"({"error":"missing X-Gitea-Event header"})" "\n");
    auto gh = h.post_webhook("github", "", body, "x");
    CHECK(gh.status == 400);
    CHECK(gh.body == R"({"error":"missing X-GitHub-Event header"})" "\n");
  }
  SECTION("401 when the signature is wrong") {
    auto r = http::request("POST", h.base() + "/webhooks/github",
                           {{"Content-Type", "application/json"}, {"X-GitHub-Event", "pull_request"},
                            {"X-Hub-Signature-256", handlers::sign_sha256("not-the-secret", body)}},
                           body);
    REQUIRE(r.ok());
    CHECK(r->status == 401);
    CHECK(r->body.find("does not match") != std::string::npos);
    CHECK(r->body.find(test::kGithubSecret) == std::string::npos);
  }
  SECTION("400 with the reason for a malformed payload") {
    auto r = h.post_webhook("github", "pull_request", "{\"action\":\"opened\"", "x");
    CHECK(r.status == 400);
    CHECK(r.body.find("not valid JSON") != std::string::npos);
    auto r2 = h.post_webhook("github", "pull_request", R"({"action":"opened","repository":{"full_name":"a/b"}})", "y");
    CHECK(r2.status == 400);
    CHECK(r2.body.find("field 'number'") != std::string::npos);
  }
  SECTION("413 over the body limit") {
    std::string big(70 * 1024, ' ');
    auto r = h.post_webhook("github", "pull_request", big, "x");
    CHECK(r.status == 413);
    CHECK(r.body.find("exceeds the limit") != std::string::npos);
  }
  SECTION("415 for a content type other than JSON") {
    auto r = h.post_webhook("github", "pull_request", body, "x", true, "text/plain");
    CHECK(r.status == 415);
  }
  SECTION("form-encoded deliveries are understood") {
    std::string form = "payload=" + std::string("%7B%22zen%22%3A%22hi%22%2C%22hook_id%22%3A1%7D");
    auto r = h.post_webhook("github", "ping", form, "x", true, "application/x-www-form-urlencoded");
    CHECK(r.status == 200);
    CHECK(r.body.find("pong") != std::string::npos);
  }
  SECTION("200 for ping and for events that need no job") {
    auto ping = h.post_webhook("github", "ping", test::read_file(test::corpus("github-webhooks/octokit/ping/payload.json")), "p");
    CHECK(ping.status == 200);
    CHECK(parse_json(ping.body)["status"].GetString() == std::string("pong"));
    auto closed = h.post_webhook(
        "github", "pull_request", test::read_file(test::corpus("github-webhooks/octokit/pull_request/closed.payload.json")), "c");
    CHECK(closed.status == 200);
    CHECK(parse_json(closed.body)["status"].GetString() == std::string("ignored"));
  }
  SECTION("404 for an unknown forge, 405 for GET") {
    auto r = http::request("POST", h.base() + "/webhooks/gitlab", {}, "{}");
    CHECK(r->status == 404);
    auto g = http::request("GET", h.base() + "/webhooks/github");
    CHECK(g->status == 405);
  }
}

TEST_CASE("503 when Redis cannot take the job, and readiness follows Redis", "[redis][http]") {
  Harness h;
  CHECK(h.api("GET", "/readyz", "").status == 200);
  h.redis.stop();
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/opened.payload.json"));
  auto r = h.post_webhook("github", "pull_request", body, "during-outage");
  CHECK(r.status == 503);
  CHECK(r.body.find("redeliver") != std::string::npos);
  CHECK(h.api("GET", "/readyz", "").status == 503);
  CHECK(h.api("GET", "/healthz", "").status == 200);

  h.redis.start();
  // The forge's redelivery of the same delivery id now succeeds: nothing was recorded during the outage.
  auto again = h.post_webhook("github", "pull_request", body, "during-outage");
  CHECK(again.status == 202);
  CHECK(h.api("GET", "/readyz", "").status == 200);
}

TEST_CASE("jobs API: authentication, list, get, replay", "[redis][http]") {
  Harness h;
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/opened.payload.json"));
  auto id = job_ids(h.post_webhook("github", "pull_request", body, "api-1").body).at(0);

  CHECK(h.api("GET", "/api/v1/jobs", "").status == 401);
  CHECK(h.api("GET", "/api/v1/jobs", "wrong-token").status == 401);
  CHECK(h.api("POST", "/api/v1/jobs/" + id + "/replay", "").status == 401);

  auto list = h.api("GET", "/api/v1/jobs?state=queued&kind=preview&limit=10");
  REQUIRE(list.status == 200);
  auto doc = parse_json(list.body);
  REQUIRE(doc["jobs"].Size() == 1);
  CHECK(doc["jobs"][0]["id"].GetString() == id);
  CHECK(h.api("GET", "/api/v1/jobs?state=finished").status == 400);
  CHECK(h.api("GET", "/api/v1/jobs?limit=0").status == 400);
  CHECK(parse_json(h.api("GET", "/api/v1/jobs?kind=apply").body)["jobs"].Size() == 0);

  auto one = h.api("GET", "/api/v1/jobs/" + id);
  REQUIRE(one.status == 200);
  auto job = parse_json(one.body);
  CHECK(job["state"].GetString() == std::string("queued"));
  CHECK(job["spec"]["pr"].GetInt64() > 0);
  CHECK(job["log"].IsArray());
  CHECK(job["attempts"].GetInt64() == 0);
  CHECK(h.api("GET", "/api/v1/jobs/does-not-exist").status == 404);

  // A job still waiting to run is not replayed (it will run anyway).
  auto early = h.api("POST", "/api/v1/jobs/" + id + "/replay");
  CHECK(early.status == 409);

  // A worker without runners fails the job clearly instead of dropping it; then it can be replayed.
  {
    queue::WorkerOptions wo;
    wo.worker_id = "api-test-worker";
    queue::Worker w(h.url, h.opts, wo, {});
    w.start();
    for (int i = 0; i < 200; ++i) {
      auto j = parse_json(h.api("GET", "/api/v1/jobs/" + id).body);
      if (j["state"].GetString() == std::string("dead")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    w.stop();
    w.join();
  }
  auto dead = parse_json(h.api("GET", "/api/v1/jobs/" + id).body);
  CHECK(dead["state"].GetString() == std::string("dead"));
  CHECK(dead["error"].GetString() == std::string("no runner for kind preview"));
  CHECK(parse_json(h.api("GET", "/api/v1/jobs?state=dead").body)["jobs"].Size() == 1);

  auto rep = h.api("POST", "/api/v1/jobs/" + id + "/replay");
  REQUIRE(rep.status == 202);
  auto rdoc = parse_json(rep.body);
  std::string new_id = rdoc["job"].GetString();
  CHECK(new_id != id);
  auto replayed = parse_json(h.api("GET", "/api/v1/jobs/" + new_id).body);
  CHECK(replayed["replay_of"].GetString() == id);
  CHECK(h.api("POST", "/api/v1/jobs/nope/replay").status == 404);
}

TEST_CASE("metrics expose requests by route and code, jobs by state and kind, queue depth", "[redis][http]") {
  Harness h;
  std::string body = test::read_file(test::corpus("github-webhooks/octokit/pull_request/opened.payload.json"));
  REQUIRE(h.post_webhook("github", "pull_request", body, "m-1").status == 202);
  REQUIRE(h.post_webhook("github", "pull_request", body, "m-2", false).status == 401);
  auto m = h.api("GET", "/metrics", "");
  REQUIRE(m.status == 200);
  CHECK(m.body.find("helmgate_http_requests_total{route=\"/webhooks/github\",code=\"202\"} 1") != std::string::npos);
  CHECK(m.body.find("helmgate_http_requests_total{route=\"/webhooks/github\",code=\"401\"} 1") != std::string::npos);
  CHECK(m.body.find("helmgate_jobs_total{state=\"queued\",kind=\"preview\"} 1") != std::string::npos);
  CHECK(m.body.find("helmgate_queue_depth{queue=\"waiting\"} 1") != std::string::npos);
  CHECK(m.body.find("helmgate_job_duration_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
  CHECK(m.body.find("helmgate_redis_up 1") != std::string::npos);
  // The one delivery went out on the I/O thread's connection or (while that was opening) on the background
  // thread's, in one call (two when the script had to be loaded first).
  auto sample = [&](const std::string& name) {
    auto at = m.body.find(name + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(m.body.substr(at + name.size() + 1));
  };
  CHECK(sample("helmgate_enqueue_deliveries_total{path=\"io_thread\"}") +
            sample("helmgate_enqueue_deliveries_total{path=\"background\"}") ==
        1);
  const double calls = sample("helmgate_enqueue_calls_total{path=\"io_thread\"}") +
                       sample("helmgate_enqueue_calls_total{path=\"background\"}");
  CHECK(calls >= 1);
  CHECK(calls <= 2);
}
