#include "kube/client.hpp"

#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sstream>

#include "core/json.hpp"
#include "core/names.hpp"
#include "core/yaml_bounded.hpp"

namespace helmgate::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Client::TlsContext {
  ssl::context ctx{ssl::context::tls_client};
};

// Each pooled connection has its own io_context so a caller can drive it synchronously with
// timeouts (Beast's tcp_stream expiry only applies to asynchronous operations).
struct Client::Connection {
  asio::io_context ioc;
  std::optional<ssl::stream<beast::tcp_stream>> tls;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

std::string ObjectRef::describe() const {
  std::string out = api_version + " " + kind + " ";
  if (!namespace_.empty()) out += namespace_ + "/";
  return out + name;
}

Client::Client(std::string cluster, Kubeconfig config, ClientOptions options)
    : cluster_(std::move(cluster)), config_(std::move(config)), options_(options) {
  std::string rest = config_.server;
  if (rest.rfind("https://", 0) == 0) {
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
    tls_ = false;
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  host_ = hostport;
  port_ = tls_ ? "443" : "80";
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:6443
    auto close = hostport.find(']');
    host_ = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') port_ = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host_ = hostport.substr(0, colon);
    port_ = hostport.substr(colon + 1);
  }
  if (!tls_) {  // load_kubeconfig_* refuse http:// already; a Kubeconfig built by hand gets the same answer
    tls_error_ = "server is an http:// URL, which would send the credential in clear text; use https://";
    return;
  }
  tls_ctx_ = std::make_unique<TlsContext>();
  auto& ctx = tls_ctx_->ctx;
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (config_.insecure_skip_tls_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (!config_.ca_pem.empty()) {
      ctx.add_certificate_authority(asio::buffer(config_.ca_pem), ec);
      if (ec) tls_error_ = "certificate-authority: not a PEM certificate (" + ec.message() + ")";
    } else {
      ctx.set_default_verify_paths(ec);
    }
    std::string name = config_.tls_server_name.empty() ? host_ : config_.tls_server_name;
    ctx.set_verify_callback(ssl::host_name_verification(name));
  }
  if (!config_.client_cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(config_.client_cert_pem), ec);
    if (ec && tls_error_.empty()) tls_error_ = "client-certificate: not a PEM certificate (" + ec.message() + ")";
    ctx.use_private_key(asio::buffer(config_.client_key_pem), ssl::context::pem, ec);
    if (ec && tls_error_.empty()) tls_error_ = "client-key: not a PEM private key matching the certificate (" + ec.message() + ")";
  }
}

Client::~Client() = default;

size_t Client::connections_opened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

core::Result<std::unique_ptr<Client::Connection>> Client::connect() {
  std::string where = "cluster " + cluster_ + " (" + config_.server + ")";
  if (!tls_error_.empty()) return core::Error(core::errc::invalid_config, where + ": kubeconfig " + config_.source + ": " + tls_error_);
  auto conn = std::make_unique<Connection>();
  boost::system::error_code result;
  tcp::resolver resolver(conn->ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(host_, port_, [&](const boost::system::error_code& ec, tcp::resolver::results_type r) {
    result = ec;
    endpoints = std::move(r);
  });
  conn->ioc.run();
  if (result) return core::Error(core::errc::unavailable, where + ": resolve " + host_ + ": " + result.message());
  conn->ioc.restart();
  if (tls_) {
    conn->tls.emplace(conn->ioc, tls_ctx_->ctx);
  } else {
    conn->plain.emplace(conn->ioc);
  }
  auto& tcp_stream = conn->tcp();
  tcp_stream.expires_after(options_.connect_timeout);
  tcp_stream.async_connect(endpoints, [&](const boost::system::error_code& ec, const tcp::endpoint&) { result = ec; });
  conn->ioc.run();
  if (result) {
    return core::Error(core::errc::unavailable,
                       where + ": connect: " + result.message() + "; is the API server up and the address right?");
  }
  if (tls_) {
    std::string sni = config_.tls_server_name.empty() ? host_ : config_.tls_server_name;
    boost::system::error_code ignored;
    asio::ip::make_address(sni, ignored);
    if (ignored) {  // SNI only for DNS names, never for IP literals
      SSL_ctrl(conn->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               static_cast<void*>(sni.data()));
    }
    conn->ioc.restart();
    tcp_stream.expires_after(options_.connect_timeout);
    conn->tls->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& ec) { result = ec; });
    conn->ioc.run();
    if (result) {
      return core::Error(core::errc::unavailable,
                         where + ": TLS handshake: " + result.message() +
                             "; check certificate-authority (or insecure-skip-tls-verify) in " + config_.source);
    }
  }
  std::lock_guard lock(mu_);
  ++opened_;
  return conn;
}

core::Result<Response> Client::exchange(Connection& conn, std::string_view method, const std::string& target,
                                        const std::string& body, std::string_view content_type, bool& keep_alive,
                                        const Impersonation* as) {
  http::request<http::string_body> req{http::string_to_verb(method), base_path_ + target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "helmgate");
  req.set(http::field::accept, "application/json");
  if (!config_.token.empty()) req.set(http::field::authorization, "Bearer " + config_.token);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  if (as != nullptr) {
    for (const auto& [name, value] : as->headers()) req.insert(name, value);  // checked in request()
  }
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  boost::system::error_code result;
  conn.ioc.restart();
  conn.tcp().expires_after(options_.request_timeout);
  auto on_read = [&](const boost::system::error_code& ec, size_t) { result = ec; };
  auto on_write = [&](const boost::system::error_code& ec, size_t) {
    if (ec) {
      result = ec;
      return;
    }
    if (conn.tls) {
      http::async_read(*conn.tls, conn.buffer, parser, on_read);
    } else {
      http::async_read(*conn.plain, conn.buffer, parser, on_read);
    }
  };
  if (conn.tls) {
    http::async_write(*conn.tls, req, on_write);
  } else {
    http::async_write(*conn.plain, req, on_write);
  }
  conn.ioc.run();
  if (result) {
    keep_alive = false;
    auto code = result == beast::error::timeout ? core::errc::timeout : core::errc::unavailable;
    return core::Error(code, "cluster " + cluster_ + ": " + std::string(method) + " " + target + ": " + result.message());
  }
  auto& res = parser.get();
  keep_alive = res.keep_alive();
  return Response{res.result_int(), std::move(res.body())};
}

core::Result<Response> Client::request(std::string_view method, const std::string& target, const std::string& body,
                                       std::string_view content_type, const Impersonation* as) {
  // Second line (names are checked where they enter): a control character or space in the target would
  // end the request line and let the rest be read as another request carrying our credentials.
  if (auto why = core::names::request_target_problem(target); !why.empty()) {
    return core::Error(core::errc::bad_request, "cluster " + cluster_ + ": refusing to send " + std::string(method) +
                                                    " " + core::names::shown(target) + ": " + why);
  }
  if (auto why = core::names::header_value_problem(config_.token); !why.empty()) {
    return core::Error(core::errc::invalid_config,
                       "cluster " + cluster_ + ": the token in " + config_.source + " cannot be sent as a header: " + why);
  }
  if (auto why = as != nullptr ? as->problem() : std::string(); !why.empty()) {
    return core::Error(core::errc::bad_request, "cluster " + cluster_ + ": refusing to impersonate: " + why);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn;
    bool reused = false;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
        reused = true;
      }
    }
    if (!conn) {
      auto c = connect();
      if (!c) return c.error();
      conn = std::move(*c);
    }
    bool keep_alive = false;
    auto r = (++requests_, exchange(*conn, method, target, body, content_type, keep_alive, as));
    if (!r) {
      // The server may have closed an idle keep-alive connection: one retry on a fresh connection.
      if (reused) continue;
      return r.error();
    }
    if (keep_alive) {
      std::lock_guard lock(mu_);
      if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
    }
    return r;
  }
  return core::Error(core::errc::unavailable, "cluster " + cluster_ + ": " + std::string(method) + " " + target +
                                                  ": the connection failed twice");
}

core::Error Client::api_error(std::string_view what, const Response& r, const Impersonation* as) const {
  std::string msg = "cluster " + cluster_ + ": " + std::string(what) + ": " + std::to_string(r.status);
  if (auto st = parse_status(r.body)) {
    if (!st->reason.empty()) msg += " " + st->reason;
    if (!st->message.empty()) msg += ": " + st->message;
  } else if (!r.body.empty()) {
    msg += ": " + r.body.substr(0, 300);
  }
  switch (r.status) {
    case 401: msg += " (the credentials in " + config_.source + " were not accepted)"; break;
    case 403:
      msg += as != nullptr && !as->empty() ? " (as the impersonated " + as->describe() + ")"
                                           : " (the identity in " + config_.source + " lacks RBAC permission for this)";
      break;
    default: break;
  }
  return {errc_for_status(r.status), msg};
}

core::Result<std::string> Client::server_version() {
  auto r = request("GET", "/version");
  if (!r) return r.error();
  if (r->status != 200) return api_error("GET /version", *r);
  rapidjson::Document doc;
  const bool unparsed = core::json::parse(doc, r->body).has_value();  // iterative, depth-bounded
  if (unparsed || !doc.IsObject()) {
    return core::Error(core::errc::internal, "cluster " + cluster_ + ": /version did not answer JSON");
  }
  return core::json::get_string(doc, "gitVersion").value_or("");
}

void Client::invalidate_discovery() {
  std::lock_guard lock(mu_);
  discovery_.clear();
}

core::Result<const Client::GroupVersion*> Client::group_version(const std::string& api_version, bool refresh) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = discovery_.find(api_version);
    if (!refresh && it != discovery_.end() && now - it->second.fetched < options_.discovery_ttl) return &it->second;
  }
  std::string path = api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  auto r = request("GET", path);
  if (!r) return r.error();
  GroupVersion gv;
  gv.fetched = now;
  if (r->status == 404) {
    // An unserved group-version is cached as empty too, so a manifest full of one missing CRD's
    // objects costs one round trip.
  } else if (r->status != 200) {
    return api_error("discovery GET " + path, *r);
  } else {
    rapidjson::Document doc;
    const bool unparsed = core::json::parse(doc, r->body).has_value();  // iterative, depth-bounded
    if (unparsed || !doc.IsObject() || !doc.HasMember("resources") || !doc["resources"].IsArray()) {
      return core::Error(core::errc::internal, "cluster " + cluster_ + ": discovery " + path + " did not answer an APIResourceList");
    }
    std::string group, version = api_version;
    if (auto slash = api_version.find('/'); slash != std::string::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    for (const auto& res : doc["resources"].GetArray()) {
      auto name = core::json::get_string(res, "name").value_or("");
      if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
      gv.resources.push_back({group, version, core::json::get_string(res, "kind").value_or(""), name,
                              core::json::get_bool(res, "namespaced").value_or(true)});
    }
  }
  std::lock_guard lock(mu_);
  auto& slot = discovery_[api_version];
  slot = std::move(gv);
  return &slot;
}

core::Result<ResourceType> Client::resource_type(const std::string& api_version, const std::string& kind) {
  if (auto why = core::names::api_version(api_version); !why.empty()) {
    return core::Error(core::errc::bad_request, "cluster " + cluster_ + ": apiVersion " + core::names::shown(api_version) + " " + why);
  }
  if (auto why = core::names::kind(kind); !why.empty()) {
    return core::Error(core::errc::bad_request, "cluster " + cluster_ + ": kind " + core::names::shown(kind) + " " + why);
  }
  for (bool refresh : {false, true}) {
    auto gv = group_version(api_version, refresh);
    if (!gv) return gv.error();
    std::lock_guard lock(mu_);
    for (const auto& r : (*gv)->resources) {
      if (r.kind == kind) return r;
    }
  }
  return core::Error(core::errc::not_found, "cluster " + cluster_ + ": the server does not serve kind " + kind +
                                                " in " + api_version +
                                                "; is its CustomResourceDefinition installed, or is the apiVersion removed in this Kubernetes version?");
}

core::Result<std::string> Client::object_path(const ObjectRef& ref) {
  // Object names come from rendered charts: refused here when they break Kubernetes' rules (no request
  // is made), and every segment is percent-encoded besides.
  if (auto why = core::names::object_name(ref.kind, ref.name); !why.empty()) {
    return core::Error(core::errc::bad_request,
                       "cluster " + cluster_ + ": " + ref.kind + " name " + core::names::shown(ref.name) + " " + why);
  }
  if (!ref.namespace_.empty()) {
    if (auto why = core::names::namespace_name(ref.namespace_); !why.empty()) {
      return core::Error(core::errc::bad_request,
                         "cluster " + cluster_ + ": namespace " + core::names::shown(ref.namespace_) + " of " + ref.kind +
                             " " + core::names::shown(ref.name) + " " + why);
    }
  }
  auto rt = resource_type(ref.api_version, ref.kind);
  if (!rt) return rt.error();
  using core::names::path_segment;
  std::string path = rt->group.empty() ? "/api/" + path_segment(rt->version)
                                       : "/apis/" + path_segment(rt->group) + "/" + path_segment(rt->version);
  if (rt->namespaced) {
    std::string ns = ref.namespace_.empty() ? config_.namespace_ : ref.namespace_;
    if (auto why = core::names::namespace_name(ns); !why.empty()) {
      return core::Error(core::errc::bad_request,
                         "cluster " + cluster_ + ": namespace " + core::names::shown(ns) + " of " + ref.kind + " " +
                             core::names::shown(ref.name) + " " + why);
    }
    path += "/namespaces/" + path_segment(ns);
  }
  return path + "/" + path_segment(rt->plural) + "/" + path_segment(ref.name);
}

core::Result<std::optional<std::string>> Client::get(const ObjectRef& ref) {
  auto path = object_path(ref);
  if (!path) return path.error();
  auto r = request("GET", *path);
  if (!r) return r.error();
  if (r->status == 404) return std::optional<std::string>();
  if (r->status != 200) return api_error("GET " + ref.describe(), *r);
  return std::optional<std::string>(std::move(r->body));
}

core::Result<std::string> Client::apply(const ObjectRef& ref, const std::string& manifest, const ApplyOptions& options) {
  auto path = object_path(ref);
  if (!path) return path.error();
  std::string target = *path + "?fieldManager=" + core::names::path_segment(options.field_manager);
  if (options.force) target += "&force=true";
  if (options.dry_run) target += "&dryRun=All";
  auto r = request("PATCH", target, manifest, "application/apply-patch+yaml", &options.impersonate);
  if (!r) return r.error();
  if (r->status != 200 && r->status != 201) {
    return api_error(std::string(options.dry_run ? "dry-run apply " : "apply ") + ref.describe(), *r, &options.impersonate);
  }
  return std::move(r->body);
}

namespace {

// yaml-cpp's emitter writes every scalar plain when it can, so `port: "9898"` would come out as
// `port: 9898` and the API server would see a number where a string is required (annotations,
// env values). A scalar that was quoted in helm's output (tag "!") stays quoted.
void emit_preserving_quotes(YAML::Emitter& em, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      em << YAML::BeginMap;
      for (const auto& kv : n) {
        em << YAML::Key;
        emit_preserving_quotes(em, kv.first);
        em << YAML::Value;
        emit_preserving_quotes(em, kv.second);
      }
      em << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      em << YAML::BeginSeq;
      for (const auto& item : n) emit_preserving_quotes(em, item);
      em << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") {
        em << YAML::DoubleQuoted << n.Scalar();
      } else {
        em << n.Scalar();
      }
      break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: em << YAML::Null; break;
  }
}

}  // namespace

core::Result<std::vector<ManifestObject>> split_manifest(std::string_view manifest, const std::string& source) {
  std::vector<ManifestObject> out;
  std::vector<YAML::Node> docs;
  try {
    docs = core::yaml::load_all(manifest, core::yaml::Source::rendered);
  } catch (const YAML::Exception& e) {
    return core::Error(core::errc::bad_request, source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                                                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  int index = 0;
  auto add = [&](const YAML::Node& n) {
    ManifestObject o;
    o.index = index;
    auto s = [](const YAML::Node& v) { return v && v.IsScalar() ? v.as<std::string>() : std::string(); };
    o.ref.api_version = s(n["apiVersion"]);
    o.ref.kind = s(n["kind"]);
    if (n["metadata"] && n["metadata"].IsMap()) {
      o.ref.name = s(n["metadata"]["name"]);
      o.ref.namespace_ = s(n["metadata"]["namespace"]);
    }
    YAML::Emitter em;
    emit_preserving_quotes(em, n);
    o.yaml = em.c_str();
    out.push_back(std::move(o));
  };
  for (const auto& d : docs) {
    ++index;
    if (!d || d.IsNull()) continue;  // helm emits empty documents for disabled templates
    if (!d.IsMap()) {
      return core::Error(core::errc::bad_request, source + ": document " + std::to_string(index) + " is not a mapping");
    }
    if (d["kind"] && d["kind"].IsScalar() && d["kind"].as<std::string>() == "List" && d["items"] && d["items"].IsSequence()) {
      for (const auto& item : d["items"]) add(item);
      continue;
    }
    add(d);
  }
  return out;
}

}  // namespace helmgate::kube
