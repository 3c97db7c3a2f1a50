#pragma once
// A kubeconfig reduced to what one REST client needs: where the API server is, how to trust it and
// how to authenticate. Exec and auth-provider plugins are refused on purpose: helmgate never runs
// programs named by a cluster credential file.
#include <string>
#include <vector>

#include "core/error.hpp"

namespace helmgate::kube {

struct Kubeconfig {
  std::string source;       // file path or "$ENV_VAR", for messages only
  std::string context;      // the context that was used
  std::string server;       // https://host:port[/prefix]
  std::string ca_pem;       // trusted CA bundle (PEM); empty: system roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the name checked in the server certificate
  std::string token;            // bearer token; never printed
  std::string client_cert_pem;  // client certificate chain; never printed
  std::string client_key_pem;   // never printed
  std::string namespace_;       // the context's default namespace ("default" when unset)
  // The files it named and that were read (certificate-authority, client-certificate, client-key,
  // tokenFile), absolute or as resolved: what a tool given the same kubeconfig must be able to read.
  std::vector<std::string> files;
};

// What a kubeconfig may ask for. The server must be https:// always (http:// would send the credential in
// clear text); `insecure-skip-tls-verify: true` is refused unless the cluster's configuration sets
// allow_insecure_tls.
struct KubeconfigPolicy {
  bool allow_insecure_tls = false;
};

// Reads a kubeconfig file; relative certificate/key/token file paths resolve against its directory.
// context empty: current-context.
core::Result<Kubeconfig> load_kubeconfig_file(const std::string& path, const std::string& context = {},
                                              const KubeconfigPolicy& policy = {});
// Parses kubeconfig text (e.g. from an environment variable); relative paths resolve against base_dir.
core::Result<Kubeconfig> load_kubeconfig_text(const std::string& text, const std::string& source,
                                              const std::string& base_dir = ".", const std::string& context = {},
                                              const KubeconfigPolicy& policy = {});

// Standard base64 (padding optional, whitespace ignored); nullopt-like error on invalid input.
core::Result<std::string> base64_decode(std::string_view in);

}  // namespace helmgate::kube
