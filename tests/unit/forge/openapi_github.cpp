#include "openapi_github.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/pointer.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/json.hpp"
#include "forge/github/app_auth.hpp"
#include "support/support.hpp"

namespace helmgate::test {

namespace json = core::json;
using json::Value;

std::string github_openapi_path() {
  std::string common = read_file(source_dir() + "/scripts/lib/common.sh");
  std::smatch m;
  if (!std::regex_search(common, m, std::regex("OCTOKIT_OPENAPI_VERSION=([0-9.]+)"))) {
    throw std::runtime_error("scripts/lib/common.sh does not pin OCTOKIT_OPENAPI_VERSION");
  }
  const char* cache = std::getenv("HELMGATE_CACHE");
  const char* home = std::getenv("HOME");
  std::string dir = cache && *cache ? cache : std::string(home ? home : "/root") + "/.cache/helmgate";
  std::string path = dir + "/tools/octokit-openapi-" + m[1].str() + "/generated/api.github.com.json";
  if (!std::ifstream(path)) {
    throw std::runtime_error(path + " is missing: run scripts/bootstrap (it fetches @octokit/openapi " + m[1].str() + ")");
  }
  return path;
}

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

const json::Document& spec() {
  static json::Document doc = [] {
    json::Document d;
    std::string text = read_file(github_openapi_path());
    if (auto err = json::parse(d, text)) throw std::runtime_error("api.github.com.json: " + *err);
    return d;
  }();
  return doc;
}

const Value& resolve(const Value& v) {
  if (v.IsObject() && v.HasMember("$ref") && v["$ref"].IsString()) {
    std::string ref = v["$ref"].GetString();
    const Value* target = rapidjson::Pointer(ref.substr(1).c_str()).Get(spec());
    if (!target) throw std::runtime_error("unresolvable $ref " + ref);
    return resolve(*target);
  }
  return v;
}

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : p) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

std::string type_of(const Value& v) {
  if (v.IsString()) return "string";
  if (v.IsBool()) return "boolean";
  if (v.IsInt64() || v.IsUint64()) return "integer";
  if (v.IsNumber()) return "number";
  if (v.IsArray()) return "array";
  if (v.IsObject()) return "object";
  return "null";
}

// Problems of body against schema: required fields, declared types, enums, maxLength, unknown fields
// where additionalProperties is false. Alternatives (oneOf/anyOf) must be met by at least one.
std::string check_schema(const Value& body, const Value& schema_in, const std::string& where) {
  const Value& schema = resolve(schema_in);
  for (const char* alt : {"oneOf", "anyOf"}) {
    if (schema.HasMember(alt) && schema[alt].IsArray()) {
      std::string all;
      for (const auto& s : schema[alt].GetArray()) {
        auto p = check_schema(body, s, where);
        if (p.empty()) return {};
        all += (all.empty() ? "" : " | ") + p;
      }
      return where + " matches none of the " + alt + " alternatives: " + all;
    }
  }
  if (schema.HasMember("allOf") && schema["allOf"].IsArray()) {
    for (const auto& s : schema["allOf"].GetArray()) {
      if (auto p = check_schema(body, s, where); !p.empty()) return p;
    }
  }
  if (schema.HasMember("type") && schema["type"].IsString()) {
    std::string want = schema["type"].GetString();
    std::string got = type_of(body);
    bool nullable = schema.HasMember("nullable") && schema["nullable"].IsBool() && schema["nullable"].GetBool();
    bool ok = want == got || (want == "number" && got == "integer") || (nullable && got == "null");
    if (!ok) return where + " is " + got + ", the description says " + want;
  }
  if (schema.HasMember("enum") && schema["enum"].IsArray() && !body.IsNull()) {
    bool found = false;
    for (const auto& e : schema["enum"].GetArray()) found = found || e == body;
    if (!found) return where + " = " + json::to_string(body) + " is not one of the enum values";
  }
  if (body.IsString() && schema.HasMember("maxLength") && schema["maxLength"].IsUint() &&
      body.GetStringLength() > schema["maxLength"].GetUint()) {
    return where + " is longer than maxLength";
  }
  if (body.IsObject()) {
    if (schema.HasMember("required") && schema["required"].IsArray()) {
      for (const auto& r : schema["required"].GetArray()) {
        if (!body.HasMember(r.GetString())) return where + " lacks required field '" + r.GetString() + "'";
      }
    }
    const Value* props = schema.HasMember("properties") ? &schema["properties"] : nullptr;
    bool closed = schema.HasMember("additionalProperties") && schema["additionalProperties"].IsBool() &&
                  !schema["additionalProperties"].GetBool();
    for (const auto& m : body.GetObject()) {
      std::string key = m.name.GetString();
      if (props && props->HasMember(key.c_str())) {
        if (auto p = check_schema(m.value, (*props)[key.c_str()], where + "." + key); !p.empty()) return p;
      } else if (closed) {
        return where + " has field '" + key + "' the description does not declare";
      }
    }
  }
  return {};
}

std::string verify_jwt(const std::string& jwt, const std::string& public_pem, const std::string& issuer,
                       std::chrono::system_clock::time_point now) {
  auto d1 = jwt.find('.');
  auto d2 = jwt.find('.', d1 == std::string::npos ? 0 : d1 + 1);
  if (d1 == std::string::npos || d2 == std::string::npos) return "not a JWT";
  std::string header = forge::github::base64url_decode(jwt.substr(0, d1));
  std::string payload = forge::github::base64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1));
  std::string sig = forge::github::base64url_decode(jwt.substr(d2 + 1));
  json::Document h, p;
  if (json::parse(h, header) || json::get_string(h, "alg").value_or("") != "RS256") return "JWT header is not RS256";
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const std::string signed_part = jwt.substr(0, d2);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1) {
    return "JWT signature does not verify with the app's public key";
  }
  if (json::parse(p, payload)) return "JWT payload is not JSON";
  auto iss = json::get_string(p, "iss");
  auto iat = json::get_int(p, "iat");
  auto exp = json::get_int(p, "exp");
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (iss.value_or("") != issuer) return "JWT iss is not the app id";
  if (!iat || !exp || *iat > t || *exp <= t || *exp - *iat > 600) return "JWT iat/exp out of GitHub's bounds";
  return {};
}

}  // namespace

struct OpenApiGitHub::Impl {
  Options options;
  mutable std::mutex mu;
  std::vector<Seen> seen;
  struct Fault {
    unsigned status;
    http::Headers headers;
    std::string body;
  };
  std::deque<Fault> faults;
  struct StoredComment {
    int64_t id;
    int64_t issue;
    std::string body;
    std::string author = "helmgate[bot]";
  };
  struct StoredReview {
    int64_t id;
    int64_t pr;
    std::string user, commit_id, state;
  };
  std::vector<StoredReview> reviews;
  struct StoredPull {
    std::string head_sha;
    bool mergeable = true;
  };
  std::map<int64_t, StoredPull> pulls;
  std::map<int64_t, StoredComment> comments;
  int64_t next_id = 1000;
  struct StoredStatus {
    int64_t id;
    std::string sha, state, context, description, target_url;
  };
  std::vector<StoredStatus> statuses;
  std::map<std::string, std::string> permissions;
  std::map<std::string, std::chrono::system_clock::time_point> tokens;  // issued installation tokens
  int jwt_ok = 0;
  int64_t rate_remaining = 5000;

  static std::string example_of(const Value& op, unsigned* status) {
    const Value& responses = op["responses"];
    unsigned best = 999;
    const Value* chosen = nullptr;
    for (const auto& r : responses.GetObject()) {
      unsigned code = static_cast<unsigned>(std::atoi(r.name.GetString()));
      if (code >= 200 && code < 300 && code < best) {
        best = code;
        chosen = &resolve(r.value);
      }
    }
    *status = best == 999 ? 200 : best;
    if (!chosen || !chosen->HasMember("content")) return {};
    const Value& content = (*chosen)["content"];
    if (!content.HasMember("application/json")) return "{}";
    const Value& media = content["application/json"];
    if (media.HasMember("examples") && media["examples"].MemberCount() > 0) {
      const Value& ex = resolve(media["examples"].MemberBegin()->value);
      if (ex.HasMember("value")) return json::to_string(ex["value"]);
    }
    return "{}";
  }

  // The operation's example with some fields replaced.
  static std::string with(const std::string& example, const std::function<void(json::Document&)>& edit) {
    json::Document d;
    json::parse(d, example);
    edit(d);
    return json::to_string(d);
  }

  static void set(json::Document& d, const char* key, const std::string& v) {
    rapidjson::Value s(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), d.GetAllocator());
    if (d.HasMember(key)) {
      d[key] = s;
    } else {
      d.AddMember(rapidjson::Value(key, d.GetAllocator()), s, d.GetAllocator());
    }
  }
  static void set_int(json::Document& d, const char* key, int64_t v) {
    if (d.HasMember(key)) {
      d[key].SetInt64(v);
    } else {
      d.AddMember(rapidjson::Value(key, d.GetAllocator()), rapidjson::Value(v), d.GetAllocator());
    }
  }

  http::Response answer(unsigned status, std::string body, const http::Headers& extra = {}) {
    http::Response res{static_cast<boost::beast::http::status>(status), 11};
    res.set(boost::beast::http::field::content_type, "application/json; charset=utf-8");
    res.set("x-ratelimit-limit", "5000");
    res.set("x-ratelimit-remaining", std::to_string(rate_remaining));
    res.set("x-ratelimit-reset", "4102444800");
    res.set("x-ratelimit-resource", "core");
    for (const auto& [k, v] : extra) res.set(k, v);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  http::Response handle(const http::Context& ctx, const Value& path_item, const Value& op) {
    std::lock_guard lock(mu);
    Seen s;
    s.method = std::string(ctx.request.method_string());
    s.target = std::string(ctx.request.target());
    s.operation_id = op["operationId"].GetString();
    s.at = std::chrono::duration<double>(options.clock->now().time_since_epoch()).count();
    const std::string op_id = s.operation_id;
    const auto& body_text = ctx.request.body();

    // Query parameters must be declared by the operation (or its path).
    std::set<std::string> declared;
    for (const Value* params : {op.HasMember("parameters") ? &op["parameters"] : nullptr,
                                path_item.HasMember("parameters") ? &path_item["parameters"] : nullptr}) {
      if (!params) continue;
      for (const auto& p : params->GetArray()) {
        const Value& rp = resolve(p);
        if (std::string(rp["in"].GetString()) == "query") declared.insert(rp["name"].GetString());
      }
    }
    std::string target(ctx.request.target());
    if (auto q = target.find('?'); q != std::string::npos) {
      std::stringstream qs(target.substr(q + 1));
      for (std::string pair; std::getline(qs, pair, '&');) {
        std::string key = pair.substr(0, pair.find('='));
        if (!declared.count(key)) s.problem = "query parameter '" + key + "' is not declared for " + op_id;
      }
    }
    if (ctx.header("User-Agent").empty()) s.problem = "no User-Agent (GitHub rejects such requests)";
    if (ctx.header("Accept") != "application/vnd.github+json") s.problem = "Accept is not application/vnd.github+json";

    json::Document body;
    if (op.HasMember("requestBody")) {
      const Value& rb = resolve(op["requestBody"]);
      bool required = rb.HasMember("required") && rb["required"].GetBool();
      if (body_text.empty()) {
        if (required) s.problem = op_id + " requires a body";
      } else if (json::parse(body, body_text)) {
        s.problem = "body is not JSON";
      } else if (ctx.header("Content-Type").rfind("application/json", 0) != 0) {
        s.problem = "body sent without Content-Type: application/json";
      } else {
        auto p = check_schema(body, rb["content"]["application/json"]["schema"], "body");
        if (!p.empty()) s.problem = op_id + ": " + p;
      }
    } else if (!body_text.empty()) {
      s.problem = op_id + " takes no body";
    }

    // Identity: the JWT for the token exchange, a PAT or a live installation token for the rest.
    std::string auth = ctx.header("Authorization");
    auto now = options.clock->wall_now();
    bool authorized = false;
    bool installation = false;
    if (op_id == "apps/create-installation-access-token" || op_id == "apps/get-authenticated") {
      std::string problem = auth.rfind("Bearer ", 0) == 0
                                ? verify_jwt(auth.substr(7), options.app_public_key_pem, options.app_id, now)
                                : "no Bearer JWT";
      authorized = problem.empty();
      if (authorized) ++jwt_ok;
      if (!authorized) s.problem = problem;
    } else if (auth.rfind("Bearer ", 0) == 0) {
      std::string t = auth.substr(7);
      authorized = (!options.pat.empty() && t == options.pat) || (tokens.count(t) && tokens[t] > now);
      installation = authorized && !(!options.pat.empty() && t == options.pat);
    }
    seen.push_back(s);
    if (!s.problem.empty()) return answer(400, json::quote(s.problem).insert(0, "{\"message\":") + "}");
    if (!authorized) return answer(401, R"({"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"})");
    if (!faults.empty()) {
      auto f = faults.front();
      faults.pop_front();
      return answer(f.status, f.body, f.headers);
    }
    --rate_remaining;

    unsigned status = 200;
    std::string example = example_of(op, &status);
    // Who the caller is: a PAT is the user "helmgate[bot]" here; an installation token is the app
    // "helmgate" and posts as "helmgate[bot]"; GitHub refuses GET /user to an installation token.
    if (op_id == "users/get-authenticated") {
      if (installation) return answer(403, R"({"message":"Resource not accessible by integration"})");
      return answer(status, with(example, [&](json::Document& d) { d["login"].SetString("helmgate[bot]", d.GetAllocator()); }));
    }
    if (op_id == "apps/get-authenticated") return answer(status, with(example, [&](json::Document& d) { set(d, "slug", "helmgate"); }));
    if (op_id == "pulls/get") {
      int64_t n = std::stoll(ctx.params.at("pull_number"));
      auto it = pulls.find(n);
      if (it == pulls.end()) return answer(404, R"({"message":"Not Found"})");
      return answer(status, with(example, [&](json::Document& d) {
                      set_int(d, "number", n);
                      set(d, "state", "open");
                      d["merged"].SetBool(false);
                      d["merged_at"].SetNull();
                      d["mergeable"].SetBool(it->second.mergeable);
                      d["head"]["sha"].SetString(it->second.head_sha.c_str(), d.GetAllocator());
                    }));
    }
    if (op_id == "pulls/list-reviews") {
      int64_t n = std::stoll(ctx.params.at("pull_number"));
      int per_page = ctx.query("per_page").empty() ? 30 : std::stoi(ctx.query("per_page"));
      int page = ctx.query("page").empty() ? 1 : std::stoi(ctx.query("page"));
      std::string item = json::to_string(resolve(resolve(op["responses"]["200"])["content"]["application/json"]["examples"]["default"])["value"][0]);
      std::string out = "[";
      int index = 0;
      for (const auto& r : reviews) {
        if (r.pr != n) continue;
        if (index >= (page - 1) * per_page && index < page * per_page) {
          out += (out.size() > 1 ? "," : "") + with(item, [&](json::Document& d) {
                   set_int(d, "id", r.id);
                   set(d, "state", r.state);
                   set(d, "commit_id", r.commit_id);
                   d["user"]["login"].SetString(r.user.c_str(), d.GetAllocator());
                 });
        }
        ++index;
      }
      return answer(status, out + "]");
    }
    if (op_id == "issues/create-comment") {
      int64_t id = next_id++;
      comments[id] = {id, std::stoll(ctx.params.at("issue_number")), *json::get_string(body, "body")};
      return answer(status, comment_json(example, comments[id]));
    }
    if (op_id == "issues/list-comments") {
      int64_t issue = std::stoll(ctx.params.at("issue_number"));
      int per_page = ctx.query("per_page").empty() ? 30 : std::stoi(ctx.query("per_page"));
      int page = ctx.query("page").empty() ? 1 : std::stoi(ctx.query("page"));
      const Value& items = resolve(op["responses"]["200"])["content"]["application/json"]["examples"]["default"];
      std::string item = json::to_string(resolve(items)["value"][0]);
      std::string out = "[";
      int index = 0;
      for (const auto& [id, c] : comments) {
        if (c.issue != issue) continue;
        if (index >= (page - 1) * per_page && index < page * per_page) {
          out += (out.size() > 1 ? "," : "") + comment_json(item, c);
        }
        ++index;
      }
      return answer(status, out + "]");
    }
    if (op_id == "issues/update-comment" || op_id == "issues/delete-comment") {
      int64_t id = std::stoll(ctx.params.at("comment_id"));
      auto it = comments.find(id);
      if (it == comments.end()) return answer(404, R"({"message":"Not Found"})");
      if (op_id == "issues/delete-comment") {
        comments.erase(it);
        return answer(204, "");
      }
      it->second.body = *json::get_string(body, "body");
      return answer(status, comment_json(example, it->second));
    }
    if (op_id == "repos/create-commit-status") {
      StoredStatus st{next_id++, ctx.params.at("sha"), *json::get_string(body, "state"),
                      json::get_string(body, "context").value_or("default"),
                      json::get_string(body, "description").value_or(""), json::get_string(body, "target_url").value_or("")};
      statuses.push_back(st);
      return answer(status, status_json(example, st));
    }
    if (op_id == "repos/list-commit-statuses-for-ref") {
      std::string item = json::to_string(resolve(resolve(op["responses"]["200"])["content"]["application/json"]["examples"]["default"])["value"][0]);
      std::string out = "[";
      for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
        if (it->sha == ctx.params.at("ref")) out += (out.size() > 1 ? "," : "") + status_json(item, *it);
      }
      return answer(status, out + "]");
    }
    if (op_id == "repos/get-collaborator-permission-level") {
      auto it = permissions.find(ctx.params.at("username"));
      if (it != permissions.end()) {
        if (it->second.empty()) return answer(404, R"({"message":"Not Found"})");
        return answer(status, with(example, [&](json::Document& d) { set(d, "permission", it->second); }));
      }
    }
    if (op_id == "apps/create-installation-access-token") {
      std::string token = "ghs_test" + std::to_string(next_id++);
      auto expires = now + std::chrono::hours(1);
      tokens[token] = expires;
      std::time_t tt = std::chrono::system_clock::to_time_t(expires);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
      return answer(status, with(example, [&](json::Document& d) {
                      set(d, "token", token);
                      set(d, "expires_at", buf);
                    }));
    }
    return answer(status, example);
  }

  static std::string comment_json(const std::string& example, const StoredComment& c) {
    return with(example, [&](json::Document& d) {
      set_int(d, "id", c.id);
      set(d, "body", c.body);
      if (d.HasMember("user") && d["user"].IsObject() && d["user"].HasMember("login")) {
        d["user"]["login"].SetString(c.author.c_str(), d.GetAllocator());
      }
    });
  }
  static std::string status_json(const std::string& example, const StoredStatus& st) {
    return with(example, [&](json::Document& d) {
      set_int(d, "id", st.id);
      set(d, "state", st.state);
      set(d, "context", st.context);
      set(d, "description", st.description);
      set(d, "target_url", st.target_url);
    });
  }
};

OpenApiGitHub::OpenApiGitHub(Options options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  const auto& paths = spec()["paths"];
  // Literal segments must win over parameters ("/issues/comments" before "/issues/{issue_number}"):
  // the router takes the first match in insertion order.
  std::vector<std::string> names;
  for (const auto& p : paths.GetObject()) names.emplace_back(p.name.GetString());
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    auto sa = split_path(a), sb = split_path(b);
    for (size_t i = 0; i < std::min(sa.size(), sb.size()); ++i) {
      if (is_param(sa[i]) != is_param(sb[i])) return !is_param(sa[i]);
    }
    return a < b;
  });
  http::Router router;
  using boost::beast::http::verb;
  const std::pair<const char*, verb> methods[] = {
      {"get", verb::get}, {"post", verb::post}, {"patch", verb::patch}, {"put", verb::put}, {"delete", verb::delete_}};
  for (const auto& name : names) {
    const Value& item = paths[name.c_str()];
    for (const auto& [m, v] : methods) {
      if (!item.HasMember(m)) continue;
      const Value* op = &item[m];
      const Value* path_item = &item;
      std::weak_ptr<Impl> weak = impl_;
      router.add(v, name, [weak, op, path_item](std::shared_ptr<http::Context> ctx, http::Responder respond) {
        auto impl = weak.lock();
        if (!impl) return respond(http::error_response(503, "gone"));
        respond(impl->handle(*ctx, *path_item, *op));
      });
    }
  }
  http::ServerOptions so;
  so.port = 0;
  so.threads = 2;
  so.shutdown_grace = std::chrono::milliseconds(2'000);
  server_ = std::make_unique<http::Server>(so, std::move(router));
  // Requests the description does not know (404/405 from the router) are recorded too.
  std::weak_ptr<Impl> weak = impl_;
  server_->set_observer([weak](const std::string& route, unsigned status, double) {
    auto impl = weak.lock();
    if (!impl || !route.empty()) return;
    std::lock_guard lock(impl->mu);
    impl->seen.push_back({"?", "?", "", "a request matched no path+method of the description (" + std::to_string(status) + ")", 0});
  });
  server_->listen();
  runner_ = std::thread([this] { server_->run(); });
}

OpenApiGitHub::~OpenApiGitHub() {
  server_->shutdown();
  runner_.join();
}

std::string OpenApiGitHub::url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

std::vector<OpenApiGitHub::Seen> OpenApiGitHub::seen() const {
  std::lock_guard lock(impl_->mu);
  return impl_->seen;
}

size_t OpenApiGitHub::count(const std::string& operation_id) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<size_t>(std::count_if(impl_->seen.begin(), impl_->seen.end(),
                                           [&](const Seen& s) { return s.operation_id == operation_id; }));
}

std::vector<std::string> OpenApiGitHub::problems() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& s : impl_->seen) {
    if (!s.problem.empty()) out.push_back(s.method + " " + s.target + ": " + s.problem);
  }
  return out;
}

void OpenApiGitHub::fail_next(unsigned status, http::Headers headers, std::string body, int n) {
  std::lock_guard lock(impl_->mu);
  for (int i = 0; i < n; ++i) impl_->faults.push_back({status, headers, body});
}

void OpenApiGitHub::set_permission(const std::string& user, const std::string& permission) {
  std::lock_guard lock(impl_->mu);
  impl_->permissions[user] = permission;
}

int64_t OpenApiGitHub::add_comment(int64_t issue, const std::string& body, const std::string& author) {
  std::lock_guard lock(impl_->mu);
  int64_t id = impl_->next_id++;
  impl_->comments[id] = {id, issue, body, author};
  return id;
}

std::string OpenApiGitHub::comment_body(int64_t id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->comments.find(id);
  return it == impl_->comments.end() ? std::string() : it->second.body;
}

void OpenApiGitHub::set_pull(int64_t number, const std::string& head_sha, bool mergeable) {
  std::lock_guard lock(impl_->mu);
  impl_->pulls[number] = {head_sha, mergeable};
}

void OpenApiGitHub::add_review(int64_t pr, const std::string& user, const std::string& commit_id, const std::string& state) {
  std::lock_guard lock(impl_->mu);
  impl_->reviews.push_back({impl_->next_id++, pr, user, commit_id, state});
}

int OpenApiGitHub::jwt_verified() const {
  std::lock_guard lock(impl_->mu);
  return impl_->jwt_ok;
}

std::vector<std::string> OpenApiGitHub::issued_tokens() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [t, e] : impl_->tokens) out.push_back(t);
  return out;
}

}  // namespace helmgate::test
