#pragma once
// Runs a child process from an argv vector (never a shell) with a clean environment, a timeout and caps on
// what it may print, inside the sandbox (process/sandbox.hpp: namespaces and resource limits). Used by
// render (`helm template`, `helm pull`, `kubectl kustomize`) and apply (helm against a cluster).
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "process/sandbox.hpp"

namespace helmgate::process {

struct ProcessOptions {
  std::vector<std::string> env;  // the child's whole environment ("K=V"); nothing is inherited
  std::string cwd;               // empty: inherit
  std::chrono::milliseconds timeout{60000};
  size_t max_stdout = 64u << 20;
  size_t max_stderr = 1u << 20;
  // true: run inside the render sandbox (namespaces per sandbox_settings(), resource limits), seeing only
  // `sandbox`. Every child that handles repository content sets it (renderer, apply); false is for trusted
  // tools (git in tests).
  bool sandboxed = false;
  SandboxMounts sandbox;  // what a sandboxed child may see and whether it keeps the network
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  bool stdout_truncated = false;  // the child was killed when it went over max_stdout
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
  // Set when the child ran into one of the sandbox's resource limits: "memory", "cpu", "processes" or
  // "file size"; limit_text says which limit, with its value and configuration key, for messages.
  std::string limit;
  std::string limit_text;
};

// Fails only when the process cannot be started; a non-zero exit is a successful run with exit_code set.
core::Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options);

// "helm template x ./c" for messages.
std::string describe_argv(const std::vector<std::string>& argv);

}  // namespace helmgate::process
