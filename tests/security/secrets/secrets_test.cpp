// Secrets never leave the process in any form: redaction of multi-line values (line by line), of Secrets
// inside Lists, of the encodings a template applies (case, quoting, base64 of the value, of a prefix, of
// text embedding it); credentials never in a job; private files; the API token compared in constant time.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/job.hpp"
#include "core/private_files.hpp"
#include "core/redact.hpp"
#include "diff/normalize.hpp"
#include "handlers/parse.hpp"
#include "handlers/routes.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

namespace {

const std::string kPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanaryPemLineOne\n"
    "Zm9vYmFyYmF6cXV4Q2FuYXJ5UGVtTGluZVR3bzEyMzQ1Njc4OTBhYmNkZWZnaGlq\n"
    "kQ==\n"
    "-----END PRIVATE KEY-----\n";

std::string b64(std::string_view in, bool url = false) {
  const char* tbl = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += tbl[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// No line of the PEM body (not even the short last one) in the text.
void check_no_pem(const std::string& out) {
  for (const char* line : {"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanaryPemLineOne",
                           "Zm9vYmFyYmF6cXV4Q2FuYXJ5UGVtTGluZVR3bzEyMzQ1Njc4OTBhYmNkZWZnaGlq", "CanaryPemLine",
                           "kQ=="}) {
    INFO(out);
    CHECK_FALSE(contains(out, line));
  }
}

}  // namespace

TEST_CASE("a multi-line value is redacted line by line, in every layout", "[security][secrets]") {
  diff::Redactor red;
  red.add_sensitive(kPem);
  // As the normalizer prints it (an indented literal block), in JSON, in a helm error, in a diff.
  std::string block = "data:\n  tls.key: |\n";
  for (size_t p = 0, n; (n = kPem.find('\n', p)) != std::string::npos; p = n + 1) block += "    " + kPem.substr(p, n - p) + "\n";
  std::string json = "{\"key\":\"" + std::string("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanaryPemLineOne\\nZm9vYmFyYmF6cXV4Q2FuYXJ5UGVtTGluZVR3bzEyMzQ1Njc4OTBhYmNkZWZnaGlq\\nkQ==\\n-----END PRIVATE KEY-----\\n") + "\"}";
  std::string diffed = "+    MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanaryPemLineOne\n+    kQ==\n";
  // toJson of the value, quoted once more as a YAML annotation: every line, also the short last one.
  std::string twice;
  for (char c : json) {
    if (c == '\\' || c == '"') twice += '\\';
    twice += c;
  }
  twice = "    json: \"" + twice + "\"\n";
  for (const auto& t : {block, json, diffed, kPem, twice}) {
    std::string out = red.scrub(t);
    check_no_pem(out);
    CHECK(contains(out, "<redacted hmac:"));
  }
  // Armour lines carry nothing secret and stay readable; so does unrelated text.
  CHECK(contains(red.scrub(block), "-----BEGIN PRIVATE KEY-----"));
  CHECK(red.scrub("kQ==x and akQ== stay") == "kQ==x and akQ== stay");  // a short line only as a whole token
  // base64 of the whole PEM (a template's b64enc) and of a PEM body line
  check_no_pem(red.scrub("caBundle: " + b64(kPem) + "\n"));
  CHECK_FALSE(contains(red.scrub("caBundle: " + b64(kPem) + "\n"), b64(kPem).substr(40, 16)));
  // Another PEM (a public certificate) keeps its base64: only the secret material is searched.
  std::string other = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUPublicCertificateBody0123456789\n-----END CERTIFICATE-----\n";
  CHECK(red.scrub(b64(other)) == b64(other));
}

TEST_CASE("the encodings a template applies to a secret are redacted", "[security][secrets]") {
  const std::string v = "Canary-Tok3n-<&>\"quoted\"-0123456789";
  diff::Redactor red;
  red.add_sensitive(v);
  std::vector<std::string> forms = {
      v,
      upper(v),                                            // {{ upper }}
      "canary-tok3n-<&>\"quoted\"-0123456789",             // {{ lower }}
      "Canary-Tok3n-\\u003c\\u0026\\u003e\\\"quoted\\\"-0123456789",  // toJson (Go escapes <, &, >)
      "Canary-Tok3n-<&>\\\"quoted\\\"-0123456789",         // quote (%q), JSON without HTML escapes
      "Canary-Tok3n-&lt;&amp;&gt;&quot;quoted&quot;-0123456789",  // HTML
      b64(v), b64(v, true),                                // b64enc, URL-safe
  };
  for (size_t n = 6; n <= v.size(); ++n) forms.push_back(b64(v.substr(0, n)));  // b64enc of a prefix (trunc)
  for (const char* pre : {"x", "xy", "xyz", "user:"}) forms.push_back(b64(std::string(pre) + v));  // embedded
  for (const auto& f : forms) {
    std::string text = "metadata:\n  annotations:\n    copy: \"" + f + "\"\n";
    std::string out = red.scrub(text);
    INFO(f << "\n" << out);
    CHECK_FALSE(contains(out, f));
    CHECK_FALSE(contains(out, "Tok3n"));
    CHECK_FALSE(contains(out, "TOK3N"));
    CHECK(contains(out, "<redacted hmac:"));
    CHECK(contains(out, "annotations:"));  // keys stay
  }
  // helm's error for `fail (upper .Values.token)`
  std::string err = "Error: execution error at (canary/templates/fail.yaml:1:4): leaked " + upper(v) + " and " + b64(v);
  std::string out = red.scrub(err);
  CHECK_FALSE(contains(out, "TOK3N"));
  CHECK_FALSE(contains(out, b64(v).substr(0, 12)));
  CHECK(contains(out, "canary/templates/fail.yaml:1:4"));
}

TEST_CASE("redaction is no oracle for extending a guess", "[security][secrets]") {
  const std::string v = "s3cr3t-VALUE-with-entropy-Qx81";
  diff::Redactor red;
  red.add_sensitive(v);
  // base64 of the secret's start followed by two different guesses: the same answer, the whole token replaced.
  std::string head = b64(v.substr(0, 6));
  CHECK(red.scrub("a: " + head + "QUFB\n") == red.scrub("a: " + head + "QkJC\n"));
  CHECK_FALSE(contains(red.scrub("a: " + head + "QUFB\n"), "QUFB"));
  // A plain prefix or an inner substring of the value is not matched (only whole values and lines are).
  CHECK(red.scrub("s3cr3t-VALUE-with") == "s3cr3t-VALUE-with");
  CHECK(red.scrub(b64(v.substr(4, 12))) == b64(v.substr(4, 12)));
  // Markers already in a text are never rewritten.
  diff::Redactor red2;
  red2.add_sensitive("redacted");
  CHECK(red2.scrub(core::secret_marker("x")) == core::secret_marker("x"));
}

TEST_CASE("Secrets inside a v1 List and a typed SecretList are redacted like top-level Secrets", "[security][secrets]") {
  const std::string c1 = "ListCanaryValue-0001", c2 = "SecretListCanary-0002", c3 = "NestedListCanary-0003";
  std::string manifest = "apiVersion: v1\nkind: List\nitems:\n"
                         "- apiVersion: v1\n  kind: Secret\n  metadata: {name: one, namespace: ns}\n"
                         "  data:\n    token: " + b64(c1) + "\n"
                         "- apiVersion: v1\n  kind: SecretList\n  items:\n"
                         "  - metadata: {name: three, namespace: ns}\n    stringData: {token: " + c3 + "}\n"
                         "---\napiVersion: v1\nkind: SecretList\nitems:\n"
                         "- metadata: {name: two, namespace: ns}\n  stringData:\n    token: " + c2 + "\n";
  std::vector<std::string> values;
  diff::ParseOptions o;
  o.secret_values = &values;
  auto r = diff::parse_manifest(manifest, o);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  std::vector<std::string> keys;
  for (const auto& res : *r) {
    keys.push_back(res.key());
    INFO(res.text);
    CHECK(contains(res.text, "token: <redacted hmac:"));  // keys shown, values not
    for (const auto& c : {c1, c2, c3}) {
      CHECK_FALSE(contains(res.text, c));
      CHECK_FALSE(contains(res.text, b64(c)));
    }
  }
  CHECK(keys == std::vector<std::string>{"core/Secret/ns/one", "core/Secret/ns/three", "core/Secret/ns/two"});
  // Their values are handed to the caller, which scrubs them from anything else (an annotation copy).
  CHECK(values == std::vector<std::string>{c1, c3, c2});
  // A Secret whose data is not a map shows nothing of it either.
  auto bad = diff::parse_manifest("apiVersion: v1\nkind: Secret\nmetadata: {name: b}\ndata: " + c1 + "\n", {});
  REQUIRE(bad.ok());
  REQUIRE(bad->size() == 1);
  CHECK_FALSE(contains(bad->front().text, c1));
}

TEST_CASE("the API token comparison is constant time, also in the length", "[security][secrets]") {
  CHECK(core::constant_time_equal("tok-123", "tok-123"));
  CHECK_FALSE(core::constant_time_equal("tok-123", "tok-124"));
  CHECK_FALSE(core::constant_time_equal("tok-123", "tok-1234"));  // length mismatch: no early answer needed
  CHECK_FALSE(core::constant_time_equal("tok-123", "tok-12"));
  CHECK_FALSE(core::constant_time_equal("", "x"));
  CHECK(core::constant_time_equal("", ""));
  CHECK(handlers::bearer_token_ok("Bearer s3cret", "s3cret"));
  CHECK_FALSE(handlers::bearer_token_ok("Bearer s3cre", "s3cret"));
  CHECK_FALSE(handlers::bearer_token_ok("Bearer s3cret2", "s3cret"));
  CHECK_FALSE(handlers::bearer_token_ok("Bearer S3cret", "s3cret"));
  CHECK_FALSE(handlers::bearer_token_ok("s3cret", "s3cret"));
  CHECK_FALSE(handlers::bearer_token_ok("Bearer ", ""));  // no configured token accepts nothing
  CHECK_FALSE(handlers::bearer_token_ok("", ""));
}

TEST_CASE("credentials in repos[].url are refused, never repeated, and never reach a job", "[security][secrets]") {
  const std::string canary = "ghp_CredCanary0123456789";
  for (const std::string& url : {"https://bot:" + canary + "@git.example.com/acme/fleet.git",
                                 "https://" + canary + "@git.example.com/acme/fleet.git",
                                 "ssh://git:" + canary + "@git.example.com/acme/fleet.git"}) {
    std::string yaml = "repos:\n- name: acme/fleet\n  forge: github\n  url: " + url + "\n";
    try {
      config::load_string(yaml, "hg.yaml");
      FAIL("accepted " << url);
    } catch (const config::ConfigError& e) {
      std::string m = e.what();
      CHECK(contains(m, "hg.yaml:4:"));
      CHECK(contains(m, "repos[0].url: must not contain credentials"));
      CHECK(contains(m, "repos[0].token_env"));
      CHECK_FALSE(contains(m, canary));
    }
  }
  // ssh with a user name only, and a token from the environment, are fine.
  auto cfg = config::load_string(
      "forges: [{name: github, kind: github, webhook_secret_env: WH}]\n"
      "repos:\n- {name: acme/fleet, forge: github, url: \"https://git.example.com/acme/fleet.git\", token_env: SECRETS_TEST_TOK}\n"
      "- {name: acme/other, forge: github, url: \"git@git.example.com:acme/other.git\"}\n",
      "hg.yaml");
  ::setenv("SECRETS_TEST_TOK", canary.c_str(), 1);
  ::setenv("WH", "x", 1);
  config::resolve_secrets(cfg, {.webhook_secrets = true, .api_token = false, .forge_tokens = false});
  CHECK(config::fetch_url(cfg.repos[0]) == "https://x-access-token:" + canary + "@git.example.com/acme/fleet.git");
  CHECK(config::fetch_url(cfg.repos[1]) == "git@git.example.com:acme/other.git");

  // Jobs for a configured repository carry no URL at all; for an unconfigured one, the forge's URL
  // without userinfo.
  core::Event ev;
  ev.kind = core::EventKind::pull_request;
  ev.forge_name = "github";
  ev.action = "opened";
  ev.pr_number = 7;
  ev.head_sha = std::string(40, 'a');
  ev.repo.full_name = "acme/fleet";
  ev.repo.clone_url = "https://u:" + canary + "@git.example.com/acme/fleet.git";
  auto d = handlers::decide_jobs(ev, cfg);
  REQUIRE(d.jobs.size() == 1);
  CHECK(d.jobs[0].clone_url.empty());
  CHECK_FALSE(contains(d.jobs[0].to_json(), canary));
  config::Config none;
  auto d2 = handlers::decide_jobs(ev, none);
  REQUIRE(d2.jobs.size() == 1);
  CHECK(d2.jobs[0].clone_url == "https://git.example.com/acme/fleet.git");
  // Whatever fills the field, a stored spec never holds userinfo (also an old record read back).
  core::JobSpec s;
  s.kind = "preview";
  s.clone_url = ev.repo.clone_url;
  CHECK_FALSE(contains(s.to_json(), canary));
  auto back = core::JobSpec::from_json(R"({"kind":"apply","clone_url":"https://u:)" + canary + R"(@h/x.git"})");
  REQUIRE(back.ok());
  CHECK(back->clone_url == "https://h/x.git");
}

TEST_CASE("private files are 0600 in 0700 directories whatever the umask", "[security][secrets]") {
  char tmpl[] = "/tmp/hg-secrets-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  mode_t old = ::umask(0);
  auto mode = [](const std::string& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(core::write_private_file(root + "/a/b/values.yaml", "password: x\n"));
  CHECK(mode(root + "/a") == 0700);
  CHECK(mode(root + "/a/b") == 0700);
  CHECK(mode(root + "/a/b/values.yaml") == 0600);
  // An older, wider file and directory are narrowed.
  { std::ofstream(root + "/old.yaml") << "x"; }
  ::chmod((root + "/old.yaml").c_str(), 0644);
  CHECK(core::write_private_file(root + "/old.yaml", "y"));
  CHECK(mode(root + "/old.yaml") == 0600);
  ::mkdir((root + "/wide").c_str(), 0755);
  CHECK(core::ensure_private_dir(root + "/wide"));
  CHECK(mode(root + "/wide") == 0700);
  // A symbolic link is not followed.
  fs::create_symlink(root + "/target", root + "/link");
  CHECK_FALSE(core::write_private_file(root + "/link", "z"));
  CHECK_FALSE(fs::exists(root + "/target"));
  // A shared sticky directory is never narrowed.
  CHECK_FALSE(core::ensure_private_dir("/tmp"));
  CHECK((mode("/tmp") & 01777) == 01777);
  ::umask(old);
  fs::remove_all(root);
}
