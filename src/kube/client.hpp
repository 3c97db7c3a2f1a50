#pragma once
// A Kubernetes REST client for one cluster: TLS (OpenSSL) on Beast, bearer-token or client-certificate
// authentication, keep-alive connections in a small pool so parallel callers do not handshake per
// request, cached API discovery, GET of live objects and server-side apply (optionally dry-run).
// Thread-safe: any number of threads may share one Client.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "kube/impersonation.hpp"
#include "kube/kubeconfig.hpp"

namespace helmgate::kube {

struct ClientOptions {
  size_t max_idle_connections = 4;  // kept open between requests
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};
  size_t max_response_bytes = 64u << 20;
  std::chrono::seconds discovery_ttl{300};  // a group-version's resource list is re-read after this
};

struct Response {
  unsigned status = 0;
  std::string body;
};

// The API server's answer for a failed request (a metav1.Status object).
struct ApiStatus {
  unsigned code = 0;
  std::string reason;   // Forbidden, Invalid, NotFound, AlreadyExists, ...
  std::string message;  // the server's own explanation
};
std::optional<ApiStatus> parse_status(std::string_view body);

// How a failed API answer maps to helmgate's error codes (403 forbidden, 422 bad_request, 5xx unavailable...).
core::errc errc_for_status(unsigned http_status);

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string plural;  // the URL segment
  bool namespaced = true;
};

struct ObjectRef {
  std::string api_version;  // "apps/v1", "v1"
  std::string kind;
  std::string namespace_;  // empty for cluster-scoped objects
  std::string name;
  std::string describe() const;  // "apps/v1 Deployment team-a/podinfo"
};

struct ApplyOptions {
  bool dry_run = true;  // dryRun=All: the server validates and admits, persists nothing
  std::string field_manager = "helmgate";
  bool force = true;    // take over fields another manager (helm, kubectl) owns
  // Sent as the tenant (Impersonate-User/-Group): its RBAC, quotas and admission policies decide.
  Impersonation impersonate{};
};

class Client {
 public:
  // cluster: the configured cluster name, used in every message.
  Client(std::string cluster, Kubeconfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& cluster() const { return cluster_; }
  const Kubeconfig& config() const { return config_; }

  // One request; any HTTP status is a successful result. errc::unavailable when the server cannot be
  // reached or the connection fails; a stale pooled connection is retried once on a fresh one.
  // as: sent impersonating that identity (refused, errc::bad_request, when as->problem() names one).
  core::Result<Response> request(std::string_view method, const std::string& target, const std::string& body = {},
                                 std::string_view content_type = {}, const Impersonation* as = nullptr);

  // gitVersion from /version ("v1.35.8").
  core::Result<std::string> server_version();

  // Discovery (cached per group-version): the resource type behind apiVersion+kind. errc::not_found
  // with "unknown kind ... is its CRD installed?" when the server does not serve it.
  core::Result<ResourceType> resource_type(const std::string& api_version, const std::string& kind);

  // URL path of an object (namespace left empty for cluster-scoped types).
  core::Result<std::string> object_path(const ObjectRef& ref);

  // The live object as JSON; nullopt when it does not exist.
  core::Result<std::optional<std::string>> get(const ObjectRef& ref);

  // Server-side apply of one object (YAML or JSON text). Returns the object as the server would store it
  // (JSON). A rejection carries the server's Status message in the error.
  core::Result<std::string> apply(const ObjectRef& ref, const std::string& manifest, const ApplyOptions& options);

  // Forgets cached discovery (after CRDs were installed).
  void invalidate_discovery();

  // Connections opened so far (keep-alive makes this much smaller than the request count).
  size_t connections_opened() const;
  // HTTP requests sent so far (a retry on a fresh connection counts twice).
  size_t requests_sent() const { return requests_.load(); }

 private:
  struct Connection;
  struct GroupVersion {
    std::vector<ResourceType> resources;
    std::chrono::steady_clock::time_point fetched;
  };
  core::Result<std::unique_ptr<Connection>> connect();
  core::Result<Response> exchange(Connection& conn, std::string_view method, const std::string& target,
                                  const std::string& body, std::string_view content_type, bool& keep_alive,
                                  const Impersonation* as);
  core::Result<const GroupVersion*> group_version(const std::string& api_version, bool refresh);
  core::Error api_error(std::string_view what, const Response& r, const Impersonation* as = nullptr) const;

  std::string cluster_;
  Kubeconfig config_;
  ClientOptions options_;
  std::string host_, port_, base_path_;
  bool tls_ = true;
  struct TlsContext;
  std::unique_ptr<TlsContext> tls_ctx_;
  std::string tls_error_;  // set when the TLS material could not be loaded

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t opened_ = 0;
  std::atomic<size_t> requests_{0};
  std::map<std::string, GroupVersion> discovery_;
};

// Splits a multi-document YAML manifest into the objects it declares (skipping empty documents and
// expanding kind: List), each with its reference and its own YAML text.
struct ManifestObject {
  ObjectRef ref;
  std::string yaml;
  int index = 0;  // position in the manifest, for messages
};
core::Result<std::vector<ManifestObject>> split_manifest(std::string_view manifest, const std::string& source);

}  // namespace helmgate::kube
