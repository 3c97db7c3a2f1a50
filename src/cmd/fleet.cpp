// helmgate fleet: the status page's fleet overview in the terminal, from a running serve's
// GET /api/v1/fleet (the stored drift scans and inventories), so the CLI needs no Redis access.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/api_client.hpp"
#include "cmd/commands.hpp"
#include "config/config.hpp"
#include "core/json.hpp"

namespace helmgate::cmd {

namespace {
namespace json = core::json;

constexpr const char* kFleetHelp = R"(usage: helmgate fleet [--config FILE | --server URL] [--token-env NAME] [--json]

Prints the fleet overview of a running `helmgate serve` (GET /api/v1/fleet: the drift scans and
inventories the workers stored): a row per cluster (reachable, server version, nodes ready/total,
releases in sync/drifted/missing/failed/extra, when it was scanned), then the add-ons view: a row per
release, a column per cluster with the chart version and the state; a cell marked * differs from Git
(drifted, missing or failed).

options:
  --config FILE      server configuration (YAML): the API at http://<server.listen>, the token in the
                     variable named by api.token_env (unless --server / --token-env are given)
  --server URL       helmgate API base URL (default: $HELMGATE_SERVER or http://127.0.0.1:8080)
  --token-env NAME   environment variable holding the API token or the read token
                     (default: HELMGATE_API_TOKEN)
  --json             print the API's JSON as it is

exit status: 0 the overview was printed, 1 error (the server unreachable, the token refused, a bad
answer, a usage or configuration error).
)";

// Strings come from Git and the clusters: no control characters reach the terminal.
std::string safe(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

std::string str(const json::Value& v, const char* key) {
  const auto* f = json::find(v, key);
  if (f == nullptr || !f->IsString()) return "-";
  return safe(f->GetString());
}

int64_t num(const json::Value& v, const char* key) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->IsInt64() ? f->GetInt64() : 0;
}

using Table = std::vector<std::vector<std::string>>;

std::string render(const Table& t, const std::string& indent = "") {
  std::vector<size_t> width;
  for (const auto& row : t) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : t) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string reachable(const json::Value& c) {
  const auto* r = json::find(c, "reachable");
  if (r == nullptr || !r->IsBool()) return "-";
  return r->GetBool() ? "yes" : "no";
}

std::string overview(const json::Document& doc, bool& ok) {
  const auto* clusters = json::find(doc, "clusters");
  const auto* addons = json::find(doc, "addons");
  ok = clusters != nullptr && clusters->IsArray() && addons != nullptr && addons->IsArray();
  if (!ok) return {};
  Table t = {{"CLUSTER", "REACHABLE", "VERSION", "NODES", "IN_SYNC", "DRIFTED", "MISSING", "FAILED", "EXTRA",
              "SCANNED"}};
  std::vector<std::string> names, notes;
  for (const auto& c : clusters->GetArray()) {
    std::vector<std::string> row = {str(c, "name"), reachable(c), str(c, "server_version")};
    names.push_back(row[0]);
    const auto* nodes = json::find(c, "nodes");
    row.push_back(nodes != nullptr && nodes->IsObject()
                      ? std::to_string(num(*nodes, "ready")) + "/" + std::to_string(num(*nodes, "count"))
                      : "-");
    const auto* drift = json::find(c, "drift");
    for (const char* s : {"in_sync", "drifted", "missing", "failed", "extra"}) {
      row.push_back(drift != nullptr && drift->IsObject() ? std::to_string(num(*drift, s)) : "-");
    }
    row.push_back(str(c, "scanned_at"));
    t.push_back(row);
    for (const char* k : {"error", "drift_error"}) {
      if (std::string e = str(c, k); e != "-") notes.push_back(row[0] + ": " + e);
    }
    if (const auto* p = json::find(c, "problems"); p != nullptr && p->IsArray()) {
      for (const auto& x : p->GetArray()) {
        if (x.IsString()) notes.push_back(row[0] + ": " + safe(x.GetString()));
      }
    }
  }
  std::string out = render(t);
  for (const auto& n : notes) out += "  " + n + "\n";
  out += "\n";
  if (addons->Empty()) return out + "no releases in the stored scans\n";
  Table a = {{"RELEASE"}};
  for (const auto& n : names) a[0].push_back(n);
  for (const auto& x : addons->GetArray()) {
    std::vector<std::string> row(names.size() + 1, "-");
    row[0] = str(x, "release");
    if (const auto* cells = json::find(x, "clusters"); cells != nullptr && cells->IsArray()) {
      for (const auto& cell : cells->GetArray()) {
        auto it = std::find(names.begin(), names.end(), str(cell, "cluster"));
        if (it == names.end()) continue;
        const auto* differs = json::find(cell, "differs");
        bool mark = differs != nullptr && differs->IsBool() && differs->GetBool();
        std::string state = str(cell, "state");
        std::string version = str(cell, "chart_version");
        row[static_cast<size_t>(it - names.begin()) + 1] =
            state == "-" ? "-" : (mark ? "*" : "") + (version == "-" ? state : version + " " + state);
      }
    }
    a.push_back(row);
  }
  return out + render(a) + "(* differs from Git)\n";
}

std::string listen_url(const std::string& listen) {
  std::string host = listen;
  std::string port;
  if (auto colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port = listen.substr(colon);
  }
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return "http://" + host + port;
}

}  // namespace

int fleet(int argc, char** argv) {
  return run_command("fleet", [&]() -> int {
    Args args(argc, argv, {"config", "server", "token-env"}, {"json"});
    if (args.help()) {
      std::fputs(kFleetHelp, stdout);
      return 0;
    }
    if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
    std::optional<http::ClientResponse> r;
    if (args.has("config")) {
      config::Config cfg = config::load_file(args.get("config"), config::Use::preview);
      r = api_call(args.get("server", listen_url(cfg.server.listen)), args.get("token-env", cfg.api_token_env),
                   "GET", "/api/v1/fleet", "fleet");
    } else {
      r = api_call(args, "GET", "/api/v1/fleet", "fleet");
    }
    if (!r) return 1;
    json::Document doc;
    if (auto done = print_raw_or_parse(args, *r, doc, "fleet")) return *done;
    bool ok = false;
    std::string out = overview(doc, ok);
    if (!ok) {
      std::fprintf(stderr, "helmgate fleet: unexpected answer from the server (no clusters or addons)\n");
      return 1;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }, /*usage_status=*/1);
}

}  // namespace helmgate::cmd
