#include "config/ui.hpp"

#include <sys/stat.h>

#include "core/env.hpp"
#include "core/files.hpp"

namespace helmgate::config::detail {

void read_ui(const Reader& r, const YAML::Node& n, UiSettings& ui) {
  r.expect_map(n, "ui", {"auth", "read_token_env", "read_token_file", "proxy_user_header"});
  std::string auth = r.str(n, "ui", "auth", "token");
  if (auth == "token") {
    ui.auth = UiAuth::token;
  } else if (auth == "proxy") {
    ui.auth = UiAuth::proxy;
  } else {
    r.fail(n["auth"], "ui.auth", "must be token (a read token) or proxy (the operator's proxy authenticates)");
  }
  ui.read_token_env = r.str(n, "ui", "read_token_env", "");
  ui.read_token_file = r.str(n, "ui", "read_token_file", "");
  ui.proxy_user_header = r.str(n, "ui", "proxy_user_header", "");
  if (!ui.read_token_env.empty() && !valid_env_name(ui.read_token_env)) {
    r.fail(n["read_token_env"], "ui.read_token_env", "must be an environment variable name");
  }
  if (!ui.read_token_env.empty() && !ui.read_token_file.empty()) {
    r.fail(n["read_token_file"], "ui.read_token_file", "give read_token_env or read_token_file, not both");
  }
  if (ui.auth == UiAuth::proxy && (!ui.read_token_env.empty() || !ui.read_token_file.empty())) {
    r.fail(n["auth"], "ui.auth", "proxy takes no read token (remove read_token_env/read_token_file, or use auth: token)");
  }
  if (!ui.proxy_user_header.empty()) {
    if (ui.auth != UiAuth::proxy) r.fail(n["proxy_user_header"], "ui.proxy_user_header", "only with auth: proxy");
    for (char c : ui.proxy_user_header) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) r.fail(n["proxy_user_header"], "ui.proxy_user_header", "must be a header name (letters, digits, '-')");
    }
  }
}

void resolve_ui_token(Config& cfg) {
  UiSettings& ui = cfg.ui;
  if (!ui.read_token_env.empty()) {
    ui.read_token = core::env_or(ui.read_token_env);
    if (ui.read_token.empty()) {
      throw ConfigError(cfg.source + ": ui.read_token_env: environment variable " + ui.read_token_env +
                        " is not set (it must hold the read token; the file never does)");
    }
  } else if (!ui.read_token_file.empty()) {
    const std::string& path = ui.read_token_file;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      throw ConfigError(cfg.source + ": ui.read_token_file: cannot read " + path + ": it does not exist");
    }
    if ((st.st_mode & 077) != 0) {
      throw ConfigError(cfg.source + ": ui.read_token_file: " + path +
                        " is readable by group or others; chmod 600 it (it holds a secret)");
    }
    auto read = core::read_file(path, 64 * 1024);
    if (!read) throw ConfigError(cfg.source + ": ui.read_token_file: cannot read " + path + " (or it is over 64 KiB)");
    std::string v = std::move(*read);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
    if (v.empty()) throw ConfigError(cfg.source + ": ui.read_token_file: " + path + " is empty");
    ui.read_token = std::move(v);
  }
}

}  // namespace helmgate::config::detail
