#pragma once
// Server configuration: one YAML file, secrets only through environment variables named in it.
// Loading is strict: an unknown key, a wrong type or a bad value stops startup with
// "<file>:<line>:<col>: <key path>: <reason>".
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/ownership.hpp"
#include "core/egress.hpp"
#include "core/event.hpp"
#include "core/limits.hpp"

namespace helmgate::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A GitHub App installation instead of a personal access token (GitHub forges only).
struct GitHubAppConfig {
  std::string app_id;           // the app's id (or client id)
  int64_t installation_id = 0;  // the installation on the organisation or repositories
  std::string private_key_env;  // environment variable holding the app's PEM private key
  std::string private_key;      // resolved by resolve_secrets(); never printed
};

struct Forge {
  std::string name;  // webhook route: POST /webhooks/<name>
  core::ForgeKind kind = core::ForgeKind::github;
  std::string api_url;
  std::string webhook_secret_env;
  std::string token_env;
  std::optional<GitHubAppConfig> github_app;  // exclusive with token_env
  // Resolved from the environment by resolve_secrets(); never printed.
  std::string webhook_secret;
  std::string token;
};

// Scheduled drift detection of one cluster (clusters[].drift). Ignore rules are data: a field a controller
// owns (replicas under an HPA) is removed from both sides before they are compared.
struct DriftIgnore {
  std::string kind = "*";       // glob over the object's kind ("Deployment", "*Set")
  std::string name = "*";       // glob over its name
  std::string namespace_ = "*"; // glob over its namespace ("" for cluster-scoped objects matches "*")
  std::vector<std::string> paths;  // JSON pointers ("/spec/replicas", "/metadata/annotations/x~1y")
};

struct DriftSettings {
  bool enabled = true;
  std::chrono::milliseconds interval{10 * 60 * 1000};  // between two scans of the cluster
  std::chrono::milliseconds jitter{60 * 1000};         // a scan starts up to this much later, at random
  std::vector<DriftIgnore> ignore;
  // Helm's records are read from these namespaces only (a cluster shared with releases helmgate does not
  // manage: they would all be reported extra). Empty: every namespace.
  std::vector<std::string> namespaces;
  bool remediate = false;              // enqueue an apply job for a drifted release
  int max_remediations_per_hour = 3;   // per cluster, when remediate is on
  // Signals when a release starts or stops drifting: a webhook with a Slack-compatible body ({"text":..}),
  // its URL here or (it may hold a credential, as Slack's does) in an environment variable; and/or an
  // upserted comment on this issue number of the repository (0: none).
  std::string webhook_url;
  std::string webhook_url_env;
  int64_t tracking_issue = 0;
};

struct Cluster {
  std::string name;
  std::vector<std::string> paths;  // directories in the repo that deploy to this cluster
  std::string kubeconfig;          // file path
  std::string kubeconfig_env;      // or an environment variable holding the kubeconfig text
  std::string kube_version;        // e.g. "1.35.7"; for rendering and deprecation checks
  bool auto_apply = true;
  bool prune = true;
  std::vector<std::string> requires_clusters;  // "requires": apply only after these applied the commit
  // How many of this cluster's releases an apply runs at once (helm processes), where nothing orders
  // them (a HelmRelease's dependsOn does). 1: one after another.
  int apply_concurrency = 4;
  // `/helmgate apply` on a PR may deploy its head (before merge) to this cluster; off unless set.
  bool allow_pr_apply = false;
  // The preview credential (read and dry-run only): previews never use the deploy credential above.
  // Neither set: previews of this cluster run the offline checks only.
  std::string preview_kubeconfig;
  std::string preview_kubeconfig_env;
  // Accept `insecure-skip-tls-verify: true` in this cluster's kubeconfigs (refused otherwise).
  bool allow_insecure_tls = false;
  DriftSettings drift;
};

// sops: the age keys SOPS-encrypted files are decrypted with (issue 14), each by reference: an environment
// variable holding an age key file's text (as SOPS_AGE_KEY does), or a file. Never a key itself.
struct SopsKeyRef {
  std::string env;
  std::string file;
  std::string where;  // "sops.age_keys[0]", for messages
};
struct SopsSettings {
  std::vector<SopsKeyRef> age_keys;
};

struct Repo {
  std::string name;  // "owner/name" as the forge reports it
  std::string url;   // clone URL, never with credentials (refused at load)
  // HTTPS credentials for fetching `url`: the token comes from this environment variable, sent as the
  // password of `username`. Jobs never carry them: workers add them at fetch time (fetch_url()).
  std::string token_env;
  std::string username = "x-access-token";
  std::string token;  // resolved by resolve_secrets(); never printed
  std::string forge; // forge name
  std::string deploy_branch = "main";
  std::vector<Cluster> clusters;  // empty: discover from clusters/ (Flux layout) or one "default"
  // Helm values paths ("auth.password", "*.apiKey") whose values are scrubbed from every preview like
  // Secret data: values that are not in a Secret but must not appear in a PR comment.
  std::vector<std::string> sensitive_values;
  // Flux sources read from paths of this repository, as `helmgate preview --source`:
  // "[KIND/][NAMESPACE/]NAME=PATH" (an OCIRepository, ExternalArtifact, Bucket, another GitRepository, or a
  // HelmRepository whose charts sit in PATH/<chart>).
  std::vector<std::string> sources;
  // How the Flux and helm-operator deployment this repository feeds is set up: kustomize-controller's
  // StrictPostBuildSubstitutions feature gate (on by default since v1.9), and the helm-operator's
  // --git-charts-path, where a FluxHelmRelease's spec.chartGitPath is found.
  bool flux_strict_substitution = true;
  std::string helm_operator_charts_path = "charts";
  // Who owns which paths, where their releases may go and whom they act as (config/ownership.hpp): the
  // entries of owners_file on the deploy branch ("" reads none), then these.
  std::vector<OwnershipEntry> ownership;
  std::string owners_file = ".helmgate/owners.yaml";
  // What URLs from this repository (chart repositories, OCI registries, Git remotes) may reach: the
  // repository's own `egress`, else the top-level one; `url` is always trusted.
  core::EgressPolicy egress;
  // The keys its SOPS files are decrypted with: the repository's own `sops`, else the top-level one.
  SopsSettings sops;
};

struct QueueSettings {
  std::string key_prefix = "helmgate";
  std::chrono::milliseconds visibility_timeout{60'000};
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{2'000};
  std::chrono::milliseconds backoff_max{300'000};
  std::chrono::seconds retention{7 * 24 * 3600};
  std::chrono::seconds dedupe_ttl{72 * 3600};
  // durability: local (default) acknowledges a job once the primary has it; replicated once a replica
  // has it too (WAIT), else 503 after replica_timeout. See queue/README.md.
  bool replicated = false;
  std::chrono::milliseconds replica_timeout{1000};
};

struct ServerSettings {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: one per core but one (at least one)
  uint64_t max_body_bytes = 25ull * 1024 * 1024;  // GitHub caps payloads at 25 MB
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{30'000};
  // Open connections at most; past it a new one is answered 503 with Retry-After and closed.
  int max_connections = 1024;
};

// render: how helm and kubectl run (process/sandbox.hpp).
struct RenderSettings {
  bool sandbox = true;                // `sandbox: off` runs them without namespaces (logged as a warning)
  uint64_t memory_limit_mib = 3072;   // address space per child (Go reserves ~0.8 GiB up front)
  uint64_t cpu_limit_seconds = 300;   // CPU time per child
};

// ui: who may read the status page (/ui/) and the fleet API (/api/v1/fleet, /clusters, /drift).
//   token  (default) a read token, `Authorization: Bearer <token>` (or Basic auth with the token as password,
//          which browsers prompt for); the API token reads too. Without a read token only the API token reads.
//   proxy  the operator's reverse proxy authenticates: every request that reaches helmgate may read (with
//          proxy_user_header set, only those carrying that header, which the proxy sets).
enum class UiAuth { token, proxy };
struct UiSettings {
  UiAuth auth = UiAuth::token;
  std::string read_token_env;     // the variable holding the read token, or
  std::string read_token_file;    // a file holding it (trailing newline ignored; owner-readable only)
  std::string proxy_user_header;  // auth: proxy: a request must carry this header
  std::string read_token;         // resolved by resolve_secrets(); never printed
};

struct Config {
  std::string source;  // file the config came from (for messages)
  ServerSettings server;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string redis_url_env;  // when set, the URL (with its password) comes from this variable
  std::string redis_password_env;  // redis.cluster / redis.sentinel: the data nodes' password
  QueueSettings queue;
  int workers = 0;  // in-process workers started by `serve`
  std::string api_token_env = "HELMGATE_API_TOKEN";
  std::string api_token;  // resolved; never printed
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<Forge> forges;
  std::vector<Repo> repos;
  core::EgressPolicy egress;  // top-level `egress`: the default of every repository and of `helmgate preview`
  core::Limits limits;  // `limits:`; the commands install it with core::set_limits
  RenderSettings render;
  UiSettings ui;
  SopsSettings sops;  // top-level `sops`: the default of every repository

  const Forge* find_forge(std::string_view name) const;
  const Repo* find_repo(std::string_view forge, std::string_view full_name) const;
};

// Who reads the file: `serve` and `worker` need the forge settings (a forge for every repository, its
// webhook secret variable); `helmgate preview` on a laptop does not, so there `forges` may be absent,
// `repos[].forge`, `repos[].name` and `forges[].webhook_secret_env` are optional (checked when given).
enum class Use { server, preview };

// Parses and validates; throws ConfigError naming file, line, key path and reason.
Config load_file(const std::string& path, Use use = Use::server);
Config load_string(const std::string& yaml, const std::string& source_name = "<config>", Use use = Use::server);

// The URL a worker fetches `repo` with: `url` with the token of token_env as its userinfo (https only).
// Never stored, logged or shown: anything that names the repository uses `url`.
std::string fetch_url(const Repo& repo);

// Reads the secrets named by *_env keys from the environment. Throws ConfigError naming the key
// and the variable (never the value) when a required one is unset.
struct SecretNeeds {
  bool webhook_secrets = true;
  bool api_token = true;
  bool forge_tokens = false;
};
void resolve_secrets(Config& cfg, SecretNeeds needs);

// "10s", "250ms", "5m", "2h", "7d", or a bare number of seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace helmgate::config
