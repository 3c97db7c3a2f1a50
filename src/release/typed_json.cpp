#include "release/typed_json.hpp"


#include <cctype>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "core/base64.hpp"
#include "core/json.hpp"
#include "core/yaml_bounded.hpp"

namespace helmgate::release::typed {

namespace {

constexpr const char* kTagPrefix = "tag:yaml.org,2002:";

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

// What go-yaml v2's resolve() gives for a scalar with the given tag ("" for plain), then what JSON
// conversion and apimachinery make of it. Kinds: the JSON value, or an error (NaN/Inf are not JSON), or
// a non-JSON-able key kind (uint64, null) reported by the caller only for keys.
struct Resolved {
  enum class Kind { null, boolean, integer, uinteger, floating, string, error } kind = Kind::string;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;
  std::string error;
};

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

std::string join_path(const std::vector<std::string>& p) {
  std::string out;
  for (const auto& x : p) {
    if (!out.empty() && x[0] != '[') out += ".";
    out += x;
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const Limits& l) : lim_(l) {}
  Converted run(const YAML::Node& n) {
    Converted c;
    if (!convert(n, c.value, 0)) {
      c.ok = false;
      c.error = err_;
      c.value = Value();
    }
    return c;
  }

 private:
  bool fail(const YAML::Node& n, const std::string& msg) {
    if (!failed_) {
      failed_ = true;
      err_.message = msg;
      err_.path = join_path(path_);
      auto m = n.Mark();
      err_.line = m.line;
      err_.column = m.column;
    }
    return false;
  }

  bool scalar(const YAML::Node& n, Resolved& r) {
    const std::string& tag = n.Tag();
    // kubectl sends a byte that is not UTF-8 as U+FFFD (Go's encoding/json): the typed value holds what
    // is sent, so it reads back the same and keys differing only there are one key (the later wins;
    // kubectl keeps the one whose raw bytes sort last).
    const std::string text = valid_utf8(n.Scalar());
    if (tag == "?") {
      r = resolve("", text);
    } else if (tag.rfind(kTagPrefix, 0) == 0) {
      r = resolve(tag, text);
    } else {
      r = Resolved();
      r.s = text;  // quoted or block scalar, or a tag nobody resolves: a string
    }
    if (r.kind == Resolved::Kind::error) return fail(n, r.error);
    return true;
  }

  bool convert(const YAML::Node& n, Value& out, size_t depth) {
    if (++nodes_ > lim_.max_nodes) {
      return fail(n, "more than " + std::to_string(lim_.max_nodes) + " nodes after expanding aliases");
    }
    if (depth > lim_.max_depth) return fail(n, "nested deeper than " + std::to_string(lim_.max_depth) + " levels");
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: out = Value(); return true;
      case YAML::NodeType::Scalar: {
        Resolved r;
        if (!scalar(n, r)) return false;
        switch (r.kind) {
          case Resolved::Kind::null: out = Value(); return true;
          case Resolved::Kind::boolean: out = Value::boolean(r.b); return true;
          case Resolved::Kind::integer: out = Value::integer(r.i); return true;
          case Resolved::Kind::uinteger: out = Value::number(static_cast<double>(r.u)); return true;
          case Resolved::Kind::floating:
            if (std::isnan(r.d) || std::isinf(r.d)) {
              return fail(n, "'" + n.Scalar() + "' is " + (std::isnan(r.d) ? "NaN" : r.d > 0 ? "+Inf" : "-Inf") +
                                 ", which JSON cannot hold: kubectl and the API server refuse it (quote it to make it a string)");
            }
            out = Value::number(r.d);
            return true;
          default: out = Value::string(r.s); return true;
        }
      }
      case YAML::NodeType::Sequence: {
        out = Value();
        out.type = Value::Type::array;
        size_t i = 0;
        for (const auto& x : n) {
          path_.push_back("[" + std::to_string(i++) + "]");
          Value v;
          if (!convert(x, v, depth + 1)) return false;
          out.a.push_back(std::move(v));
          path_.pop_back();
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out = Value::object();
        for (const auto& kv : n) {
          const YAML::Node& k = kv.first;
          bool merge = k.IsScalar() && k.Scalar() == "<<" &&
                       (k.Tag() == "?" || k.Tag() == std::string(kTagPrefix) + "merge");
          if (merge) {
            path_.push_back("<<");
            if (!merge_into(kv.second, out, depth)) return false;
            path_.pop_back();
            continue;
          }
          std::string key;
          if (!key_string(k, key)) return false;
          path_.push_back(key);
          Value v;
          if (!convert(kv.second, v, depth + 1)) return false;
          out.o[key] = std::move(v);
          path_.pop_back();
        }
        return true;
      }
    }
    return true;
  }

  // go-yaml v2: `<<: map` sets the map's keys in place (later keys of the mapping override them, and
  // they override earlier ones); `<<: [m1, m2]` applies m2 then m1, so earlier maps win.
  bool merge_into(const YAML::Node& v, Value& out, size_t depth) {
    auto one = [&](const YAML::Node& m) {
      if (!m.IsMap()) return fail(m, "map merge requires map or sequence of maps as the value");
      Value tmp;
      if (!convert(m, tmp, depth + 1)) return false;
      for (auto& [k, x] : tmp.o) out.o[k] = x;
      return true;
    };
    if (v.IsMap()) return one(v);
    if (v.IsSequence()) {
      for (size_t i = v.size(); i-- > 0;) {
        if (!one(v[i])) return false;
      }
      return true;
    }
    return fail(v, "map merge requires map or sequence of maps as the value");
  }

  // sigs.k8s.io/yaml: string, int, float and bool keys become strings; any other key is an error.
  bool key_string(const YAML::Node& k, std::string& out) {
    if (k.IsNull()) return fail(k, "unsupported map key of type <nil> (null): kubectl refuses it; quote the key");
    if (!k.IsScalar()) return fail(k, "invalid map key (a map or list): kubectl refuses it");
    Resolved r;
    if (!scalar(k, r)) return false;
    switch (r.kind) {
      case Resolved::Kind::null:
        return fail(k, "unsupported map key of type <nil> ('" + k.Scalar() + "'): kubectl refuses it; quote the key");
      case Resolved::Kind::boolean: out = r.b ? "true" : "false"; return true;
      case Resolved::Kind::integer: out = std::to_string(r.i); return true;
      case Resolved::Kind::uinteger:
        return fail(k, "unsupported map key of type uint64 ('" + k.Scalar() + "'): kubectl refuses it; quote the key");
      case Resolved::Kind::floating: out = format_yaml_key(r.d); return true;
      default: out = r.s; return true;
    }
  }

  Limits lim_;
  size_t nodes_ = 0;
  bool failed_ = false;
  ConvertError err_;
  std::vector<std::string> path_;
};

void json_into(const Value& v, std::string& out) {
  switch (v.type) {
    case Value::Type::null: out += "null"; return;
    case Value::Type::boolean: out += v.b ? "true" : "false"; return;
    case Value::Type::integer: out += std::to_string(v.i); return;
    case Value::Type::number: out += format_json_number(v.d); return;
    case Value::Type::string: out += quote(v.s); return;
    case Value::Type::array: {
      out += "[";
      bool first = true;
      for (const auto& x : v.a) {
        if (!first) out += ",";
        first = false;
        json_into(x, out);
      }
      out += "]";
      return;
    }
    case Value::Type::object: {
      out += "{";
      bool first = true;
      for (const auto& [k, x] : v.o) {
        if (!first) out += ",";
        first = false;
        out += quote(k);
        out += ":";
        json_into(x, out);
      }
      out += "}";
      return;
    }
  }
}

bool is_collection(const Value& v) {
  return (v.type == Value::Type::array && !v.a.empty()) || (v.type == Value::Type::object && !v.o.empty());
}

std::string scalar_text(const Value& v) {
  if (v.type == Value::Type::array) return "[]";
  if (v.type == Value::Type::object) return "{}";
  std::string s;
  json_into(v, s);
  return s;
}

void yaml_into(const Value& v, size_t indent, std::string& out);

// "key:" — or, for a key longer than YAML's 1024-character limit on implicit keys, the explicit form
// "? key" then ":", which every parser (yaml-cpp, Go's) reads back to the same key.
std::string key_line(const std::string& pad, const std::string& key_text) {
  if (key_text.size() > 1000) return pad + "? " + key_text + "\n" + pad + ":";
  return pad + key_text + ":";
}

// "- item" lines: a nested collection's first line shares the dash line.
void yaml_item(const Value& x, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (!is_collection(x)) {
    out += pad + "- " + scalar_text(x) + "\n";
    return;
  }
  std::string child;
  yaml_into(x, indent + 2, child);
  out += pad + "- " + child.substr(indent + 2);
}

void yaml_into(const Value& v, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (v.type == Value::Type::object && !v.o.empty()) {
    for (const auto& [k, x] : v.o) {
      out += key_line(pad, quote(k));
      if (is_collection(x)) {
        out += "\n";
        yaml_into(x, indent + 2, out);
      } else {
        out += " " + scalar_text(x) + "\n";
      }
    }
  } else if (v.type == Value::Type::array && !v.a.empty()) {
    for (const auto& x : v.a) yaml_item(x, indent, out);
  } else {
    out += pad + scalar_text(v) + "\n";
  }
}

// Style-preserving emission.
class Preserver {
 public:
  Preserver(const Limits& l, size_t max_bytes) : lim_(l), max_bytes_(max_bytes) {}

  core::Result<std::string> run(const YAML::Node& n) {
    std::string out;
    node(n, 0, out, false);
    if (!error_.empty()) return core::Error(core::errc::bad_request, error_);
    return out;
  }

 private:
  static bool plain_safe(const std::string& s, bool key) {
    if (s.empty() || s.size() > (key ? 1000 : std::string::npos)) return false;
    if (s == "---" || s == "...") return false;
    unsigned char c0 = static_cast<unsigned char>(s[0]);
    if (std::string("-?:,[]{}#&*!|>'\"%@`").find(static_cast<char>(c0)) != std::string::npos) {
      bool dash_like = (c0 == '-' || c0 == '?' || c0 == ':') && s.size() > 1 && s[1] != ' ' && s[1] != '\t';
      if (!dash_like) return false;
    }
    if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t' || s.back() == ':') return false;
    for (size_t i = 0; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 && c != '\t') return false;
      if (c == 0x7F) return false;
      if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
          static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
        return false;
      }
      if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
          static_cast<unsigned char>(s[i + 2]) == 0xBF) {
        return false;
      }
      if (c == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) return false;
      if (c == ':' && i + 1 < s.size() && (s[i + 1] == ' ' || s[i + 1] == '\t')) return false;
    }
    return true;
  }

  // A literal block keeps a multi-line string readable (and substitutions inside it behave as in a
  // Kubernetes manifest); only when every line is plain printable text without edge spaces.
  static std::string literal(const std::string& s, size_t indent) {
    if (s.find('\n') == std::string::npos) return {};
    for (size_t i = 0; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) return {};
      if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
          static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
        return {};
      }
      if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB) return {};
    }
    size_t end = s.size();
    while (end > 0 && s[end - 1] == '\n') --end;
    const size_t trailing = s.size() - end;
    std::string body = s.substr(0, end);
    if (body.empty()) return {};
    std::vector<std::string> lines;
    size_t pos = 0;
    while (true) {
      size_t nl = body.find('\n', pos);
      lines.push_back(body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    bool first_content = true;
    for (const auto& l : lines) {
      if (l.empty()) continue;
      if (l.back() == ' ' || l.back() == '\t') return {};
      if (first_content && (l[0] == ' ' || l[0] == '\t')) return {};
      first_content = false;
    }
    std::string out = trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
    out += "\n";
    const std::string pad(indent, ' ');
    for (const auto& l : lines) out += l.empty() ? "\n" : pad + l + "\n";
    for (size_t i = 1; i < trailing; ++i) out += "\n";
    return out;
  }

  std::string scalar_text(const YAML::Node& n, size_t indent, bool key) {
    if (n.IsNull()) return key ? "null" : "null";
    const std::string& tag = n.Tag();
    const std::string& s = n.Scalar();
    if (tag == "?") {
      if (plain_safe(s, key)) return s;
      // Not writable as a plain scalar (a folded blank line, edge spaces): write its typed value.
      Resolved r = resolve("", s);
      switch (r.kind) {
        case Resolved::Kind::boolean: return r.b ? "true" : "false";
        case Resolved::Kind::null: return "null";
        default: return quote(s);
      }
    }
    if (tag == "!") {
      if (!key) {
        std::string lit = literal(s, indent + 2);
        if (!lit.empty()) return lit;
      }
      return quote(s);
    }
    std::string t;
    if (tag.rfind(kTagPrefix, 0) == 0) {
      t = "!!" + tag.substr(std::string(kTagPrefix).size());
    } else {
      bool simple = tag.size() > 1 && tag[0] == '!';
      for (char c : tag) simple = simple && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '!' || c == '-' || c == '_' || c == '.' || c == '/');
      t = simple ? tag : "!<" + tag + ">";
    }
    return t + " " + quote(s);
  }

  bool budget(size_t add, const YAML::Node& n) {
    if (!error_.empty()) return false;
    if (++nodes_ > lim_.max_nodes || add > max_bytes_) {
      auto m = n.Mark();
      error_ = "document too large to re-emit (more than " + std::to_string(lim_.max_nodes) +
               " nodes after expanding aliases, or more than " + std::to_string(max_bytes_) + " bytes) near line " +
               std::to_string(m.line + 1);
      return false;
    }
    return true;
  }

  static bool nonempty_collection(const YAML::Node& n) { return (n.IsMap() || n.IsSequence()) && n.size() > 0; }

  void node(const YAML::Node& n, size_t indent, std::string& out, bool) {
    if (!budget(out.size(), n)) return;
    const std::string pad(indent, ' ');
    if (n.IsMap() && n.size() > 0) {
      for (const auto& kv : n) {
        if (!error_.empty()) return;
        if (kv.first.IsScalar() || kv.first.IsNull()) {
          out += key_line(pad, scalar_text(kv.first, indent, true));
        } else {
          out += pad + "?";
          value(kv.first, indent, out);
          out += pad + ":";
        }
        value(kv.second, indent, out);
      }
    } else if (n.IsSequence() && n.size() > 0) {
      for (const auto& x : n) {
        if (!error_.empty()) return;
        if (nonempty_collection(x)) {
          std::string child;
          node(x, indent + 2, child, false);
          out += pad + "- " + child.substr(std::min(child.size(), indent + 2));
        } else {
          out += pad + "-";
          value(x, indent, out);
        }
      }
    } else if (n.IsMap()) {
      out += pad + "{}\n";
    } else if (n.IsSequence()) {
      out += pad + "[]\n";
    } else {
      out += pad + scalar_text(n, indent, false) + "\n";
    }
  }

  // After "key:" or "-": a scalar on the same line, a collection below.
  void value(const YAML::Node& v, size_t indent, std::string& out) {
    if (nonempty_collection(v)) {
      out += "\n";
      node(v, indent + 2, out, false);
    } else if (v.IsMap()) {
      out += " {}\n";
    } else if (v.IsSequence()) {
      out += " []\n";
    } else {
      std::string t = scalar_text(v, indent, false);
      out += " " + t;
      if (t.empty() || t.back() != '\n') out += "\n";
    }
  }

  Limits lim_;
  size_t max_bytes_;
  size_t nodes_ = 0;
  std::string error_;
};

}  // namespace

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

bool Value::operator==(const Value& x) const {
  if (type != x.type) return false;
  switch (type) {
    case Type::null: return true;
    case Type::boolean: return b == x.b;
    case Type::integer: return i == x.i;
    case Type::number: return d == x.d;
    case Type::string: return s == x.s;
    case Type::array: return a == x.a;
    case Type::object: return o == x.o;
  }
  return false;
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

Converted from_yaml(const YAML::Node& node, const Limits& limits) { return Converter(limits).run(node); }

Converted from_yaml_text(const std::string& text, const Limits& limits) {
  YAML::Node n;
  try {
    n = core::yaml::load(text);
  } catch (const core::yaml::LimitExceeded& e) {
    // Already says which limit and its configuration key.
    Converted c;
    c.ok = false;
    c.error.message = e.msg;
    c.error.line = e.mark.line;
    c.error.column = e.mark.column;
    return c;
  } catch (const YAML::Exception& e) {
    Converted c;
    c.ok = false;
    c.error.message = "invalid YAML: " + e.msg;
    c.error.line = e.mark.line;
    c.error.column = e.mark.column;
    return c;
  }
  return from_yaml(n, limits);
}

Converted scalar_value(const YAML::Node& scalar) { return Converter(Limits{}).run(scalar); }

std::string to_json(const Value& v) {
  std::string out;
  json_into(v, out);
  return out;
}

std::string to_yaml(const Value& v) {
  std::string out;
  yaml_into(v, 0, out);
  return out;
}

core::Result<std::string> emit_preserving(const YAML::Node& node, const Limits& limits, size_t max_bytes) {
  return Preserver(limits, max_bytes).run(node);
}

void collect_leaves(const Value& v, std::vector<std::string>& out) {
  switch (v.type) {
    case Value::Type::null: return;
    case Value::Type::boolean: out.emplace_back(v.b ? "true" : "false"); return;
    case Value::Type::integer: out.push_back(std::to_string(v.i)); return;
    case Value::Type::number: out.push_back(format_json_number(v.d)); return;
    case Value::Type::string: out.push_back(v.s); return;
    case Value::Type::array:
      for (const auto& x : v.a) collect_leaves(x, out);
      return;
    case Value::Type::object:
      for (const auto& [k, x] : v.o) collect_leaves(x, out);
      return;
  }
}

}  // namespace helmgate::release::typed
