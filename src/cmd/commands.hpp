#pragma once
// Subcommands of the helmgate CLI. Each takes (argc, argv) with argv[0] = the subcommand name and
// returns the process exit code (0 ok, 1 failure, 2 usage error).
namespace helmgate::cmd {
int serve(int argc, char** argv);
int worker(int argc, char** argv);
int preview(int argc, char** argv);
int drift(int argc, char** argv);
int fleet(int argc, char** argv);
int jobs(int argc, char** argv);
int replay(int argc, char** argv);
int version(int argc, char** argv);
}  // namespace helmgate::cmd
