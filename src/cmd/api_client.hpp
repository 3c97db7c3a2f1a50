#pragma once
// Shared by `helmgate jobs` and `helmgate replay`: where the API is and how to authenticate.
#include <optional>
#include <string>

#include "cmd/args.hpp"
#include "http/client.hpp"

namespace helmgate::cmd {

inline const char* kApiOptionsHelp =
    "  --server URL       helmgate API base URL (default: $HELMGATE_SERVER or http://127.0.0.1:8080)\n"
    "  --token-env NAME   environment variable holding the API token (default: HELMGATE_API_TOKEN)\n";

// Performs an authenticated API call; prints a clear error and returns nullopt on failure.
std::optional<http::ClientResponse> api_call(const Args& args, const std::string& method, const std::string& path,
                                             const char* command);

}  // namespace helmgate::cmd
