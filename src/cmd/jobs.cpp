// helmgate jobs / replay / version: thin clients of the jobs API.
#include <cctype>
#include <cstdio>

#include "cmd/api_client.hpp"
#include "cmd/commands.hpp"
#include "core/json.hpp"
#include "http/router.hpp"
#include "process/process.hpp"
#include "runners/tools.hpp"

namespace helmgate::cmd {

namespace {
namespace json = core::json;

std::string field(const json::Value& v, const char* key) {
  const auto* f = json::find(v, key);
  if (f == nullptr || f->IsNull()) return "-";
  if (f->IsString()) return f->GetString();
  if (f->IsInt64()) return std::to_string(f->GetInt64());
  return json::to_string(*f);
}

std::string query_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}
}  // namespace

int jobs(int argc, char** argv) {
  return run_command("jobs", [&]() -> int {
    Args args(argc, argv, {"server", "token-env", "state", "kind", "repo", "limit"}, {"json"});
    if (args.help()) {
      std::printf(
          "usage: helmgate jobs [ID] [options]\n\nLists jobs (newest first), or shows one job with its log.\n\n"
          "options:\n  --state S   queued, active, retrying, succeeded, dead, superseded\n"
          "  --kind K    preview, apply, command\n  --repo R    owner/name\n  --limit N   at most N jobs (default 50)\n"
          "  --json      print the API's JSON\n%s",
          kApiOptionsHelp);
      return 0;
    }
    if (args.positional().size() > 1) throw UsageError("at most one job ID");
    if (args.positional().size() == 1) {
      auto r = api_call(args, "GET", "/api/v1/jobs/" + query_escape(args.positional()[0]), "jobs");
      if (!r) return 1;
      json::Document doc;
      if (auto done = print_raw_or_parse(args, *r, doc, "jobs")) return *done;
      for (const char* k : {"id", "kind", "state", "repo", "attempts", "max_attempts", "created_at", "started_at",
                            "finished_at", "next_run_at", "worker", "replay_of", "superseded_by", "error"}) {
        std::printf("%-14s %s\n", k, field(doc, k).c_str());
      }
      std::printf("%-14s %s\n", "spec", field(doc, "spec").c_str());
      std::printf("%-14s %s\n", "result", field(doc, "result").c_str());
      if (const auto* log = json::find(doc, "log"); log != nullptr && log->IsArray() && !log->Empty()) {
        std::printf("log:\n");
        for (const auto& line : log->GetArray()) std::printf("  %s\n", line.IsString() ? line.GetString() : "");
      }
      return 0;
    }
    std::string q;
    for (const char* k : {"state", "kind", "repo", "limit"}) {
      if (args.has(k)) q += (q.empty() ? "?" : "&") + std::string(k) + "=" + query_escape(args.get(k));
    }
    auto r = api_call(args, "GET", "/api/v1/jobs" + q, "jobs");
    if (!r) return 1;
    json::Document doc;
    if (auto done = print_raw_or_parse(args, *r, doc, "jobs")) return *done;
    const json::Value* list = json::find(doc, "jobs");
    if (list == nullptr || !list->IsArray()) {
      std::fprintf(stderr, "helmgate jobs: unexpected answer from the server\n");
      return 1;
    }
    std::printf("%-20s %-11s %-8s %-30s %-8s %s\n", "ID", "STATE", "KIND", "REPO", "ATTEMPTS", "CREATED");
    for (const auto& j : list->GetArray()) {
      std::printf("%-20s %-11s %-8s %-30s %-8s %s\n", field(j, "id").c_str(), field(j, "state").c_str(),
                  field(j, "kind").c_str(), field(j, "repo").c_str(),
                  (field(j, "attempts") + "/" + field(j, "max_attempts")).c_str(), field(j, "created_at").c_str());
    }
    return 0;
  });
}

int replay(int argc, char** argv) {
  return run_command("replay", [&]() -> int {
    Args args(argc, argv, {"server", "token-env"}, {"json"});
    if (args.help()) {
      std::printf("usage: helmgate replay ID [options]\n\nRuns a job again as a new job (replay_of = ID).\n\noptions:\n%s",
                  kApiOptionsHelp);
      return 0;
    }
    if (args.positional().size() != 1) throw UsageError("exactly one job ID is required");
    auto r = api_call(args, "POST", "/api/v1/jobs/" + query_escape(args.positional()[0]) + "/replay", "replay");
    if (!r) return 1;
    json::Document doc;
    if (auto done = print_raw_or_parse(args, *r, doc, "replay")) return *done;
    std::printf("job %s replays %s\n", field(doc, "job").c_str(), field(doc, "replay_of").c_str());
    return 0;
  });
}

namespace {

// "helm: /path (v4.1.4+g...)" or why there is none: a new user sees at once which binaries the
// preview and apply will run.
void print_tool(const char* label, const char* env, const char* name, std::vector<std::string> version_args) {
  std::string path = runners::find_tool(env, name);
  if (path.empty()) {
    std::printf("%s: not found (set %s, put %s on PATH, or run scripts/bootstrap)\n", label, env, name);
    return;
  }
  version_args.insert(version_args.begin(), path);
  process::ProcessOptions po;
  po.env = {"HOME=/tmp", "PATH=/usr/bin:/bin"};
  po.timeout = std::chrono::seconds(10);
  po.max_stdout = 4096;
  std::string ver = "version unknown";
  if (auto r = process::run_process(version_args, po); r && r->exit_code == 0) {
    ver = r->out;
    while (!ver.empty() && std::isspace(static_cast<unsigned char>(ver.back()))) ver.pop_back();
    if (auto nl = ver.find('\n'); nl != std::string::npos) ver.resize(nl);
  }
  std::printf("%s: %s (%s)\n", label, path.c_str(), ver.c_str());
}

}  // namespace

int version(int /*argc*/, char** /*argv*/) {
  std::printf("helmgate %s\n", HELMGATE_VERSION);
  print_tool("helm", "HELMGATE_HELM", "helm", {"version", "--short"});
  print_tool("kubectl", "HELMGATE_KUBECTL", "kubectl", {"version", "--client"});
  return 0;
}

}  // namespace helmgate::cmd
