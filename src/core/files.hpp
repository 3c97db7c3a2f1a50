#pragma once
// Reading a whole file, bounded: the one way files are read into memory.
#include <cstddef>
#include <optional>
#include <string>

namespace helmgate::core {

// The whole content of the file at `path`, or nullopt when it cannot be opened or read, is neither a
// regular file nor a pipe (`--config <(...)` reads one), or holds more than `max_bytes` (checked before
// reading, and again while reading, so a file that grows meanwhile or a pipe is not read past it either).
std::optional<std::string> read_file(const std::string& path, size_t max_bytes = size_t{1} << 30);

}  // namespace helmgate::core
