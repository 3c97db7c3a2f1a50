#include "diff/normalize.hpp"

#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <sstream>

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "core/yaml_bounded.hpp"
#include "diff/scope.hpp"

namespace helmgate::diff {

namespace {

bool needs_quotes(const std::string& s, bool was_quoted) {
  if (s.empty()) return true;
  if (std::isspace(static_cast<unsigned char>(s.front())) != 0 ||
      std::isspace(static_cast<unsigned char>(s.back())) != 0) {
    return true;
  }
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) != std::string_view::npos) return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos || s.back() == ':') return true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  if (was_quoted) {
    // A quoted "true", "1" or "~" must stay a string when printed.
    static const char* kLiterals[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "True", "False",
                                      "TRUE", "FALSE", "Yes", "No", "NULL", "Null", "y", "n", "Y", "N"};
    for (const char* l : kLiterals) {
      if (s == l) return true;
    }
    bool numeric = std::all_of(s.begin(), s.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '+' || c == 'e' ||
             c == 'E' || c == '_' || c == 'x' || c == 'o';
    });
    if (numeric) return true;
  }
  return false;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string scalar_text(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  bool quoted = n.Tag() == "!";
  return needs_quotes(s, quoted) ? quote(s) : s;
}

void emit(const YAML::Node& n, int indent, std::string& out);

void emit_block_scalar(const std::string& s, int indent, std::string& out) {
  bool trailing_nl = !s.empty() && s.back() == '\n';
  out += trailing_nl ? "|" : "|-";
  out += '\n';
  std::string pad(static_cast<size_t>(indent), ' ');
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    out += line.empty() ? "" : pad + line;
    out += '\n';
  }
}

bool is_multiline(const YAML::Node& n) {
  return n.IsScalar() && n.Scalar().find('\n') != std::string::npos &&
         n.Scalar().find_first_of("\r\t") == std::string::npos && n.Scalar().front() != ' ';
}

void emit_value_after_key(const YAML::Node& v, int indent, std::string& out) {
  if (v.IsMap() && v.size() > 0) {
    out += '\n';
    emit(v, indent + 2, out);
  } else if (v.IsSequence() && v.size() > 0) {
    out += '\n';
    emit(v, indent, out);
  } else if (v.IsMap()) {
    out += " {}\n";
  } else if (v.IsSequence()) {
    out += " []\n";
  } else if (v.IsNull() || !v.IsDefined()) {
    out += " null\n";
  } else if (is_multiline(v)) {
    out += ' ';
    emit_block_scalar(v.Scalar(), indent + 2, out);
  } else {
    out += ' ' + scalar_text(v) + '\n';
  }
}

void emit(const YAML::Node& n, int indent, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (n.IsMap()) {
    // Sort indices, never YAML::Node values: assigning a Node writes through to the document it refers to.
    std::vector<YAML::Node> values;
    std::vector<std::pair<std::string, size_t>> order;
    for (const auto& kv : n) {
      order.emplace_back(kv.first.IsScalar() ? kv.first.Scalar() : "?", values.size());
      values.push_back(kv.second);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [k, idx] : order) {
      const YAML::Node& v = values[idx];
      out += pad + (needs_quotes(k, false) ? quote(k) : k) + ':';
      emit_value_after_key(v, indent, out);
    }
  } else if (n.IsSequence()) {
    for (const auto& item : n) {
      if (item.IsMap() && item.size() > 0) {
        // "- " then the map's first key on the same line, the rest indented under it.
        std::string sub;
        emit(item, indent + 2, sub);
        out += pad + "- " + sub.substr(static_cast<size_t>(indent) + 2);
      } else if (item.IsSequence() && item.size() > 0) {
        std::string sub;
        emit(item, indent + 2, sub);
        out += pad + "- " + sub.substr(static_cast<size_t>(indent) + 2);
      } else {
        out += pad + "-";
        emit_value_after_key(item, indent, out);
      }
    }
  } else if (n.IsScalar()) {
    out += pad + scalar_text(n) + '\n';
  } else {
    out += pad + "null\n";
  }
}

std::string unescape_pointer_token(std::string t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size()) {
      out += t[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

void remove_pointer(YAML::Node root, std::string_view pointer) {
  if (pointer.empty() || pointer.front() != '/') return;
  std::vector<std::string> tokens;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t next = pointer.find('/', pos);
    if (next == std::string_view::npos) next = pointer.size();
    tokens.push_back(unescape_pointer_token(std::string(pointer.substr(pos, next - pos))));
    pos = next + 1;
  }
  YAML::Node cur = root;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (cur.IsMap() && cur[tokens[i]]) {
      cur.reset(cur[tokens[i]]);
    } else if (cur.IsSequence() && std::all_of(tokens[i].begin(), tokens[i].end(), ::isdigit) &&
               !tokens[i].empty() && std::stoul(tokens[i]) < cur.size()) {
      cur.reset(cur[std::stoul(tokens[i])]);
    } else {
      return;
    }
  }
  if (cur.IsMap()) cur.remove(tokens.back());
}

std::string detail_text(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

void redact_secret(YAML::Node doc, std::vector<std::string>* values, const std::string& key) {
  auto marker = [&key](std::string_view v) { return key.empty() ? core::secret_marker(v) : core::secret_marker(v, key); };
  // stringData is what the API server folds into data; compare both sides as data, by marker of the
  // decoded value, so "stringData: x" and "data: base64(x)" compare equal and neither is shown.
  YAML::Node data = doc["data"];
  YAML::Node merged(YAML::NodeType::Map);
  if (data && data.IsMap()) {
    for (const auto& kv : data) {
      std::string raw = kv.second.IsScalar() ? kv.second.Scalar() : "";
      auto decoded = core::base64_decode(raw);
      if (values != nullptr) values->push_back(decoded ? *decoded : raw);
      merged[kv.first.Scalar()] = marker(decoded ? *decoded : raw);
    }
  }
  YAML::Node sd = doc["stringData"];
  if (sd && sd.IsMap()) {
    for (const auto& kv : sd) {
      std::string raw = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (values != nullptr) values->push_back(raw);
      merged[kv.first.Scalar()] = marker(raw);
    }
    doc.remove("stringData");
  }
  if ((data && data.IsMap()) || (sd && sd.IsMap())) doc["data"] = merged;
  // Malformed data (a scalar or a list where a map belongs) is not shown either.
  if (data && !data.IsMap() && !data.IsNull()) doc["data"] = marker(detail_text(data));
  if (sd && !sd.IsMap() && !sd.IsNull()) {
    doc.remove("stringData");
    doc["data"] = marker(detail_text(sd));
  }
  // kubectl's last-applied annotation would carry the values again.
  if (doc["metadata"] && doc["metadata"]["annotations"] && doc["metadata"]["annotations"].IsMap()) {
    doc["metadata"]["annotations"].remove("kubectl.kubernetes.io/last-applied-configuration");
  }
}

// A List (v1 List, or a typed list such as SecretList) holds items: compare the items, each on its own
// and each redacted as it would be at the top level. Items of a typed list usually carry no kind or
// apiVersion: they take the list's ("SecretList" -> "Secret"). Lists in lists are followed a few levels.
void expand_lists(const YAML::Node& d, const std::string& kind, const std::string& api, int depth,
                  std::vector<YAML::Node>& out) {
  YAML::Node doc = d;
  if (doc.IsMap() && !kind.empty()) {
    if (!doc["kind"]) doc["kind"] = kind;
    if (!doc["apiVersion"] && !api.empty()) doc["apiVersion"] = api;
  }
  std::string k = doc.IsMap() && doc["kind"] && doc["kind"].IsScalar() ? doc["kind"].Scalar() : "";
  if (k.size() >= 4 && k.compare(k.size() - 4, 4, "List") == 0 && doc["items"] && doc["items"].IsSequence()) {
    if (depth >= 4) return;  // deeper than any real tool nests: shown as nothing rather than unredacted
    std::string item_kind = k == "List" ? "" : k.substr(0, k.size() - 4);
    std::string item_api = item_kind.empty() || !doc["apiVersion"] || !doc["apiVersion"].IsScalar()
                               ? std::string()
                               : doc["apiVersion"].Scalar();
    for (const auto& item : doc["items"]) expand_lists(item, item_kind, item_api, depth + 1, out);
    return;
  }
  out.push_back(doc);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

std::string Resource::key() const {
  return (group.empty() ? std::string("core") : group) + "/" + kind + "/" + namespace_ + "/" + name;
}

std::string canonical_yaml(const YAML::Node& node) {
  std::string out;
  emit(node, 0, out);
  return out;
}

core::Result<std::vector<Resource>> parse_manifest(std::string_view yaml, const ParseOptions& options) {
  std::vector<YAML::Node> docs;
  try {
    docs = core::yaml::load_all(yaml, core::yaml::Source::rendered);
  } catch (const YAML::Exception& e) {
    return core::Error(core::errc::bad_request,
                       (options.source.empty() ? std::string("manifest") : options.source) + ":" +
                           std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                           ": invalid YAML: " + e.msg);
  }
  std::vector<Resource> out;
  std::vector<YAML::Node> expanded;
  for (auto& d : docs) expand_lists(d, "", "", 0, expanded);
  for (auto& doc : expanded) {
    if (!doc.IsMap() || !doc["kind"] || !doc["metadata"] || !doc["metadata"].IsMap() ||
        !doc["metadata"]["name"]) {
      continue;
    }
    Resource r;
    std::string api = doc["apiVersion"] && doc["apiVersion"].IsScalar() ? doc["apiVersion"].Scalar() : "";
    if (auto slash = api.find('/'); slash != std::string::npos) {
      r.group = api.substr(0, slash);
      r.version = api.substr(slash + 1);
    } else {
      r.version = api;
    }
    r.kind = doc["kind"].Scalar();
    r.name = doc["metadata"]["name"].Scalar();
    if (doc["metadata"]["namespace"] && doc["metadata"]["namespace"].IsScalar()) {
      r.namespace_ = doc["metadata"]["namespace"].Scalar();
    }
    if (r.namespace_.empty() && !options.default_namespace.empty() &&
        !(options.scopes != nullptr ? options.scopes->cluster_scoped(r.group, r.kind)
                                    : builtin_cluster_scoped(r.group, r.kind))) {
      r.namespace_ = options.default_namespace;
      doc["metadata"]["namespace"] = r.namespace_;
    }
    doc.remove("status");
    YAML::Node md = doc["metadata"];
    for (const char* f : {"managedFields", "creationTimestamp", "resourceVersion", "uid", "generation",
                          "selfLink"}) {
      md.remove(f);
    }
    for (const auto& rule : options.ignore) {
      if (glob_match(rule.group, r.group) && glob_match(rule.kind, r.kind)) remove_pointer(doc, rule.pointer);
    }
    if (r.group.empty() && r.kind == "Secret") redact_secret(doc, options.secret_values, options.secret_key);
    r.text = canonical_yaml(doc);
    if (options.redactor != nullptr) r.text = options.redactor->scrub(std::move(r.text));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace helmgate::diff
