#pragma once
// A small, strict command-line parser shared by the subcommands: --key value, --key=value, flags,
// positionals; an unknown option is an error that names it.
#include <cstdio>
#include <exception>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace helmgate::cmd {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // `options` take a value, `flags` do not. Throws UsageError.
  Args(int argc, char** argv, const std::set<std::string>& options, const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.count(name) != 0 || flags_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  int get_int(const std::string& name, int def, int min, int max) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return flags_.count("help") != 0; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// Loads logging settings: level name, "text" or "json".
void setup_logging(const std::string& level, const std::string& format);

// Runs a subcommand body and maps what escapes it to the exit codes every subcommand shares:
// 2 for a usage or configuration error, 1 for any other failure, each with one clear line on stderr.
// Commands whose 2 means something else (drift: "needs attention", as preview's "changes") pass
// usage_status = 1.
template <typename Body>
int run_command(const char* name, Body&& body, int usage_status = 2) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "helmgate %s: %s\n(see helmgate %s --help)\n", name, e.what(), name);
    return usage_status;
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "helmgate %s: invalid configuration: %s\n", name, e.what());
    return usage_status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "helmgate %s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace helmgate::cmd
