// engine::sops_keys: sops.age_keys read per job, each reference's failure named (key path, variable or
// file, never a key); a key file open to others is not used; SOPS_AGE_KEY only once the CLI asks for it.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/sops_keys.hpp"

using namespace helmgate;

namespace {
// The throwaway identity of tests/fuzz/fuzz_sops.cpp; it protects nothing.
const char* kId = "AGE-SECRET-KEY-1EZ3E24TCRT7DMXJT7G78GNEWKNPNYYTXM9CH0WJQE87RA8K28RUS5XKTG0";

config::SopsKeyRef env_ref(const std::string& name) { return {name, "", "sops.age_keys[0]"}; }
config::SopsKeyRef file_ref(const std::string& path) { return {"", path, "sops.age_keys[1]"}; }

bool has(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v) {
    if (s.find(part) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("sops keys: from a variable and a 0600 file, and unset, missing, open to others and malformed ones named", "[unit][engine]") {
  const auto dir = std::filesystem::temp_directory_path() / ("hg-sops-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto good = dir / "keys.txt", open = dir / "open.txt";
  std::ofstream(good) << "# test\n" << kId << "\n";
  std::ofstream(open) << kId << "\n";
  ::chmod(good.c_str(), 0600);
  ::chmod(open.c_str(), 0644);
  ::setenv("HG_TEST_SOPS_KEY", kId, 1);
  ::setenv("HG_TEST_SOPS_BAD", "not a key", 1);
  ::unsetenv("HG_TEST_SOPS_UNSET");

  config::SopsSettings s;
  s.age_keys = {env_ref("HG_TEST_SOPS_KEY"), file_ref(good.string())};
  auto k = engine::sops_keys(s);
  REQUIRE(k);
  REQUIRE(k->age.size() == 2);
  CHECK(k->age[0].recipient.rfind("age1", 0) == 0);
  CHECK(has(k->sources, "environment variable HG_TEST_SOPS_KEY"));

  s.age_keys = {env_ref("HG_TEST_SOPS_UNSET"), file_ref(open.string()), file_ref((dir / "missing").string()),
                env_ref("HG_TEST_SOPS_BAD")};
  k = engine::sops_keys(s);
  REQUIRE(k);
  CHECK(k->age.empty());
  CHECK(has(k->sources, "HG_TEST_SOPS_UNSET is not set"));
  CHECK(has(k->sources, "readable by others"));
  CHECK(has(k->sources, "does not exist"));
  CHECK(has(k->sources, "not an age identity"));
  for (const auto& src : k->sources) CHECK(src.find("AGE-SECRET-KEY-1EZ3") == std::string::npos);

  // SOPS_AGE_KEY is the CLI's: the server (the default) never reads it.
  ::setenv("SOPS_AGE_KEY", kId, 1);
  CHECK_FALSE(engine::sops_keys({}));
  engine::use_sops_environment(true);
  auto cli = engine::sops_keys({});
  engine::use_sops_environment(false);
  ::unsetenv("SOPS_AGE_KEY");
  REQUIRE(cli);
  CHECK(cli->age.size() == 1);
  std::filesystem::remove_all(dir);
}
