#include "release/substitute.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <vector>

#include "core/yaml_bounded.hpp"
#include "release/substitute_glob.hpp"

namespace helmgate::release::subst {

using glob::reverse_runes;
using glob::rune_len;
using glob::trim_prefix;

namespace {

// ---- string functions ----

// Go's strconv.Atoi: optional sign, decimal digits, within int64.
std::optional<int64_t> atoi(const std::string& t) {
  if (t.empty()) return std::nullopt;
  size_t start = t[0] == '+' || t[0] == '-' ? 1 : 0;
  if (start == t.size()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data() + start, t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return t[0] == '-' ? -v : v;
}

// Go's strings.Replace (n < 0: all), including the empty `old` case (insert before every rune and at the end).
std::string replace(const std::string& s, const std::string& old, const std::string& rep, int n) {
  std::string out;
  int done = 0;
  if (old.empty()) {
    size_t i = 0;
    while (i <= s.size()) {
      if (n >= 0 && done >= n) {
        out += s.substr(i);
        break;
      }
      out += rep;
      ++done;
      if (i == s.size()) break;
      size_t len = rune_len(s, i);
      out += s.substr(i, len);
      i += len;
    }
    return out;
  }
  size_t i = 0;
  while (n < 0 || done < n) {
    size_t at = s.find(old, i);
    if (at == std::string::npos) break;
    out += s.substr(i, at - i) + rep;
    i = at + old.size();
    ++done;
  }
  return out + s.substr(i);
}

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

core::Result<std::string> substring(const std::string& s, const std::vector<std::string>& args) {
  auto pos = atoi(args[0]);
  if (!pos) return s;
  const auto size = static_cast<int64_t>(s.size());
  int64_t p = *pos;
  if (p < 0) p = std::max<int64_t>(0, size + p);
  if (args.size() == 1) return p < size ? s.substr(static_cast<size_t>(p)) : std::string();
  auto len = atoi(args[1]);
  if (!len) return s;
  if (*len >= size || p + *len >= size) return p < size ? s.substr(static_cast<size_t>(p)) : std::string();
  // Go slices s[pos:pos+len] and panics on a negative length; the controller then fails the reconcile.
  if (*len < 0 || p >= size) {
    return core::Error(core::errc::bad_request, "negative substring length (Go panics on it)");
  }
  return s.substr(static_cast<size_t>(p), static_cast<size_t>(*len));
}

core::Result<std::string> apply(const std::string& op, std::string v, const std::vector<std::string>& args) {
  if (op == ",") {
    if (!v.empty()) v[0] = ascii_lower(v[0]);
  } else if (op == ",,") {
    for (auto& c : v) c = ascii_lower(c);
  } else if (op == "^") {
    if (!v.empty()) v[0] = ascii_upper(v[0]);
  } else if (op == "^^") {
    for (auto& c : v) c = ascii_upper(c);
  } else if (op == "#" && args.empty()) {
    v = std::to_string(v.size());
  } else if (op == "#" || op == "##") {
    v = trim_prefix(v, args[0], op == "##");
  } else if (op == "%" || op == "%%") {
    v = reverse_runes(trim_prefix(reverse_runes(v), reverse_runes(args[0]), op == "%%"));
  } else if (op == ":") {
    return substring(v, args);
  } else if (op == "/#" || op == "/%") {
    if (args.size() != 2) return v;
    if (op == "/#" && v.rfind(args[0], 0) == 0) return replace(v, args[0], args[1], 1);
    if (op == "/%" && v.size() >= args[0].size() && v.compare(v.size() - args[0].size(), args[0].size(), args[0]) == 0) {
      return v.substr(0, v.size() - args[0].size()) + args[1];
    }
  } else if (op == "/" || op == "//") {
    return replace(v, args[0], args.size() > 1 ? args[1] : std::string(), op == "/" ? 1 : -1);
  } else if (v.empty() && !args.empty()) {
    // Every other operator (=, :=, :-, :?, :+, mixed case marks, none) is "the default when empty".
    for (const auto& a : args) v += a;
  }
  return v;
}

bool default_op(const std::string& op) {
  return op == "-" || op == "+" || op == "=" || op == "?" || op == ":-" || op == ":+" || op == ":=" || op == ":?";
}

bool ident_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) != 0 || c == '_';  // non-ASCII: Go accepts Unicode letters and digits
}

// Recursive descent over one text; evaluates as it parses (the first error wins either way).
class Subst {
 public:
  Subst(const std::string& s, const Lookup& lookup, bool strict, bool parse_only)
      : s_(s), lookup_(lookup), strict_(strict), parse_only_(parse_only) {}

  core::Result<std::string> run() {
    std::string out;
    while (i_ < s_.size()) {
      if (at("${")) {
        i_ += 2;
        auto v = func();
        if (!v) return v.error();
        out += *v;
      } else if (at("$$")) {
        out += '$';
        i_ += 2;
      } else {
        out += s_[i_++];
      }
    }
    return out;
  }

 private:
  bool at(const char* t) const { return s_.compare(i_, std::char_traits<char>::length(t), t) == 0; }
  char peek(size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  static core::Error fail(const std::string& m) { return core::Error(core::errc::bad_request, m); }

  core::Result<std::string> close(const std::string& name, const std::string& op, const std::vector<std::string>& args) {
    if (peek() != '}') return fail("bad substitution");
    ++i_;
    return eval(name, op, args);
  }

  core::Result<std::string> eval(const std::string& name, const std::string& op, const std::vector<std::string>& args) {
    if (parse_only_) return std::string();
    auto v = lookup_(name);
    if (strict_ && !v && !default_op(op)) return fail("variable not set (strict mode): \"" + name + "\"");
    return apply(op, v.value_or(""), args);
  }

  std::string ident() {
    size_t start = i_;
    while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // Consumes up to `max` characters from `set`.
  std::string marks(const char* set, size_t max) {
    std::string m;
    while (m.size() < max && peek() != '\0' && std::char_traits<char>::find(set, std::char_traits<char>::length(set), peek())) {
      m += s_[i_++];
    }
    return m;
  }

  // One argument: a nested ${...}, or a run of text up to a stop character or the next "${".
  // escapes: $$ -> $, \/ -> /, \\ -> \ (in the pattern and replacement of ${var/...}).
  core::Result<std::string> param(const std::function<bool(char)>& accept, bool escapes) {
    if (at("${")) {
      i_ += 2;
      return func();
    }
    std::string text;
    bool first = true;
    while (i_ < s_.size() && !at("${")) {
      if (escapes && (at("$$") || at("\\/") || at("\\\\"))) {
        text += s_[i_ + 1];
        i_ += 2;
      } else if (accept(s_[i_])) {
        text += s_[i_++];
      } else {
        break;
      }
      first = false;
    }
    if (first) return fail("unable to parse substitution within function");
    return text;
  }

  core::Result<std::string> func() {
    if (peek() == '#') {
      ++i_;
      std::string name = ident();
      if (name.empty()) return fail("bad substitution");
      return close(name, "#", {});
    }
    std::string name = ident();
    if (name.empty()) return fail("unable to parse variable name");
    std::vector<std::string> args;
    auto arg = [&](const std::function<bool(char)>& accept, bool escapes) -> bool {
      auto a = param(accept, escapes);
      if (!a) {
        error_ = a.error();
        return false;
      }
      args.push_back(std::move(*a));
      return true;
    };
    const auto not_closing = [](char c) { return c != '}'; };
    const char c = peek();
    if (c == '=' || (c == ':' && std::char_traits<char>::find("=-?+", 4, peek(1)) != nullptr)) {
      std::string op = c == '=' ? "=" : std::string{':', peek(1)};
      i_ += op.size();
      while (peek() != '}') {
        if (!arg(not_closing, false)) return error_;
      }
      return close(name, op, args);
    }
    if (c == ':') {
      ++i_;
      // Go's scanner steps back over ':' by the width of the rune it peeked after it: at the end of the
      // text or before a multi-byte rune it lands elsewhere and reports a bad substitution.
      if (i_ >= s_.size() || rune_len(s_, i_) > 1) return fail("bad substitution");
      if (!arg([](char x) { return x != ':' && x != '}'; }, false)) return error_;
      if (peek() == ':') {
        while (peek() == ':') ++i_;
        if (!arg(not_closing, false)) return error_;
      } else if (peek() != '}') {
        return fail("bad substitution");
      }
      return close(name, ":", args);
    }
    if (c == ',' || c == '^') return close(name, marks(",^", 2), args);
    if (c == '#' || c == '%') {
      std::string op = marks(c == '#' ? "#" : "%", 2);
      if (!arg(not_closing, false)) return error_;
      return close(name, op, args);
    }
    if (c == '/') {
      std::string op = "/";
      ++i_;
      if (peek() == '/' || peek() == '#' || peek() == '%') op += s_[i_++];
      if (!arg([](char x) { return x != '/'; }, true)) return error_;
      if (peek() != '/') return fail("bad substitution");
      while (peek() == '/') ++i_;
      if (peek() != '}' && !arg(not_closing, true)) return error_;
      return close(name, op, args);
    }
    if (c != '}') return fail("missing closing brace");
    return close(name, "", args);
  }

  const std::string& s_;
  const Lookup& lookup_;
  bool strict_;
  bool parse_only_;
  size_t i_ = 0;
  core::Error error_;
};

// Label or annotation kustomize.toolkit.fluxcd.io/substitute: disabled.
bool disabled(const std::string& doc) {
  static const std::string key = "kustomize.toolkit.fluxcd.io/substitute";
  if (doc.find(key) == std::string::npos) return false;
  try {
    YAML::Node n = core::yaml::load(doc);
    YAML::Node md = n.IsMap() ? n["metadata"] : YAML::Node();
    for (const char* field : {"labels", "annotations"}) {
      YAML::Node m = md.IsDefined() && md.IsMap() ? md[field] : YAML::Node();
      if (m.IsDefined() && m.IsMap() && m[key].IsDefined() && m[key].IsScalar() && m[key].Scalar() == "disabled") {
        return true;
      }
    }
    return false;
  } catch (const std::exception&) {
    return doc.find(key + ": disabled") != std::string::npos;
  }
}

std::string describe(const std::string& doc) {
  try {
    YAML::Node n = core::yaml::load(doc);
    if (n.IsMap()) {
      std::string kind = n["kind"].IsDefined() && n["kind"].IsScalar() ? n["kind"].Scalar() : "?";
      YAML::Node md = n["metadata"];
      std::string name = md.IsDefined() && md.IsMap() && md["name"].IsDefined() && md["name"].IsScalar() ? md["name"].Scalar() : "?";
      return kind + "/" + name;
    }
  } catch (const std::exception&) {
  }
  return "a document";
}

}  // namespace

core::Result<std::string> envsubst(const std::string& text, const Lookup& lookup, bool strict) {
  // Go parses the whole text before it evaluates: a syntax error anywhere wins over a strict-mode miss.
  auto parsed = Subst(text, lookup, strict, true).run();
  if (!parsed) return parsed.error();
  return Subst(text, lookup, strict, false).run();
}

bool valid_var_name(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_')) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

core::Result<std::string> substitute_documents(const std::string& text, const std::map<std::string, std::string>& vars,
                                               const Options& options) {
  std::map<std::string, std::string> values;
  for (const auto& [k, v] : vars) {
    if (!valid_var_name(k)) {
      return core::Error(core::errc::bad_request,
                         "'" + k + "' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'");
    }
    std::string flat;
    for (char c : v) {
      if (c != '\n') flat += c;
    }
    values.emplace(k, std::move(flat));
  }
  if (values.empty() && !options.always) return text;
  const Lookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it != values.end()) return it->second;
    return std::nullopt;
  };
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find("\n---", pos);
    size_t end = next == std::string::npos ? text.size() : next + 1;
    std::string doc = text.substr(pos, end - pos);
    if (disabled(doc)) {
      out += doc;
    } else {
      auto r = envsubst(doc, lookup, options.strict);
      if (!r) {
        return core::Error(core::errc::bad_request,
                           "post build failed for " + describe(doc) + ": variable substitution failed: " + r.error().message);
      }
      out += *r;
    }
    pos = end;
  }
  return out;
}

}  // namespace helmgate::release::subst
