#include "release/substitute_glob.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace helmgate::release::subst::glob {

namespace {

uint32_t rune_at(const std::string& s, size_t i, size_t n) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (n == 1) return c < 0x80 ? c : 0xFFFD;
  uint32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) r = (r << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return r;
}

// ---- the glob of ${var#pattern}: Go's path.Match as envsubst modified it ('*' also crosses '/') ----

struct BadPattern {};

// One range end in a character class; advances c.
uint32_t class_char(const std::string& p, size_t& c) {
  if (c >= p.size() || p[c] == '-' || p[c] == ']') throw BadPattern{};
  if (p[c] == '\\') {
    if (++c >= p.size()) throw BadPattern{};
  }
  size_t n = rune_len(p, c);
  uint32_t r = rune_at(p, c, n);
  if (r == 0xFFFD && n == 1) throw BadPattern{};
  c += n;
  if (c >= p.size()) throw BadPattern{};
  return r;
}

// Matches `chunk` (no unescaped '*') at the start of s; the rest of s, or nullopt.
std::optional<std::string> match_chunk(const std::string& chunk, std::string s) {
  size_t c = 0;
  while (c < chunk.size()) {
    if (s.empty()) return std::nullopt;
    if (chunk[c] == '[') {
      size_t n = rune_len(s, 0);
      uint32_t r = rune_at(s, 0, n);
      s.erase(0, n);
      ++c;
      bool negated = c < chunk.size() && chunk[c] == '^';
      if (negated) ++c;
      bool match = false;
      for (int ranges = 0;; ++ranges) {
        if (c < chunk.size() && chunk[c] == ']' && ranges > 0) {
          ++c;
          break;
        }
        uint32_t lo = class_char(chunk, c), hi = lo;
        if (chunk[c] == '-') {
          ++c;
          hi = class_char(chunk, c);
        }
        if (lo <= r && r <= hi) match = true;
      }
      if (match == negated) return std::nullopt;
    } else if (chunk[c] == '?') {
      s.erase(0, rune_len(s, 0));
      ++c;
    } else {
      if (chunk[c] == '\\' && ++c >= chunk.size()) throw BadPattern{};
      if (chunk[c] != s[0]) return std::nullopt;
      s.erase(0, 1);
      ++c;
    }
  }
  return s;
}

bool glob_match(std::string pattern, std::string name) {
  while (!pattern.empty()) {
    bool star = false;
    while (!pattern.empty() && pattern[0] == '*') {
      pattern.erase(0, 1);
      star = true;
    }
    bool in_range = false;
    size_t i = 0;
    for (; i < pattern.size(); ++i) {
      if (pattern[i] == '\\') {
        if (i + 1 < pattern.size()) ++i;
      } else if (pattern[i] == '[') {
        in_range = true;
      } else if (pattern[i] == ']') {
        in_range = false;
      } else if (pattern[i] == '*' && !in_range) {
        break;
      }
    }
    std::string chunk = pattern.substr(0, i);
    pattern.erase(0, i);
    if (star && chunk.empty()) return true;  // a trailing '*' takes the rest
    auto rest = match_chunk(chunk, name);
    if (rest && (rest->empty() || !pattern.empty())) {
      name = *rest;
      continue;
    }
    bool advanced = false;
    if (star) {
      for (size_t k = 0; k < name.size(); ++k) {
        auto t = match_chunk(chunk, name.substr(k + 1));
        if (!t) continue;
        if (pattern.empty() && !t->empty()) continue;
        name = *t;
        advanced = true;
        break;
      }
    }
    if (!advanced) return false;
  }
  return name.empty();
}

}  // namespace

size_t rune_len(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

std::string reverse_runes(const std::string& s) {
  std::vector<std::string> runes;
  for (size_t i = 0; i < s.size();) {
    size_t n = rune_len(s, i);
    runes.push_back(s.substr(i, n));
    i += n;
  }
  std::string out;
  for (auto it = runes.rbegin(); it != runes.rend(); ++it) out += *it;
  return out;
}

// Strips the shortest (or longest) prefix of s that the glob matches; s unchanged on a bad pattern.
std::string trim_prefix(const std::string& s, const std::string& pattern, bool longest) {
  try {
    std::string found;
    for (size_t i = 0; i < s.size(); ++i) {
      std::string candidate = s.substr(0, s.size() - i);
      if (!glob_match(pattern, candidate)) continue;
      if (longest) return s.substr(candidate.size());
      found = candidate;
    }
    return found.empty() ? s : s.substr(found.size());
  } catch (const BadPattern&) {
    return s;
  }
}


}  // namespace helmgate::release::subst::glob
