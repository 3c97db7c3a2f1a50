// The `ui:` section: who reads the status page and the fleet API (config/ui.cpp).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "config_error.hpp"

using namespace helmgate;

namespace {
using test::error_of;

std::string resolve_error(config::Config& cfg) {
  try {
    config::resolve_secrets(cfg, {.webhook_secrets = false, .api_token = true, .forge_tokens = false});
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("ui: defaults to token access with no read token", "[unit][config][ui]") {
  auto cfg = config::load_string("");
  CHECK(cfg.ui.auth == config::UiAuth::token);
  CHECK(cfg.ui.read_token_env.empty());
  CHECK(cfg.ui.read_token_file.empty());
}

TEST_CASE("ui: the read token comes from the variable it names, never the file", "[unit][config][ui]") {
  ::setenv("HG_TEST_API_TOKEN2", "api", 1);
  auto cfg = config::load_string("api: {token_env: HG_TEST_API_TOKEN2}\nui: {read_token_env: HG_TEST_READ_TOKEN}\n");
  ::unsetenv("HG_TEST_READ_TOKEN");
  std::string err = resolve_error(cfg);
  CHECK(err.find("ui.read_token_env: environment variable HG_TEST_READ_TOKEN is not set") != std::string::npos);
  ::setenv("HG_TEST_READ_TOKEN", "read-secret", 1);
  CHECK(resolve_error(cfg).empty());
  CHECK(cfg.ui.read_token == "read-secret");
  ::unsetenv("HG_TEST_READ_TOKEN");
}

TEST_CASE("ui: the read token from a file: owner-only, trailing newline ignored", "[unit][config][ui]") {
  ::setenv("HG_TEST_API_TOKEN2", "api", 1);
  std::string path = (std::filesystem::temp_directory_path() / ("hg-read-token-" + std::to_string(::getpid()))).string();
  {
    std::ofstream(path) << "file-secret\n";
  }
  ::chmod(path.c_str(), 0644);
  auto cfg = config::load_string("api: {token_env: HG_TEST_API_TOKEN2}\nui:\n  read_token_file: " + path + "\n");
  std::string err = resolve_error(cfg);
  CHECK(err.find("readable by group or others") != std::string::npos);
  CHECK(err.find("file-secret") == std::string::npos);
  ::chmod(path.c_str(), 0600);
  CHECK(resolve_error(cfg).empty());
  CHECK(cfg.ui.read_token == "file-secret");
  std::filesystem::remove(path);
  CHECK(resolve_error(cfg).find("does not exist") != std::string::npos);
}

TEST_CASE("ui: errors name the key and the rule", "[unit][config][ui]") {
  CHECK(error_of("ui: {auth: basic}\n").find("ui.auth: must be token") != std::string::npos);
  CHECK(error_of("ui: {read_token_env: 'A B'}\n").find("ui.read_token_env: must be an environment variable name") !=
        std::string::npos);
  CHECK(error_of("ui: {read_token_env: A, read_token_file: /x}\n").find("not both") != std::string::npos);
  CHECK(error_of("ui: {auth: proxy, read_token_env: A}\n").find("proxy takes no read token") != std::string::npos);
  CHECK(error_of("ui: {proxy_user_header: X-User}\n").find("only with auth: proxy") != std::string::npos);
  CHECK(error_of("ui: {auth: proxy, proxy_user_header: 'X: y'}\n").find("must be a header name") != std::string::npos);
  CHECK(error_of("ui: {bogus: 1}\n").find("ui.bogus: unknown key") != std::string::npos);
  auto cfg = config::load_string("ui: {auth: proxy, proxy_user_header: X-Forwarded-User}\n");
  CHECK(cfg.ui.auth == config::UiAuth::proxy);
  CHECK(cfg.ui.proxy_user_header == "X-Forwarded-User");
}
