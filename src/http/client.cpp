#include "http/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <deque>
#include <optional>

#include "core/names.hpp"

namespace helmgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A pooled connection older than this is dropped rather than reused: servers close idle keep-alive
// connections after a while (Go's net/http after 90 s, nginx after 75 s) and the retry costs more.
constexpr auto kMaxIdle = std::chrono::seconds(50);

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? h : h + ":" + port;
}

core::Result<Url> parse_url(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return core::Error(core::errc::bad_request,
                       "unsupported URL '" + std::string(url.substr(0, 64)) + "': expected http:// or https://");
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    // Credentials in URLs end up in logs and error messages; headers are the only way in.
    return core::Error(core::errc::bad_request, "URLs with user information are not accepted; pass credentials as headers");
  }
  u.port = u.tls ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return core::Error(core::errc::bad_request, "bad IPv6 literal in URL");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = std::string(authority.substr(close + 2));
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty() || u.port.empty()) return core::Error(core::errc::bad_request, "URL has no host or port");
  return u;
}

struct Client::Connection {
  asio::io_context ioc;  // declared first: destroyed after the streams that use it
  bool tls = false;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    boost::system::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }
};

struct Client::Impl {
  ClientOptions options;
  std::mutex mu;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;  // by scheme://host:port
  std::optional<ssl::context> tls_ctx;
  std::string tls_ctx_error;

  // Built on first https use so plain-http users never read the CA store.
  ssl::context* tls_context(std::string& error) {
    std::lock_guard lock(mu);
    if (!tls_ctx && tls_ctx_error.empty()) {
      ssl::context ctx{ssl::context::tls_client};
      ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ctx.set_verify_mode(ssl::verify_peer);
      boost::system::error_code ec;
      if (options.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec) tls_ctx_error = "cannot load the system CA store: " + ec.message();
      } else {
        ctx.load_verify_file(options.ca_file, ec);
        if (ec) tls_ctx_error = "cannot load CA file " + options.ca_file + ": " + ec.message();
      }
      if (tls_ctx_error.empty()) tls_ctx.emplace(std::move(ctx));
    }
    error = tls_ctx_error;
    return tls_ctx ? &*tls_ctx : nullptr;
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = idle.find(key);
    while (it != idle.end() && !it->second.empty()) {
      auto conn = std::move(it->second.back());
      it->second.pop_back();
      if (std::chrono::steady_clock::now() - conn->idle_since < kMaxIdle) return conn;
      conn->close();
    }
    return nullptr;
  }

  void give_back(const std::string& key, std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu);
    auto& q = idle[key];
    if (q.size() >= options.max_idle_per_host) {
      conn->close();
      return;
    }
    conn->idle_since = std::chrono::steady_clock::now();
    q.push_back(std::move(conn));
  }
};

namespace {

// Runs the connection's queued asynchronous operations to completion; the stream's own expiry
// (expires_after) cancels them, which is how timeouts reach synchronous callers.
void run(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

std::string where(const std::string& method, const Url& u) {
  // The query is left out: it may carry parameters nobody wants in a log line.
  std::string path = u.target.substr(0, u.target.find('?'));
  return method + " " + (u.tls ? "https://" : "http://") + u.host_header() + path;
}

core::Error io_error(const std::string& what, const boost::system::error_code& ec, const std::string& hint = {}) {
  bool timed_out = ec == beast::error::timeout;
  return core::Error(timed_out ? core::errc::timeout : core::errc::unavailable,
                     what + ": " + (timed_out ? std::string("timed out") : ec.message()) + hint);
}

}  // namespace

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }
Client::~Client() = default;

core::Result<ClientResponse> Client::request(const ClientRequest& req) {
  // Second line: whoever built the URL or a header, a CR/LF (any control character, or a space in the
  // target) would end the line and smuggle another header or request; nothing is written then.
  if (auto why = core::names::request_target_problem(req.url); !why.empty()) {
    return core::Error(core::errc::bad_request,
                       "refusing to send " + req.method + " " + core::names::shown(req.url.substr(0, req.url.find('?'))) + ": the URL " + why);
  }
  for (const auto& [k, v] : req.headers) {
    bool token = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token) {
      return core::Error(core::errc::bad_request, "refusing to send " + req.method + ": header name " +
                                                      core::names::shown(k) + " is not an HTTP token");
    }
    if (auto why = core::names::header_value_problem(v); !why.empty()) {
      // The value may be a credential: only its name is shown.
      return core::Error(core::errc::bad_request, "refusing to send " + req.method + ": the value of header " + k + " " + why);
    }
  }
  auto url = parse_url(req.url);
  if (!url) return url.error();
  const Url& u = *url;
  const std::string what = where(req.method, u);
  const auto timeout = req.timeout.count() > 0 ? req.timeout : impl_->options.request_timeout;
  const std::string key = (u.tls ? "https://" : "http://") + u.host + ":" + u.port;
  auto verb = beast::http::string_to_verb(req.method);
  if (verb == beast::http::verb::unknown) {
    return core::Error(core::errc::bad_request, "unknown HTTP method '" + req.method + "'");
  }

  beast::http::request<beast::http::string_body> msg{verb, u.target, 11};
  msg.set(beast::http::field::host, u.host_header());
  msg.set(beast::http::field::user_agent, impl_->options.user_agent);
  for (const auto& [k, v] : req.headers) msg.set(k, v);
  msg.body() = req.body;
  msg.keep_alive(impl_->options.max_idle_per_host > 0);
  msg.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = attempt == 0 ? impl_->take_idle(key) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<Connection>();
      conn->tls = u.tls;
      boost::system::error_code ec;
      if (u.tls) {
        std::string err;
        ssl::context* ctx = impl_->tls_context(err);
        if (!ctx) return core::Error(core::errc::unavailable, what + ": " + err);
        conn->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(conn->ioc, *ctx);
        SSL* native = conn->secure->native_handle();
        X509_VERIFY_PARAM* param = SSL_get0_param(native);
        if (is_ip_literal(u.host)) {
          X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str());
        } else {
          X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
          X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), 0);
          // SNI: virtual hosts and CDNs pick the certificate by it. SSL_set_tlsext_host_name is a macro
          // with a C cast, hence the direct call.
          SSL_ctrl(native, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(u.host.c_str()));
        }
      } else {
        conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
      }
      tcp::resolver resolver(conn->ioc);
      tcp::resolver::results_type endpoints;
      resolver.async_resolve(u.host, u.port, [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
        ec = e;
        endpoints = std::move(r);
      });
      run(conn->ioc);
      if (ec) return io_error(what + ": cannot resolve " + u.host, ec);
      conn->lowest().expires_after(impl_->options.connect_timeout);
      conn->lowest().async_connect(endpoints, [&](const boost::system::error_code& e, const tcp::endpoint&) { ec = e; });
      run(conn->ioc);
      if (ec) return io_error(what + ": cannot connect", ec);
      if (u.tls) {
        conn->secure->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) { ec = e; });
        run(conn->ioc);
        if (ec) {
          return io_error(what + ": TLS handshake failed", ec,
                          impl_->options.ca_file.empty() ? "; is the server's CA in the system store?"
                                                         : "; is the server's certificate signed by " +
                                                               impl_->options.ca_file + "?");
        }
      }
    }

    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(impl_->options.max_response_bytes);
    boost::system::error_code wec, rec;
    conn->lowest().expires_after(timeout);
    auto exchange = [&](auto& stream) {
      beast::http::async_write(stream, msg, [&](const boost::system::error_code& e, size_t) {
        wec = e;
        if (e) return;
        beast::http::async_read(stream, conn->buffer, parser, [&](const boost::system::error_code& e2, size_t) { rec = e2; });
      });
    };
    if (u.tls) {
      exchange(*conn->secure);
    } else {
      exchange(*conn->plain);
    }
    run(conn->ioc);
    auto ec = wec ? wec : rec;
    if (ec) {
      conn->close();
      // A kept-alive connection the server closed meanwhile fails before any answer: try once afresh.
      if (reused && !parser.is_header_done() && ec != beast::error::timeout) continue;
      return io_error(what, ec);
    }
    auto& res = parser.get();
    ClientResponse out;
    out.status = res.result_int();
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    bool reusable = res.keep_alive() && msg.keep_alive();
    out.body = std::move(res.body());
    if (reusable) {
      impl_->give_back(key, std::move(conn));
    } else {
      conn->close();
    }
    return out;
  }
  return core::Error(core::errc::unavailable, what + ": connection closed before an answer");
}

core::Result<ClientResponse> request(const std::string& method, const std::string& url, const Headers& headers,
                                     const std::string& body, std::chrono::milliseconds timeout) {
  ClientOptions opts;
  opts.max_idle_per_host = 0;
  opts.request_timeout = timeout;
  opts.connect_timeout = std::min(timeout, opts.connect_timeout);
  opts.user_agent = "helmgate-cli";
  Client client(std::move(opts));
  return client.request(ClientRequest{method, url, headers, body, timeout});
}

}  // namespace helmgate::http
