// helmgate: the CLI. Each subcommand lives in src/cmd/; this file only dispatches.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "cmd/commands.hpp"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"serve", "run the webhook/API server (and, with --workers N, workers in-process)", helmgate::cmd::serve},
    {"worker", "run job workers against the shared Redis", helmgate::cmd::worker},
    {"preview", "render and diff the releases a change touches, locally", helmgate::cmd::preview},
    {"drift", "scan the clusters for drift now (what the worker's schedule does)", helmgate::cmd::drift},
    {"fleet", "print the fleet overview (clusters, add-ons) through the API", helmgate::cmd::fleet},
    {"jobs", "list or show jobs through the API", helmgate::cmd::jobs},
    {"replay", "replay a job through the API", helmgate::cmd::replay},
    {"version", "print the version", helmgate::cmd::version},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: helmgate <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'helmgate <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) return helmgate::cmd::version(argc - 1, argv + 1);
  std::string_view name = argv[1];
  // Everything helmgate and its children (helm, kubectl, git) write may hold rendered Secrets, values or
  // fetched content: owner-only, whatever umask we were started with. Our own cache and temporary files
  // also set their modes explicitly (core/private_files.hpp).
  ::umask(077);
  for (const auto& c : kCommands) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "helmgate: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
