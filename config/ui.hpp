#pragma once
// The `ui:` section (config::UiSettings): who may read the status page and the fleet API.
#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/reader.hpp"

namespace helmgate::config::detail {

void read_ui(const Reader& r, const YAML::Node& n, UiSettings& ui);
// Reads the read token from ui.read_token_env or ui.read_token_file when one is named. Throws
// ConfigError naming the key and the variable or file (never the value) when it is unset, unreadable,
// empty, or the file is readable by others than its owner.
void resolve_ui_token(Config& cfg);

}  // namespace helmgate::config::detail
