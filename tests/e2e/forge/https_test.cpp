// The HTTPS side of http::Client against a real TLS server of the test environment (a kube-apiserver
// whose certificate is signed by the test CA for 127.0.0.1 and localhost).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "http/client.hpp"
#include "support/support.hpp"

using namespace helmgate;

namespace {

// Another name /etc/hosts maps to 127.0.0.1 that the certificate does not carry.
std::string other_loopback_name() {
  std::ifstream hosts("/etc/hosts");
  for (std::string line; std::getline(hosts, line);) {
    std::istringstream in(line);
    std::string addr, name;
    in >> addr;
    if (addr != "127.0.0.1") continue;
    while (in >> name) {
      if (name != "localhost" && name[0] != '#') return name;
    }
  }
  return {};
}

}  // namespace

TEST_CASE("https: verified against a CA file, by IP and by name, with keep-alive reuse", "[e2e][forge]") {
  const std::string server = test::require_env("HELMGATE_TEST_KUBE_SERVER_DEV");  // https://127.0.0.1:PORT
  const std::string ca = test::require_env("HELMGATE_TEST_KUBE_CA");
  const std::string port = server.substr(server.rfind(':') + 1);

  http::ClientOptions opts;
  opts.ca_file = ca;
  http::Client client(opts);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    INFO(host);
    auto r = client.request({"GET", "https://" + host + ":" + port + "/version", {}, {}, {}});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body.find("\"gitVersion\"") != std::string::npos);
    CHECK_FALSE(r->header("content-type").empty());
    // The same connection serves the next request.
    auto again = client.request({"GET", "https://" + host + ":" + port + "/version", {}, {}, {}});
    REQUIRE(again.ok());
    CHECK(again->status == 200);
  }

  SECTION("the system store does not know the test CA") {
    http::Client system_store;
    auto r = system_store.request({"GET", server + "/version", {}, {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::make_error_code(core::errc::unavailable));
    CHECK(r.error().message.find("TLS handshake failed") != std::string::npos);
  }
  SECTION("a name the certificate does not carry is refused") {
    std::string name = other_loopback_name();
    INFO("/etc/hosts needs a second name for 127.0.0.1 (Debian has the host name there)");
    REQUIRE_FALSE(name.empty());
    auto r = client.request({"GET", "https://" + name + ":" + port + "/version", {}, {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("TLS handshake failed") != std::string::npos);
  }
  SECTION("a CA file that does not exist is named") {
    http::ClientOptions bad;
    bad.ca_file = "/nonexistent/ca.pem";
    http::Client c(bad);
    auto r = c.request({"GET", server + "/version", {}, {}, {}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("/nonexistent/ca.pem") != std::string::npos);
  }
}
