// Typed values back to YAML: plain emission of a typed tree (to_yaml) and style-preserving emission of a
// parsed document (emit_preserving), each reading back to the same typed tree.
#include <algorithm>
#include <cmath>

#include "release/typed_json.hpp"
#include "release/typed_scalar.hpp"

namespace helmgate::release::typed {

using namespace detail;

namespace {

bool is_collection(const Value& v) {
  return (v.type == Value::Type::array && !v.a.empty()) || (v.type == Value::Type::object && !v.o.empty());
}

std::string scalar_text(const Value& v) {
  if (v.type == Value::Type::array) return "[]";
  if (v.type == Value::Type::object) return "{}";
  return to_json(v);  // a JSON scalar is a YAML scalar that reads back to the same value
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
      // Never in UTF-8; at the start of a document a reader takes FE FF or FF FE for a UTF-16 byte-order
      // mark. Quoted, each such byte is U+FFFD, as the typed reader holds it.
      if (c == 0xFE || c == 0xFF) return false;
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
    // A shorthand (!!int, !local) only where it reads back as the same tag, anything else verbatim (!<...>):
    // "!!" alone (the core prefix, empty suffix) is no tag to a reader, "!a!b" names an undeclared handle.
    auto word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    };
    const std::string prefix(kTagPrefix);
    std::string t = "!<" + tag + ">";
    if (tag.size() > prefix.size() && tag.rfind(prefix, 0) == 0 &&
        std::all_of(tag.begin() + prefix.size(), tag.end(), word)) {
      t = "!!" + tag.substr(prefix.size());
    } else if (tag.size() > 1 && tag[0] == '!' &&
               std::all_of(tag.begin() + 1, tag.end(), [&](char c) { return word(c) || c == '/'; })) {
      t = tag;
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

std::string to_yaml(const Value& v) {
  std::string out;
  yaml_into(v, 0, out);
  return out;
}

core::Result<std::string> emit_preserving(const YAML::Node& node, const Limits& limits, size_t max_bytes) {
  return Preserver(limits, max_bytes).run(node);
}

}  // namespace helmgate::release::typed
