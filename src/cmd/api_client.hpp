#pragma once
// Shared by `helmgate jobs` and `helmgate replay`: where the API is and how to authenticate.
#include <optional>
#include <string>

#include "cmd/args.hpp"
#include "core/json.hpp"
#include "http/client.hpp"

namespace helmgate::cmd {

inline const char* kApiOptionsHelp =
    "  --server URL       helmgate API base URL (default: $HELMGATE_SERVER or http://127.0.0.1:8080)\n"
    "  --token-env NAME   environment variable holding the API token (default: HELMGATE_API_TOKEN)\n";

// Performs an authenticated API call; prints a clear error and returns nullopt on failure.
std::optional<http::ClientResponse> api_call(const Args& args, const std::string& method, const std::string& path,
                                             const char* command);
// The same with the server URL and the token's variable already chosen.
std::optional<http::ClientResponse> api_call(std::string server, const std::string& token_env,
                                             const std::string& method, const std::string& path, const char* command);

// With --json, prints the API's answer as it is and returns 0; otherwise parses it into doc and returns
// nullopt so the caller formats it (or 1, with a message, when the answer is not JSON).
std::optional<int> print_raw_or_parse(const Args& args, const http::ClientResponse& r, core::json::Document& doc,
                                      const char* command);

}  // namespace helmgate::cmd
