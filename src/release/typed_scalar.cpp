// Scalars as go-yaml v2 reads them: plain-scalar resolution (YAML 1.1 booleans, octal and hex integers,
// floats, timestamps), explicit tags, and what JSON conversion and apimachinery make of the result.
// Writing them back as Go does is typed_format.cpp.
#include "release/typed_scalar.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "core/base64.hpp"

namespace helmgate::release::typed::detail {

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

}  // namespace helmgate::release::typed::detail
