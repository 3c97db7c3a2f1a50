#pragma once
// The glob of ${var#pattern} and ${var%pattern} in Flux's postBuild substitution: Go's path.Match as
// fluxcd/pkg's envsubst modified it ('*' also crosses '/', a trailing '*' takes the rest), and the UTF-8
// steps Go takes (runes for '?' and classes, bytes otherwise).
#include <cstddef>
#include <string>

namespace helmgate::release::subst::glob {

// Bytes of the UTF-8 rune at i (1 for an invalid or cut one, as Go's decoder).
size_t rune_len(const std::string& s, size_t i);
// s with its runes in reverse order (bytes of an invalid sequence one by one).
std::string reverse_runes(const std::string& s);
// s without the shortest (or longest) prefix the pattern matches; s unchanged on a bad pattern.
std::string trim_prefix(const std::string& s, const std::string& pattern, bool longest);

}  // namespace helmgate::release::subst::glob
