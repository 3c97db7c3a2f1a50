#include "handlers/routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "core/json.hpp"
#include "core/redact.hpp"
#include "core/time.hpp"
#include "handlers/fleet_api.hpp"
#include "handlers/parse.hpp"
#include "handlers/signature.hpp"
#include "handlers/ui/pages.hpp"
#include "handlers/webhooks/forges.hpp"

namespace helmgate::handlers {
namespace {

namespace json = core::json;
using http::Context;
using http::error_response;
using http::json_response;
using http::Responder;
using verb = http::beast_http::verb;

std::string ids_json(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += json::quote(ids[i]);
  }
  return out + "]";
}

std::string media_type(const std::string& content_type) {
  std::string mt = content_type.substr(0, content_type.find(';'));
  while (!mt.empty() && mt.back() == ' ') mt.pop_back();
  std::transform(mt.begin(), mt.end(), mt.begin(), [](unsigned char c) { return std::tolower(c); });
  return mt;
}

// GitHub can send "application/x-www-form-urlencoded" with the JSON in a `payload` field.
std::optional<std::string> form_payload(std::string_view body) {
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    if (pair.substr(0, 8) == "payload=") return http::url_decode(pair.substr(8));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

bool bearer_token_ok(std::string_view authorization, std::string_view token) {
  constexpr std::string_view prefix = "Bearer ";
  // No early return on the presented value's length or content: the comparison of the whole header with
  // the expected one runs over fixed-size digests (core::constant_time_equal).
  const bool configured = !token.empty();
  std::string expected = std::string(prefix) + std::string(token);
  bool equal = core::constant_time_equal(authorization, expected);
  return configured && equal;
}

namespace {

bool bearer_ok(const Context& ctx, const std::string& token) { return bearer_token_ok(ctx.header("Authorization"), token); }

http::Response unauthorized(std::string_view why) {
  auto res = error_response(401, why);
  res.set(http::beast_http::field::www_authenticate, "Bearer realm=\"helmgate\"");
  return res;
}

void handle_webhook(App& app, const config::Forge& forge, const std::shared_ptr<Context>& ctx, Responder respond) {
  const auto& body = ctx->request.body();
  const WebhookForge* wf = webhook_forge(forge.kind);
  if (wf == nullptr) {
    return respond(error_response(500, "forge kind " + std::string(core::to_string(forge.kind)) + " takes no webhooks"));
  }
  const HeaderLookup header = [&ctx](std::string_view name) { return ctx->header(name); };

  // 1. Authenticity first: nothing about an unsigned request is looked at further.
  std::string why;
  if (!wf->verify(header, wf->signature_headers, forge.webhook_secret, body, &why)) {
    spdlog::warn("webhook {}: rejected delivery {}: {}", forge.name, first_header(header, wf->delivery_headers), why);
    return respond(error_response(401, why));
  }

  // 2. Shape.
  std::string mt = media_type(ctx->header("Content-Type"));
  std::string form_json;
  std::string_view payload = body;
  if (mt == "application/x-www-form-urlencoded") {
    auto p = form_payload(body);
    if (!p) return respond(error_response(400, "form-encoded delivery has no 'payload' field"));
    form_json = std::move(*p);
    payload = form_json;
  } else if (mt != "application/json") {
    return respond(error_response(415, "Content-Type must be application/json (got '" + mt + "')"));
  }

  WebhookInput in;
  in.forge = forge.kind;
  in.forge_name = forge.name;
  in.event = first_header(header, wf->event_headers);
  in.delivery = first_header(header, wf->delivery_headers);
  if (in.delivery.size() > 200) return respond(error_response(400, "delivery id longer than 200 characters"));
  in.body = payload;
  auto ev = parse_webhook(in);
  if (!ev) return respond(error_response(400, ev.error().message));

  // 3. Decide and durably enqueue before answering.
  Decision d = decide_jobs(*ev, app.cfg);
  if (d.jobs.empty()) {
    spdlog::info("webhook {}: delivery {} event={} action={} repo={}: no job ({})", forge.name, in.delivery, in.event,
                 ev->action, ev->repo.full_name, d.reason);
    std::string status = ev->kind == core::EventKind::ping ? "pong" : "ignored";
    return respond(json_response(200, "{\"status\":" + json::quote(status) + ",\"reason\":" + json::quote(d.reason) +
                                          ",\"jobs\":[]}"));
  }
  std::string dedupe = in.delivery.empty() ? std::string() : forge.name + ":" + in.delivery;
  std::string summary = fmt::format("webhook {}: delivery {} event={} action={} repo={}", forge.name, in.delivery,
                                    in.event, ev->action, ev->repo.full_name);
  app.enqueuer.enqueue(std::move(d.jobs), std::move(dedupe),
                       [respond = std::move(respond), summary](core::Result<queue::EnqueueOutcome> r) {
                         if (!r) {
                           spdlog::error("{}: job queue unavailable, answering 503: {}", summary, r.error().message);
                           return respond(error_response(503, "job queue unavailable, redeliver later: " +
                                                                  r.error().message));
                         }
                         const auto& out = *r;
                         if (out.duplicate) {
                           spdlog::info("{}: redelivery, original jobs {}", summary, fmt::join(out.ids, ","));
                           return respond(json_response(200, "{\"status\":\"duplicate\",\"jobs\":" + ids_json(out.ids) + "}"));
                         }
                         spdlog::info("{}: enqueued {}{}", summary, fmt::join(out.ids, ","),
                                      out.superseded.empty() ? "" : fmt::format(" (supersedes {})", fmt::join(out.superseded, ",")));
                         respond(json_response(202, "{\"status\":\"accepted\",\"jobs\":" + ids_json(out.ids) +
                                                        ",\"superseded\":" + ids_json(out.superseded) + "}"));
                       },
                       ctx->io);
}

void handle_list(App& app, const std::shared_ptr<Context>& ctx, Responder respond) {
  static const std::set<std::string, std::less<>> states = {"queued", "active", "retrying", "succeeded", "dead",
                                                             "superseded"};
  queue::ListFilter filter;
  filter.state = ctx->query("state");
  filter.kind = ctx->query("kind");
  filter.repo = ctx->query("repo");
  if (!filter.state.empty() && states.count(filter.state) == 0) {
    return respond(error_response(400, "state must be one of queued, active, retrying, succeeded, dead, superseded"));
  }
  std::string limit = ctx->query("limit");
  if (!limit.empty()) {
    if (limit.size() > 4 || limit.find_first_not_of("0123456789") != std::string::npos || std::stoi(limit) < 1 ||
        std::stoi(limit) > 1000) {
      return respond(error_response(400, "limit must be a number from 1 to 1000"));
    }
    filter.limit = static_cast<size_t>(std::stoi(limit));
  }
  app.queries.post([filter, respond = std::move(respond)](queue::Queue& q) {
    auto r = q.list(filter);
    if (!r) return respond(error_response(503, "job store unavailable: " + r.error().message));
    std::string body = "{\"jobs\":[";
    for (size_t i = 0; i < r->size(); ++i) {
      if (i > 0) body += ',';
      body += job_to_json((*r)[i], false);
    }
    body += "]}";
    respond(json_response(200, std::move(body)));
  });
}

void handle_get(App& app, const std::shared_ptr<Context>& ctx, Responder respond) {
  std::string id = ctx->params.at("id");
  app.queries.post([id, respond = std::move(respond)](queue::Queue& q) {
    auto r = q.get(id, true);
    if (!r) return respond(error_response(503, "job store unavailable: " + r.error().message));
    if (!r->has_value()) return respond(error_response(404, "no job " + id));
    respond(json_response(200, job_to_json(**r, true)));
  });
}

void handle_replay(App& app, const std::shared_ptr<Context>& ctx, Responder respond) {
  std::string id = ctx->params.at("id");
  app.queries.post([id, respond = std::move(respond)](queue::Queue& q) {
    auto r = q.replay(id);
    if (!r) {
      unsigned status = r.error().code == core::errc::not_found ? 404 : core::http_status_for(r.error().code);
      return respond(error_response(status, r.error().message));
    }
    spdlog::info("api: job {} replays {}", *r, id);
    respond(json_response(202, "{\"status\":\"accepted\",\"job\":" + json::quote(*r) + ",\"replay_of\":" +
                                   json::quote(id) + "}"));
  });
}

void write_queue_metrics(http::PromWriter& w, const queue::Stats& s) {
  // The queue counts transitions into each state (never decremented), so this is a counter:
  // rate(helmgate_jobs_total{state="dead"}[5m]) is the dead-letter rate. Current depths are below.
  w.family("helmgate_jobs_total", "counter", "Jobs that entered each state, by kind.");
  for (const auto& [key, n] : s.by_state_kind) {
    w.sample("helmgate_jobs_total", {{"state", key.first}, {"kind", key.second}}, static_cast<double>(n));
  }
  w.family("helmgate_queue_depth", "gauge", "Jobs waiting in each queue list.");
  w.sample("helmgate_queue_depth", {{"queue", "waiting"}}, static_cast<double>(s.waiting));
  w.sample("helmgate_queue_depth", {{"queue", "delayed"}}, static_cast<double>(s.delayed));
  w.sample("helmgate_queue_depth", {{"queue", "active"}}, static_cast<double>(s.active));
  w.sample("helmgate_queue_depth", {{"queue", "dead"}}, static_cast<double>(s.dead));
  w.family("helmgate_job_duration_seconds", "histogram", "Time a job ran, from claim to completion.");
  for (size_t i = 0; i < s.duration_buckets_s.size() && i < s.duration_counts.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", s.duration_buckets_s[i]);
    w.sample("helmgate_job_duration_seconds_bucket", {{"le", le}}, static_cast<double>(s.duration_counts[i]));
  }
  w.sample("helmgate_job_duration_seconds_bucket", {{"le", "+Inf"}}, static_cast<double>(s.duration_count));
  w.sample("helmgate_job_duration_seconds_sum", {}, s.duration_sum_s);
  w.sample("helmgate_job_duration_seconds_count", {}, static_cast<double>(s.duration_count));
}

void write_enqueue_metrics(http::PromWriter& w, const queue::AsyncEnqueuer::Counts& c) {
  // Deliveries over calls is the batch size; the background path serving steadily means the I/O threads
  // cannot keep their own connections to Redis.
  w.family("helmgate_enqueue_calls_total", "counter",
           "Enqueue script calls sent, by connection: an I/O thread's own (io_thread) or the background thread's.");
  w.sample("helmgate_enqueue_calls_total", {{"path", "io_thread"}}, static_cast<double>(c.io_calls));
  w.sample("helmgate_enqueue_calls_total", {{"path", "background"}}, static_cast<double>(c.background_calls));
  w.family("helmgate_enqueue_deliveries_total", "counter", "Webhook deliveries those calls carried.");
  w.sample("helmgate_enqueue_deliveries_total", {{"path", "io_thread"}}, static_cast<double>(c.io_deliveries));
  w.sample("helmgate_enqueue_deliveries_total", {{"path", "background"}},
           static_cast<double>(c.background_deliveries));
}

}  // namespace

std::string job_to_json(const queue::JobRecord& j, bool with_log) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::kv(w, "id", j.id);
  json::kv(w, "kind", j.spec.kind);
  json::kv(w, "state", j.state);
  json::kv(w, "repo", j.spec.repo);
  json::kv(w, "attempts", static_cast<int64_t>(j.attempts));
  json::kv(w, "max_attempts", static_cast<int64_t>(j.max_attempts));
  auto time_field = [&](const char* k, int64_t ms) {
    json::write_str(w, k);
    if (ms > 0) {
      json::write_str(w, core::utc_rfc3339_ms(ms));
    } else {
      w.Null();
    }
  };
  time_field("created_at", j.created_ms);
  time_field("updated_at", j.updated_ms);
  time_field("started_at", j.started_ms);
  time_field("finished_at", j.finished_ms);
  time_field("next_run_at", j.next_run_ms);
  auto opt = [&](const char* k, const std::string& v) {
    json::write_str(w, k);
    if (v.empty()) {
      w.Null();
    } else {
      json::write_str(w, v);
    }
  };
  opt("worker", j.worker);
  opt("replay_of", j.replay_of);
  opt("superseded_by", j.superseded_by);
  opt("error", j.error);
  json::write_str(w, "result");
  json::Document result;
  if (!j.result.empty() && !json::parse(result, j.result)) {
    result.Accept(w);
  } else if (j.result.empty()) {
    w.Null();
  } else {
    json::write_str(w, j.result);
  }
  json::write_str(w, "spec");
  json::Document spec;
  if (!json::parse(spec, j.spec.to_json())) spec.Accept(w);
  else w.Null();
  if (with_log) {
    json::write_str(w, "log");
    w.StartArray();
    for (const auto& line : j.log) json::write_str(w, line);
    w.EndArray();
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

void install_routes(http::Router& router, App& app) {
  for (const auto& forge : app.cfg.forges) {
    router.add(verb::post, "/webhooks/" + forge.name, [&app, &forge](std::shared_ptr<Context> ctx, Responder respond) {
      handle_webhook(app, forge, ctx, std::move(respond));
    });
  }

  auto authed = [&app](void (*fn)(App&, const std::shared_ptr<Context>&, Responder)) {
    return [&app, fn](std::shared_ptr<Context> ctx, Responder respond) {
      if (ctx->header("Authorization").empty()) return respond(unauthorized("missing Authorization: Bearer <token>"));
      if (!bearer_ok(*ctx, app.cfg.api_token)) return respond(unauthorized("invalid API token"));
      fn(app, ctx, std::move(respond));
    };
  };
  router.add(verb::get, "/api/v1/jobs", authed(handle_list));
  router.add(verb::get, "/api/v1/jobs/{id}", authed(handle_get));
  router.add(verb::post, "/api/v1/jobs/{id}/replay", authed(handle_replay));
  install_fleet_api(router, app);
  install_ui(router, app);

  router.add(verb::get, "/healthz", [](std::shared_ptr<Context>, Responder respond) {
    respond(json_response(200, "{\"status\":\"ok\"}"));
  });
  router.add(verb::get, "/readyz", [&app](std::shared_ptr<Context>, Responder respond) {
    app.queries.post([respond = std::move(respond)](queue::Queue& q) {
      auto r = q.ping();
      if (!r) return respond(json_response(503, "{\"status\":\"unavailable\",\"redis\":" + json::quote(r.error().message) + "}"));
      respond(json_response(200, "{\"status\":\"ready\",\"redis\":\"ok\"}"));
    });
  });
  router.add(verb::get, "/metrics", [&app](std::shared_ptr<Context>, Responder respond) {
    app.queries.post([&app, respond = std::move(respond)](queue::Queue& q) {
      http::PromWriter w;
      app.requests.write(w);
      auto stats = q.stats();
      w.family("helmgate_redis_up", "gauge", "1 when the job store answered this scrape.");
      w.sample("helmgate_redis_up", {}, stats ? 1 : 0);
      if (stats) write_queue_metrics(w, *stats);
      write_enqueue_metrics(w, app.enqueuer.counts());
      if (app.fleet != nullptr) {
        auto fleet = load_fleet(*app.fleet);
        if (fleet) write_fleet_metrics(w, *fleet);
      }
      respond(http::text_response(200, w.take(), "text/plain; version=0.0.4; charset=utf-8"));
    });
  });
}

}  // namespace helmgate::handlers
