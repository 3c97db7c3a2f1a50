// Values as Go writes them: numbers as encoding/json and sigs.k8s.io/yaml format them (shortest
// round-trip digits), and strings as UTF-8 with invalid bytes replaced, quoted for both JSON and YAML.
// Reading scalars is typed_scalar.cpp.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/json.hpp"
#include "release/typed_scalar.hpp"

namespace helmgate::release::typed {

namespace detail {

namespace {

// Shortest round-trip digits of a finite, non-zero |d| and its decimal exponent: d = 0.DIGITS x 10^dp.
struct Digits {
  std::string digits;
  int dp = 0;
};

template <typename F>
Digits shortest(F d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d < 0 ? -d : d, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  auto e = s.find('e');
  std::string mant = s.substr(0, e);
  int exp = std::atoi(s.c_str() + e + 1);
  Digits out;
  for (char c : mant) {
    if (c != '.') out.digits += c;
  }
  while (out.digits.size() > 1 && out.digits.back() == '0') out.digits.pop_back();
  out.dp = exp + 1;
  return out;
}

std::string fmt_e(bool neg, const Digits& g) {
  std::string out = neg ? "-" : "";
  out += g.digits[0];
  if (g.digits.size() > 1) out += "." + g.digits.substr(1);
  int exp = g.dp - 1;
  out += exp < 0 ? "e-" : "e+";
  int a = exp < 0 ? -exp : exp;
  if (a < 10) out += "0";
  out += std::to_string(a);
  return out;
}

std::string fmt_f(bool neg, const Digits& g) {
  std::string out = neg ? "-" : "";
  const int nd = static_cast<int>(g.digits.size());
  if (g.dp <= 0) {
    out += "0." + std::string(static_cast<size_t>(-g.dp), '0') + g.digits;
  } else if (g.dp >= nd) {
    out += g.digits + std::string(static_cast<size_t>(g.dp - nd), '0');
  } else {
    out += g.digits.substr(0, static_cast<size_t>(g.dp)) + "." + g.digits.substr(static_cast<size_t>(g.dp));
  }
  return out;
}

std::string go_fmt_e(double d, bool json_cleanup) {
  Digits g = shortest(d);
  std::string out = fmt_e(std::signbit(d), g);
  if (json_cleanup) {
    size_t n = out.size();
    if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') out.erase(n - 2, 1);
  }
  return out;
}

bool fits_int64_literal(const std::string& s, int64_t& out) {
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
  }
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

// UTF-8 decoding that maps invalid bytes to U+FFFD, as Go's encoding/json does.
template <typename F>
void each_rune(const std::string& s, F&& f) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) >> 6) == 0x2) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = cp >= 0x80 ? 2 : 1;
      if (cp < 0x80) cp = 0xFFFD;
    } else if ((c >> 4) == 0xE && i + 2 < s.size() && (static_cast<unsigned char>(s[i + 1]) >> 6) == 0x2 &&
               (static_cast<unsigned char>(s[i + 2]) >> 6) == 0x2) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      len = 3;
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
        cp = 0xFFFD;
        len = 1;
      }
    } else if ((c >> 3) == 0x1E && i + 3 < s.size() && (static_cast<unsigned char>(s[i + 1]) >> 6) == 0x2 &&
               (static_cast<unsigned char>(s[i + 2]) >> 6) == 0x2 && (static_cast<unsigned char>(s[i + 3]) >> 6) == 0x2) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      len = 4;
      if (cp < 0x10000 || cp > 0x10FFFF) {
        cp = 0xFFFD;
        len = 1;
      }
    }
    f(cp, s.substr(i, len), len == 1 && c >= 0x80);
    i += len;
  }
}

// Characters that YAML does not allow raw (and JSON control characters): escaped as \uXXXX.
bool needs_escape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0x85 || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

}  // namespace

// s with every byte that is not UTF-8 replaced by U+FFFD, as Go's encoding/json writes it.
std::string valid_utf8(const std::string& s) {
  bool clean = true;
  each_rune(s, [&](uint32_t, const std::string&, bool invalid) { clean = clean && !invalid; });
  if (clean) return s;
  std::string out;
  each_rune(s, [&](uint32_t, const std::string& bytes, bool invalid) {
    if (invalid) {
      core::json::append_utf8(out, 0xFFFD);
    } else {
      out += bytes;
    }
  });
  return out;
}

// A double-quoted string valid both as JSON and as a YAML 1.1/1.2 double-quoted scalar.
std::string quote(const std::string& s) {
  std::string out = "\"";
  each_rune(s, [&](uint32_t cp, const std::string& bytes, bool invalid) {
    switch (cp) {
      case '"': out += "\\\""; return;
      case '\\': out += "\\\\"; return;
      case '\n': out += "\\n"; return;
      case '\t': out += "\\t"; return;
      case '\r': out += "\\r"; return;
      default: break;
    }
    if (needs_escape(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04X", cp);
      out += buf;
    } else if (invalid) {
      core::json::append_utf8(out, 0xFFFD);
    } else {
      out += bytes;
    }
  });
  out += "\"";
  return out;
}

}  // namespace detail

using namespace detail;

Value Value::number(double x) {
  Value v;
  std::string text = format_json_number(x);
  int64_t i = 0;
  if (fits_int64_literal(text, i)) {
    v.type = Type::integer;
    v.i = i;
  } else {
    v.type = Type::number;
    v.d = x;
  }
  return v;
}

std::string format_json_number(double d) {
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  double abs = std::fabs(d);
  if (abs < 1e-6 || abs >= 1e21) return go_fmt_e(d, true);
  return fmt_f(std::signbit(d), shortest(d));
}

std::string format_yaml_key(double x) {
  // sigs.k8s.io/yaml: strconv.FormatFloat(key, 'g', -1, 32), with go-yaml's spellings of Inf and NaN.
  if (std::isnan(x)) return ".nan";
  float d = static_cast<float>(x);
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  Digits g = shortest(d);
  int exp = g.dp - 1;
  if (exp < -4 || exp >= 6) return fmt_e(std::signbit(d), g);
  return fmt_f(std::signbit(d), g);
}

}  // namespace helmgate::release::typed
