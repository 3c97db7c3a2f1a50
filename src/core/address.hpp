#pragma once
// Network addresses as the egress policy (egress.hpp) sees them: the class of a numeric address
// (loopback, private, link-local, ...) and the addresses a host name resolves to.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace helmgate::core {

// The class of a numeric address ("loopback", "private", "link-local", ...), or "" for a public address.
// An unparseable string is "invalid".
std::string address_class(std::string_view ip);

// Resolves a host name to numeric addresses (every address family). Tests inject their own.
using Resolver = std::function<Result<std::vector<std::string>>(const std::string& host)>;
Result<std::vector<std::string>> resolve_host(const std::string& host);

}  // namespace helmgate::core
