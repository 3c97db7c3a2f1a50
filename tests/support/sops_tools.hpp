#pragma once
// The real sops and age, built by scripts/sops-tools from the Go module proxy (pinned, cached under
// $HOME/.cache/helmgate/tools), for tests that make SOPS fixtures at test time. Header-only: tests that
// include it link helmgate_process. Every helper fails the test (with the tool's stderr) when a tool does.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "process/process.hpp"
#include "support/support.hpp"

namespace helmgate::test {

// The directory holding sops, age and age-keygen (built once per machine, then cached).
inline const std::string& sops_tools_bin() {
  static std::once_flag once;
  static std::string bin;
  std::call_once(once, [] {
    process::ProcessOptions po;
    po.env = {"PATH=/usr/local/go/bin:/usr/bin:/bin", "HOME=" + std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root")};
    if (const char* c = std::getenv("HELMGATE_CACHE")) po.env.push_back(std::string("HELMGATE_CACHE=") + c);
    po.timeout = std::chrono::minutes(40);
    auto r = process::run_process({"/bin/bash", source_dir() + "/scripts/sops-tools"}, po);
    if (!r.ok() || r->exit_code != 0) {
      throw std::runtime_error("scripts/sops-tools failed: " + (r.ok() ? r->err : r.error().message));
    }
    std::string dir = r->out;
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    bin = dir + "/bin";
  });
  return bin;
}

// Standard base64 (with or without padding), for tests that take age files apart.
inline std::string base64_encode(const std::string& in, bool pad = true) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int sh = 18; sh >= 0; sh -= 6) out += a[(v >> sh) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    if (pad) out += "=";
  }
  return out;
}

// A scratch directory for one test, removed at the end.
struct SopsScratch {
  std::filesystem::path dir;
  SopsScratch() {
    static std::atomic<int> n{0};
    dir = std::filesystem::temp_directory_path() /
          ("hg-sops-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~SopsScratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = dir / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p.string();
  }
};

struct AgeKeyPair {
  std::string identity;   // AGE-SECRET-KEY-1...
  std::string recipient;  // age1...
};

inline process::ProcessResult run_sops_tool(const std::vector<std::string>& argv, std::vector<std::string> env = {}) {
  process::ProcessOptions po;
  env.push_back("PATH=/usr/bin:/bin");
  env.push_back("HOME=" + std::filesystem::temp_directory_path().string());
  po.env = env;
  po.timeout = std::chrono::minutes(2);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  INFO(process::describe_argv(argv) + ": " + r->err);
  REQUIRE(r->exit_code == 0);
  return *r;
}

// A new key pair from the real age-keygen.
inline AgeKeyPair age_keygen() {
  auto r = run_sops_tool({sops_tools_bin() + "/age-keygen"});
  AgeKeyPair k;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t nl = r.out.find('\n', start);
    if (nl == std::string::npos) nl = r.out.size();
    const std::string line = r.out.substr(start, nl - start);
    if (line.rfind("AGE-SECRET-KEY-1", 0) == 0) k.identity = line;
    if (line.rfind("# public key: ", 0) == 0) k.recipient = line.substr(14);
    start = nl + 1;
  }
  REQUIRE(!k.identity.empty());
  REQUIRE(!k.recipient.empty());
  return k;
}

// `sops --encrypt` of `plaintext` written as <name> (its extension picks the format), for the recipients,
// with extra flags (--encrypted-regex ...). Returns the encrypted file's text.
inline std::string sops_encrypt(const SopsScratch& s, const std::string& name, const std::string& plaintext,
                                const std::vector<std::string>& recipients, std::vector<std::string> flags = {}) {
  const std::string path = s.write(name, plaintext);
  std::string rs;
  for (const auto& r : recipients) rs += (rs.empty() ? "" : ",") + r;
  std::vector<std::string> argv = {sops_tools_bin() + "/sops", "--encrypt", "--age", rs};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(path);
  return run_sops_tool(argv).out;
}

// `sops --decrypt` with the given identity: the oracle the tests compare helmgate with.
inline std::string sops_decrypt(const SopsScratch& s, const std::string& name, const std::string& encrypted,
                                const std::string& identity) {
  const std::string path = s.write(name, encrypted);
  return run_sops_tool({sops_tools_bin() + "/sops", "--decrypt", path}, {"SOPS_AGE_KEY=" + identity}).out;
}

// `age --encrypt --armor` to a recipient (for the age tests on their own).
inline std::string age_encrypt(const SopsScratch& s, const std::string& plaintext, const std::string& recipient,
                               bool armor = true) {
  const std::string in = s.write("plain.bin", plaintext);
  const std::string out = (s.dir / "cipher.age").string();
  std::vector<std::string> argv = {sops_tools_bin() + "/age", "--encrypt", "-r", recipient, "-o", out};
  if (armor) argv.push_back("--armor");
  argv.push_back(in);
  run_sops_tool(argv);
  return read_file(out);
}

}  // namespace helmgate::test
