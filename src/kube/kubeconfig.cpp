#include "kube/kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>

#include "core/files.hpp"

namespace helmgate::kube {

namespace fs = std::filesystem;

namespace {

core::Error invalid(const std::string& source, const std::string& what) {
  return {core::errc::invalid_config, "kubeconfig " + source + ": " + what};
}

core::Result<std::string> read_file(const fs::path& p, const std::string& source, const std::string& key) {
  auto text = core::read_file(p.string());
  if (!text) {
    return invalid(source, key + ": cannot read " + p.string() + "; check that the file exists and is readable");
  }
  return std::move(*text);
}

const YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (list && list.IsSequence()) {
    for (const auto& item : list) {
      if (item["name"] && item["name"].as<std::string>() == name) return item;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string str(const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : std::string(); }

// "-data" holds base64 PEM inline; the plain key names a file.
core::Result<std::string> data_or_file(const YAML::Node& node, const std::string& key, const fs::path& base,
                                       const std::string& source, std::vector<std::string>& files) {
  if (std::string data = str(node[key + "-data"]); !data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded) return invalid(source, key + "-data is not valid base64");
    return decoded;
  }
  if (std::string file = str(node[key]); !file.empty()) {
    fs::path p(file);
    if (p.is_relative()) p = base / p;
    auto text = read_file(p, source, key);
    if (text) files.push_back(fs::absolute(p).lexically_normal().string());
    return text;
  }
  return std::string();
}

}  // namespace

core::Result<std::string> base64_decode(std::string_view in) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return core::Error(core::errc::bad_request, "invalid base64 character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

core::Result<Kubeconfig> load_kubeconfig_text(const std::string& text, const std::string& source,
                                              const std::string& base_dir, const std::string& context,
                                              const KubeconfigPolicy& policy) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return invalid(source, "not valid YAML (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  if (!root || !root.IsMap()) return invalid(source, "expected a mapping with clusters, users and contexts");
  Kubeconfig kc;
  kc.source = source;
  try {
    kc.context = context.empty() ? str(root["current-context"]) : context;
    YAML::Node ctx;
    if (kc.context.empty()) {
      // A kubeconfig with exactly one context needs no current-context.
      if (root["contexts"] && root["contexts"].IsSequence() && root["contexts"].size() == 1) {
        ctx = root["contexts"][0];
        kc.context = str(ctx["name"]);
      } else {
        return invalid(source, "no current-context; set one or name the context to use");
      }
    } else {
      ctx = find_named(root["contexts"], kc.context);
      if (!ctx) return invalid(source, "context '" + kc.context + "' not found in contexts");
    }
    const YAML::Node c = ctx["context"];
    if (!c) return invalid(source, "context '" + kc.context + "' has no context: mapping");
    std::string cluster_name = str(c["cluster"]);
    std::string user_name = str(c["user"]);
    kc.namespace_ = str(c["namespace"]);
    if (kc.namespace_.empty()) kc.namespace_ = "default";

    const YAML::Node cluster_item = find_named(root["clusters"], cluster_name);
    if (!cluster_item || !cluster_item["cluster"]) {
      return invalid(source, "cluster '" + cluster_name + "' (of context '" + kc.context + "') not found");
    }
    const YAML::Node cl = cluster_item["cluster"];
    kc.server = str(cl["server"]);
    // The scheme alone is named: a server URL may carry user:password@ and this message may be logged.
    if (kc.server.rfind("http://", 0) == 0) {
      return invalid(source, "cluster '" + cluster_name +
                                 "': server is an http:// URL, which would send the credential in clear text; "
                                 "use the API server's https:// URL");
    }
    if (kc.server.rfind("https://", 0) != 0) {
      return invalid(source, "cluster '" + cluster_name + "': server must be an https:// URL");
    }
    if (kc.server.find('@', 8) != std::string::npos &&
        kc.server.find('@', 8) < kc.server.find('/', 8)) {
      return invalid(source, "cluster '" + cluster_name +
                                 "': server URL carries user information (user@host); put credentials in users:");
    }
    if (YAML::Node insecure = cl["insecure-skip-tls-verify"]) {
      std::string v = insecure.IsScalar() ? insecure.Scalar() : "";
      if (v != "true" && v != "false") {
        return invalid(source, "cluster '" + cluster_name + "': insecure-skip-tls-verify must be true or false");
      }
      kc.insecure_skip_tls_verify = v == "true";
    }
    if (kc.insecure_skip_tls_verify && !policy.allow_insecure_tls) {
      return invalid(source, "cluster '" + cluster_name +
                                 "': insecure-skip-tls-verify: true is refused (anyone on the path could take "
                                 "the credential); give the cluster's CA as certificate-authority(-data), or set "
                                 "allow_insecure_tls: true on the cluster in the helmgate configuration");
    }
    kc.tls_server_name = str(cl["tls-server-name"]);
    fs::path base(base_dir);
    auto ca = data_or_file(cl, "certificate-authority", base, source, kc.files);
    if (!ca) return ca.error();
    kc.ca_pem = std::move(*ca);

    if (!user_name.empty()) {
      const YAML::Node user_item = find_named(root["users"], user_name);
      if (!user_item) return invalid(source, "user '" + user_name + "' (of context '" + kc.context + "') not found");
      const YAML::Node u = user_item["user"];
      if (u && u.IsMap()) {
        if (u["exec"]) {
          return invalid(source, "user '" + user_name +
                                     "' uses an exec credential plugin, which helmgate does not run; "
                                     "use a service-account token or a client certificate instead");
        }
        if (u["auth-provider"]) {
          return invalid(source, "user '" + user_name +
                                     "' uses an auth-provider plugin, which helmgate does not support; "
                                     "use a service-account token or a client certificate instead");
        }
        if (u["username"] || u["password"]) {
          return invalid(source, "user '" + user_name + "': basic authentication is not supported; use a token");
        }
        kc.token = str(u["token"]);
        if (kc.token.empty()) {
          if (std::string tf = str(u["tokenFile"]); !tf.empty()) {
            fs::path p(tf);
            if (p.is_relative()) p = base / p;
            auto t = read_file(p, source, "tokenFile");
            if (!t) return t.error();
            kc.files.push_back(fs::absolute(p).lexically_normal().string());
            kc.token = std::move(*t);
            while (!kc.token.empty() && (kc.token.back() == '\n' || kc.token.back() == '\r')) kc.token.pop_back();
          }
        }
        auto cert = data_or_file(u, "client-certificate", base, source, kc.files);
        if (!cert) return cert.error();
        auto key = data_or_file(u, "client-key", base, source, kc.files);
        if (!key) return key.error();
        kc.client_cert_pem = std::move(*cert);
        kc.client_key_pem = std::move(*key);
        if (kc.client_cert_pem.empty() != kc.client_key_pem.empty()) {
          return invalid(source, "user '" + user_name + "': client-certificate and client-key go together");
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return invalid(source, "unexpected structure (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  return kc;
}

core::Result<Kubeconfig> load_kubeconfig_file(const std::string& path, const std::string& context,
                                              const KubeconfigPolicy& policy) {
  auto text = read_file(path, path, "file");
  if (!text) return text.error();
  return load_kubeconfig_text(*text, path, fs::path(path).parent_path().string(), context, policy);
}

}  // namespace helmgate::kube
