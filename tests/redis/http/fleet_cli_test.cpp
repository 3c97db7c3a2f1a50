// `helmgate fleet` as a process against the real HTTP stack (routes, Beast server) over a real Redis
// seeded through queue::FleetStore with the engine writers' JSON (fleet_seed.hpp): the cluster rows, the
// add-ons view, --json, --config, and the errors (token refused, server unreachable, usage).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "fleet_seed.hpp"
#include "harness.hpp"
#include "process/process.hpp"

using namespace helmgate;
using test::Harness;

namespace {

struct Cli {
  int exit_code;
  std::string out, err;
};

Cli helmgate_fleet(std::vector<std::string> args, std::vector<std::string> env) {
  std::vector<std::string> argv = {std::string(HELMGATE_BINARY_DIR) + "/helmgate", "fleet"};
  argv.insert(argv.end(), args.begin(), args.end());
  process::ProcessOptions po;
  po.env = {"PATH=/usr/bin:/bin", "HOME=/tmp"};
  po.env.insert(po.env.end(), env.begin(), env.end());
  po.timeout = std::chrono::milliseconds(30'000);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return {r->exit_code, r->out, r->err};
}

// The output's lines with runs of spaces collapsed, so a row compares as "a b c".
std::vector<std::string> rows(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string row, w;
    while (words >> w) row += (row.empty() ? "" : " ") + w;
    lines.push_back(row);
  }
  return lines;
}

bool has_row(const std::vector<std::string>& lines, const std::string& row) {
  return std::find(lines.begin(), lines.end(), row) != lines.end();
}

void seed(Harness& h) {
  queue::FleetStore store(h.url, h.opts.key_prefix);
  for (const auto& [c, docs] : test::fleet_seed::clusters()) {
    REQUIRE(store.put(queue::FleetKind::drift, c, docs.first, test::fleet_seed::kDriftAtMs).ok());
    REQUIRE(store.put(queue::FleetKind::inventory, c, docs.second, test::fleet_seed::kInventoryAtMs).ok());
  }
}

}  // namespace

TEST_CASE("helmgate fleet prints the clusters and the add-ons from a running serve", "[redis][http][fleet][cli]") {
  Harness h;
  seed(h);
  const std::string token = std::string("FLEET_TOKEN=") + test::kApiToken;

  SECTION("the table: a row per cluster, then release x cluster with differing cells marked") {
    auto r = helmgate_fleet({"--server", h.base(), "--token-env", "FLEET_TOKEN"}, {token});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = rows(r.out);
    REQUIRE(lines.size() > 5);
    CHECK(lines[0] == "CLUSTER REACHABLE VERSION NODES IN_SYNC DRIFTED MISSING FAILED EXTRA SCANNED");
    CHECK(lines[1] == "dev yes v1.31.2 2/2 2 0 0 0 0 2026-12-02T10:00:01Z");
    CHECK(lines[2] == "prod yes v1.31.2\"x\\y 2/3 1 1 0 0 1 2026-12-02T10:00:01Z");
    CHECK(lines[3] == "staging no - 0/0 1 0 1 0 0 2026-12-02T10:00:01Z");
    CHECK(has_row(lines, "staging: connect to https://10.0.0.9:6443: connection refused"));
    CHECK(has_row(lines, "RELEASE dev prod staging"));
    CHECK(has_row(lines, "podinfo 6.5.0 in_sync *6.4.0 drifted 6.5.0 in_sync"));
    CHECK(has_row(lines, "ingress-nginx 4.10.0 in_sync 4.10.0 in_sync *missing"));
    CHECK(has_row(lines, "<script>alert(1)</script> - 1.0.0 extra -"));
    CHECK(has_row(lines, "(* differs from Git)"));
  }
  SECTION("--json prints the API's answer") {
    auto r = helmgate_fleet({"--server", h.base(), "--token-env", "FLEET_TOKEN", "--json"}, {token});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == h.api("GET", "/api/v1/fleet").body);
    core::json::Document doc;
    REQUIRE_FALSE(core::json::parse(doc, r.out));
    REQUIRE(doc["clusters"].Size() == 3);
    CHECK(std::string(doc["clusters"][1]["name"].GetString()) == "prod");
    CHECK(doc["clusters"][1]["drift"]["drifted"].GetInt() == 1);
    CHECK(doc["addons"].Size() == 3);
  }
  SECTION("--config: the API at server.listen, the token in api.token_env") {
    auto dir = std::filesystem::temp_directory_path() / ("hg-fleet-cli-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto file = dir / "hg.yaml";
    std::ofstream(file) << "server: {listen: \"0.0.0.0:" << h.server->port() << "\"}\napi: {token_env: MY_TOKEN}\n";
    auto r = helmgate_fleet({"--config", file.string()}, {std::string("MY_TOKEN=") + test::kApiToken});
    std::filesystem::remove_all(dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(rows(r.out)[1] == "dev yes v1.31.2 2/2 2 0 0 0 0 2026-12-02T10:00:01Z");
  }
  SECTION("a refused token, no token, an unreachable server, a usage error: exit 1 with the reason") {
    auto bad = helmgate_fleet({"--server", h.base(), "--token-env", "FLEET_TOKEN"}, {"FLEET_TOKEN=nope"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("server answered 401") != std::string::npos);
    CHECK(bad.out.empty());
    auto none = helmgate_fleet({"--server", h.base(), "--token-env", "FLEET_TOKEN"}, {});
    CHECK(none.exit_code == 1);
    CHECK(none.err.find("FLEET_TOKEN is not set") != std::string::npos);
    auto down = helmgate_fleet({"--server", "http://127.0.0.1:1", "--token-env", "FLEET_TOKEN"}, {token});
    CHECK(down.exit_code == 1);
    CHECK(down.err.find("helmgate fleet: ") == 0);
    CHECK(down.out.empty());
    auto usage = helmgate_fleet({"--bogus"}, {token});
    CHECK(usage.exit_code == 1);
    CHECK(usage.err.find("bogus") != std::string::npos);
    auto help = helmgate_fleet({"--help"}, {});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("usage: helmgate fleet") == 0);
  }
}
