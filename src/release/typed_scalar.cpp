// Scalars as go-yaml v2 and Go's encoding/json see them: plain-scalar resolution (YAML 1.1 booleans,
// octal and hex integers, floats, timestamps), Go's number formatting, and UTF-8 as Go writes it.
#include "release/typed_scalar.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>

#include "core/base64.hpp"

namespace helmgate::release::typed {

namespace detail {


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

// Go's strconv.ParseInt / ParseUint with base 0 (sign, 0x/0o/0b prefixes, a leading 0 is octal).
std::optional<int64_t> go_parse_int(const std::string& s, bool allow_sign, bool* negative_out, uint64_t* magnitude) {
  size_t i = 0;
  bool neg = false;
  if (allow_sign && i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  int base = 10;
  if (i + 1 < s.size() && s[i] == '0') {
    char p = static_cast<char>(s[i + 1] | 0x20);
    if (p == 'x') {
      base = 16;
      i += 2;
    } else if (p == 'o') {
      base = 8;
      i += 2;
    } else if (p == 'b') {
      base = 2;
      i += 2;
    } else {
      base = 8;
      i += 1;
    }
  }
  if (i >= s.size()) return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int dv;
    if (c >= '0' && c <= '9') {
      dv = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      dv = (c | 0x20) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (dv >= base) return std::nullopt;
    if (v > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(dv)) / static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(dv);
  }
  *negative_out = neg;
  *magnitude = v;
  return 0;
}

// YAML 1.1 float syntax as go-yaml v2 accepts it: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yaml_style_float(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Go's strconv.ParseFloat on decimal text: an overflow (to ±Inf) is an error, an underflow is not.
std::optional<double> go_parse_float_decimal(const std::string& s) {
  // Decimal syntax only (the callers never pass inf/nan/hex spellings): sign, digits with one optional
  // point and at least one digit, optional exponent with digits.
  size_t i = 0, nd = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool point = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++nd;
    } else if (s[i] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (nd == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t ed = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
      ++ed;
    }
    if (ed == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (std::isinf(d)) return std::nullopt;
  return d;
}

// "YYYY-M-D" optionally followed by a time: what go-yaml v2 tries as a timestamp.
bool looks_like_date(const std::string& in) {
  size_t i = 5, n = 0;
  while (i < in.size() && in[i] >= '0' && in[i] <= '9' && n < 3) ++i, ++n;
  if (n == 0 || n > 2 || i >= in.size() || in[i] != '-') return false;
  ++i;
  n = 0;
  while (i < in.size() && in[i] >= '0' && in[i] <= '9' && n < 3) ++i, ++n;
  if (n == 0 || n > 2) return false;
  return i == in.size() || in[i] == 'T' || in[i] == 't' || in[i] == ' ';
}

Resolved resolve(const std::string& tag, const std::string& in) {
  Resolved r;
  const std::string str = std::string(kTagPrefix) + "str";
  const std::string bin = std::string(kTagPrefix) + "binary";
  static const std::vector<std::string> resolvable = {"",
                                                      str,
                                                      std::string(kTagPrefix) + "bool",
                                                      std::string(kTagPrefix) + "int",
                                                      std::string(kTagPrefix) + "float",
                                                      std::string(kTagPrefix) + "timestamp"};
  if (tag == bin) {
    std::string compact;
    for (char c : in) {
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact += c;
    }
    auto decoded = core::base64_decode(compact);
    if (!decoded) {
      r.kind = Resolved::Kind::error;
      r.error = "!!binary value contains invalid base64 data";
      return r;
    }
    r.s = *decoded;
    return r;
  }
  bool is_resolvable = false;
  for (const auto& t : resolvable) is_resolvable = is_resolvable || t == tag;
  r.s = in;
  if (!is_resolvable || tag == str) return r;  // string

  auto kind_name = [](Resolved::Kind k) {
    switch (k) {
      case Resolved::Kind::null: return "!!null";
      case Resolved::Kind::boolean: return "!!bool";
      case Resolved::Kind::integer:
      case Resolved::Kind::uinteger: return "!!int";
      case Resolved::Kind::floating: return "!!float";
      default: return "!!str";
    }
  };
  bool timestamp = false;
  auto plain_resolve = [&]() -> Resolved {
    Resolved x;
    x.s = in;
    char hint = 'N';
    if (!in.empty()) {
      unsigned char c = static_cast<unsigned char>(in[0]);
      if (c == '+' || c == '-') {
        hint = 'S';
      } else if (c >= '0' && c <= '9') {
        hint = 'D';
      } else if (std::string("yYnNtTfFoO~").find(static_cast<char>(c)) != std::string::npos) {
        hint = 'M';
      } else if (c == '.') {
        hint = '.';
      } else {
        hint = 0;
      }
    }
    if (hint == 0) return x;
    static const std::map<std::string, int> table = {
        {"y", 1},     {"Y", 1},     {"yes", 1},   {"Yes", 1},   {"YES", 1},   {"true", 1},  {"True", 1},
        {"TRUE", 1},  {"on", 1},    {"On", 1},    {"ON", 1},    {"n", 0},     {"N", 0},     {"no", 0},
        {"No", 0},    {"NO", 0},    {"false", 0}, {"False", 0}, {"FALSE", 0}, {"off", 0},   {"Off", 0},
        {"OFF", 0},   {"", 2},      {"~", 2},     {"null", 2},  {"Null", 2},  {"NULL", 2},  {".nan", 3},
        {".NaN", 3},  {".NAN", 3},  {".inf", 4},  {".Inf", 4},  {".INF", 4},  {"+.inf", 4}, {"+.Inf", 4},
        {"+.INF", 4}, {"-.inf", 5}, {"-.Inf", 5}, {"-.INF", 5}};
    if (auto it = table.find(in); it != table.end()) {
      switch (it->second) {
        case 0:
        case 1:
          x.kind = Resolved::Kind::boolean;
          x.b = it->second == 1;
          return x;
        case 2: x.kind = Resolved::Kind::null; return x;
        case 3: x.kind = Resolved::Kind::floating; x.d = std::numeric_limits<double>::quiet_NaN(); return x;
        case 4: x.kind = Resolved::Kind::floating; x.d = std::numeric_limits<double>::infinity(); return x;
        default: x.kind = Resolved::Kind::floating; x.d = -std::numeric_limits<double>::infinity(); return x;
      }
    }
    if (hint == '.') {
      if (auto f = go_parse_float_decimal(in)) {
        x.kind = Resolved::Kind::floating;
        x.d = *f;
      }
      return x;
    }
    if (hint == 'D' || hint == 'S') {
      if (tag.empty() || tag == std::string(kTagPrefix) + "timestamp") {
        // go-yaml v2: YYYY-... parsed as a timestamp, which stays a string when decoded into interface{}.
        size_t k = 0;
        while (k < in.size() && in[k] >= '0' && in[k] <= '9') ++k;
        if (k == 4 && k < in.size() && in[k] == '-' && looks_like_date(in)) {
          timestamp = true;
          return x;
        }
      }
      std::string plain;
      for (char c : in) {
        if (c != '_') plain += c;
      }
      bool neg = false;
      uint64_t mag = 0;
      if (go_parse_int(plain, true, &neg, &mag)) {
        if (!neg && mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          x.kind = Resolved::Kind::integer;
          x.i = static_cast<int64_t>(mag);
          return x;
        }
        if (neg && mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
          x.kind = Resolved::Kind::integer;
          x.i = mag == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1
                    ? std::numeric_limits<int64_t>::min()
                    : -static_cast<int64_t>(mag);
          return x;
        }
        if (!neg && plain[0] != '+') {  // ParseUint: no sign
          x.kind = Resolved::Kind::uinteger;
          x.u = mag;
          return x;
        }
      }
      if (yaml_style_float(plain)) {
        if (auto f = go_parse_float_decimal(plain)) {
          x.kind = Resolved::Kind::floating;
          x.d = *f;
          return x;
        }
      }
      return x;
    }
    return x;  // 'M' not in the table
  };
  r = plain_resolve();
  if (tag.empty()) return r;
  // An explicit tag: the resolved kind must match it (!!float also takes an integer).
  const std::string want = tag.substr(std::string(kTagPrefix).size());
  Resolved::Kind k = r.kind;
  bool match = (want == "bool" && k == Resolved::Kind::boolean) ||
               (want == "int" && (k == Resolved::Kind::integer || k == Resolved::Kind::uinteger)) ||
               (want == "float" && k == Resolved::Kind::floating) || (want == "timestamp" && timestamp);
  if (!match && want == "float" && k == Resolved::Kind::integer) {
    r.kind = Resolved::Kind::floating;
    r.d = static_cast<double>(r.i);
    match = true;
  }
  if (!match) {
    Resolved e;
    e.kind = Resolved::Kind::error;
    e.error = std::string("cannot decode ") + (timestamp ? "!!timestamp" : kind_name(k)) + " `" + in + "` as a !!" + want;
    return e;
  }
  return r;
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

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// s with every byte that is not UTF-8 replaced by U+FFFD, as Go's encoding/json writes it.
std::string valid_utf8(const std::string& s) {
  bool clean = true;
  each_rune(s, [&](uint32_t, const std::string&, bool invalid) { clean = clean && !invalid; });
  if (clean) return s;
  std::string out;
  each_rune(s, [&](uint32_t, const std::string& bytes, bool invalid) {
    if (invalid) {
      append_utf8(out, 0xFFFD);
    } else {
      out += bytes;
    }
  });
  return out;
}

// Characters that YAML does not allow raw (and JSON control characters): escaped as \uXXXX.
bool needs_escape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0x85 || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
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
      append_utf8(out, 0xFFFD);
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
