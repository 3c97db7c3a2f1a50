#include "core/json_select.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace helmgate::core::json {

namespace {

// The reader recurses once per level of nesting.
constexpr unsigned kMaxDepth = 128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

PathSet::PathSet(std::initializer_list<std::string_view> paths) {
  nodes_.emplace_back();
  for (std::string_view path : paths) {
    uint32_t cur = 0;
    std::string_view rest = path;
    for (;;) {
      size_t dot = rest.find('.');
      std::string_view name = rest.substr(0, dot);
      auto& kids = nodes_[cur].children;
      auto it = std::find_if(kids.begin(), kids.end(), [&](uint32_t k) { return nodes_[k].name == name; });
      uint32_t next;
      if (it != kids.end()) {
        next = *it;
      } else {
        // An object remembers which of its wanted members it has met in a 64-bit mask.
        if (kids.size() == 64) throw std::invalid_argument("json::PathSet: more than 64 members wanted in one object");
        next = static_cast<uint32_t>(nodes_.size());
        nodes_[cur].children.push_back(next);
        nodes_.push_back(Node{std::string(name), {}, -1});
      }
      cur = next;
      if (dot == std::string_view::npos) break;
      rest = rest.substr(dot + 1);
    }
    if (nodes_[cur].slot < 0) nodes_[cur].slot = static_cast<int32_t>(size_++);
  }
}

std::optional<size_t> PathSet::slot(std::string_view path) const {
  uint32_t cur = 0;
  for (;;) {
    size_t dot = path.find('.');
    std::string_view name = path.substr(0, dot);
    const auto& kids = nodes_[cur].children;
    auto it = std::find_if(kids.begin(), kids.end(), [&](uint32_t k) { return nodes_[k].name == name; });
    if (it == kids.end()) return std::nullopt;
    cur = *it;
    if (dot == std::string_view::npos) break;
    path = path.substr(dot + 1);
  }
  if (nodes_[cur].slot < 0) return std::nullopt;
  return static_cast<size_t>(nodes_[cur].slot);
}

const Selected* Selection::at(std::string_view path) const {
  auto s = paths->slot(path);
  return s ? &values[*s] : nullptr;
}

// One pass over the text. Each value is read knowing the path-tree node it sits at (-1: nothing is wanted
// at or below it, so it is only checked).
class SelectReader {
 public:
  SelectReader(std::string_view text, Selection& out, unsigned max_depth)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        nodes_(out.paths->nodes_),
        out_(out.values),
        root_is_object_(out.root_is_object),
        max_depth_(std::min(max_depth, kMaxDepth)) {}

  std::optional<ParseFailure> run() {
    ws();
    if (p_ == end_) {
      error("the text is empty");
    } else {
      root_is_object_ = *p_ == '{';
      if (value(0)) {
        ws();
        if (p_ != end_) error("the document root must not be followed by other values");
      }
    }
    if (why_ == nullptr) return std::nullopt;
    if (too_deep_) {
      return ParseFailure{"nests deeper than " + std::to_string(max_depth_) + " levels (offset " + std::to_string(at_) + ")",
                          true};
    }
    return ParseFailure{"offset " + std::to_string(at_) + ": " + why_, false};
  }

 private:
  bool error(const char* why) { return error_at(p_, why); }
  bool error_at(const char* where, const char* why) {
    if (why_ == nullptr) {
      why_ = why;
      at_ = static_cast<size_t>(where - begin_);
    }
    return false;
  }

  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(int32_t node) {
    Selected* sel = node >= 0 && nodes_[node].slot >= 0 ? &out_[static_cast<size_t>(nodes_[node].slot)] : nullptr;
    if (p_ == end_) return error("invalid value");
    switch (*p_) {
      case '{':
        if (sel != nullptr) sel->type = Selected::Type::object;
        return object(node);
      case '[':
        if (sel != nullptr) sel->type = Selected::Type::array;
        return array();
      case '"':
        ++p_;
        if (sel == nullptr) return string(nullptr);
        sel->type = Selected::Type::string;
        return string(&sel->string);
      case 't':
        return literal("true", sel, Selected::Type::boolean, true);
      case 'f':
        return literal("false", sel, Selected::Type::boolean, false);
      case 'n':
        return literal("null", sel, Selected::Type::null, false);
      default:
        return number(sel);
    }
  }

  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return error("too deep");
    }
    ++p_;
    ws();
    return true;
  }

  bool object(int32_t node) {
    if (!enter()) return false;
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      --depth_;
      return true;
    }
    const std::vector<uint32_t>* kids = node >= 0 && !nodes_[node].children.empty() ? &nodes_[node].children : nullptr;
    uint64_t met = 0;  // the wanted members seen in this object: a name met again is only checked
    for (;;) {
      if (p_ == end_ || *p_ != '"') return error("missing a name for an object member");
      ++p_;
      int32_t child = -1;
      if (kids == nullptr) {
        if (!string(nullptr)) return false;
      } else {
        key_.clear();
        if (!string(&key_)) return false;
        for (size_t i = 0; i < kids->size(); ++i) {
          if (nodes_[(*kids)[i]].name == key_ && (met & (uint64_t{1} << i)) == 0) {
            met |= uint64_t{1} << i;
            child = static_cast<int32_t>((*kids)[i]);
            break;
          }
        }
      }
      ws();
      if (p_ == end_ || *p_ != ':') return error("missing a colon after the name of an object member");
      ++p_;
      ws();
      bool more = false;
      if (!value(child) || !next(more, '}', "missing a comma or '}' after an object member")) return false;
      if (!more) return true;
    }
  }

  bool array() {
    if (!enter()) return false;
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      --depth_;
      return true;
    }
    for (bool more = true; more;) {
      if (!value(-1) || !next(more, ']', "missing a comma or ']' after an array element")) return false;
    }
    return true;
  }

  // After a member or an element: a comma (more to come) or the container's end.
  bool next(bool& more, char close, const char* missing) {
    ws();
    if (p_ != end_ && *p_ == ',') {
      ++p_;
      ws();
      more = true;
      return true;
    }
    if (p_ != end_ && *p_ == close) {
      ++p_;
      --depth_;
      more = false;
      return true;
    }
    return error(missing);
  }

  bool literal(const char* word, Selected* sel, Selected::Type type, bool b) {
    size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return error("invalid value");
    p_ += n;
    if (sel != nullptr) {
      sel->type = type;
      sel->boolean = b;
    }
    return true;
  }

  bool number(Selected* sel) {
    bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !is_digit(*p_)) return error("invalid value");
    uint64_t magnitude = 0;
    bool fits = true;  // in uint64
    if (*p_ == '0') {
      ++p_;
    } else {
      for (; p_ != end_ && is_digit(*p_); ++p_) {
        auto d = static_cast<uint64_t>(*p_ - '0');
        if (magnitude > (std::numeric_limits<uint64_t>::max() - d) / 10) fits = false;
        magnitude = magnitude * 10 + d;
      }
    }
    bool integral = true;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      integral = false;
      if (p_ == end_ || !is_digit(*p_)) return error("missing the fraction of a number");
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      integral = false;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return error("missing the exponent of a number");
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (sel != nullptr) {
      sel->type = Selected::Type::number;
      constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      if (integral && fits && (negative ? magnitude <= kMax + 1 : magnitude <= kMax)) {
        sel->is_int64 = true;
        sel->int64 = negative ? static_cast<int64_t>(~magnitude + 1) : static_cast<int64_t>(magnitude);
      }
    }
    return true;
  }

  // After the opening quote, up to and past the closing one; decoded into `into` when given.
  bool string(std::string* into) {
    for (;;) {
      const char* start = p_;
      skip_plain();
      if (into != nullptr) into->append(start, static_cast<size_t>(p_ - start));
      if (p_ == end_) return error("missing the closing quotation mark of a string");
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\') return error("a control character in a string (it must be escaped)");
      if (!escape(into)) return false;
    }
  }

  static bool plain(char c) { return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\'; }

  // Past the bytes that stand for themselves in a string: to a quote, a backslash, a control character or
  // the end. Sixteen at a time where SSE2 is (every x86-64), never reading past the end.
  void skip_plain() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1F);
    while (end_ - p_ >= 16) {
      const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // c <= 0x1F exactly when max(c, 0x1F) == 0x1F, comparing unsigned.
      const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(s, quote), _mm_cmpeq_epi8(s, backslash)),
                                        _mm_cmpeq_epi8(_mm_max_epu8(s, control), control));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ != end_ && plain(*p_)) ++p_;
  }

  bool hex4(uint32_t& cp, const char* escape_at) {
    if (end_ - p_ < 4) return error_at(escape_at, "an incorrect hex digit after \\u in a string");
    cp = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      char c = *p_;
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return error_at(escape_at, "an incorrect hex digit after \\u in a string");
      }
      cp = cp << 4 | d;
    }
    return true;
  }

  // At a backslash: the escape, decoded into `into` when given. A high surrogate must be followed by an
  // escaped low one; a lone low surrogate is decoded as is (as the document parser does), and is then not
  // valid UTF-8 for whoever checks the string.
  bool escape(std::string* into) {
    const char* at = p_++;
    if (p_ == end_) return error_at(at, "an invalid escape in a string");
    char e = *p_++;
    char c;
    switch (e) {
      case '"': c = '"'; break;
      case '\\': c = '\\'; break;
      case '/': c = '/'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp, at)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return error_at(at, "an invalid surrogate pair in a string");
          p_ += 2;
          uint32_t low;
          if (!hex4(low, at)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return error_at(at, "an invalid surrogate pair in a string");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (into != nullptr) append_utf8(*into, cp);
        return true;
      }
      default:
        return error_at(at, "an invalid escape in a string");
    }
    if (into != nullptr) into->push_back(c);
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const std::vector<PathSet::Node>& nodes_;
  std::vector<Selected>& out_;
  bool& root_is_object_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
  const char* why_ = nullptr;
  size_t at_ = 0;
  std::string key_;
};

std::optional<ParseFailure> select(std::string_view text, Selection& out, unsigned max_depth) {
  return SelectReader(text, out, max_depth).run();
}

}  // namespace helmgate::core::json
