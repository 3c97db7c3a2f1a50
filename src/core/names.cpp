#include "core/names.hpp"

#include <cstdio>

namespace helmgate::core::names {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

std::string hex_byte(char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buf;
}

// Why character c (at index i) is refused, in words.
std::string bad_char(char c, size_t i) {
  std::string at = " at position " + std::to_string(i + 1);
  if (c == '\n') return "it contains a line feed (\\n)" + at;
  if (c == '\r') return "it contains a carriage return (\\r)" + at;
  if (control(c)) return "it contains the control character " + hex_byte(c) + at;
  if (c == ' ') return "it contains a space" + at;
  if (static_cast<unsigned char>(c) >= 0x80) return "it contains a non-ASCII byte " + hex_byte(c) + at;
  if (c >= 'A' && c <= 'Z') return std::string("it contains the uppercase letter '") + c + "'" + at;
  return std::string("it contains '") + c + "'" + at;
}

// The first character outside `ok`, described; "" when there is none.
template <class Ok>
std::string first_bad(std::string_view v, Ok ok) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!ok(v[i])) return bad_char(v[i], i);
  }
  return {};
}

std::string too_long(std::string_view v, size_t max) {
  return "it is " + std::to_string(v.size()) + " characters long (at most " + std::to_string(max) + ")";
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])? without the length check; "" or the detail.
std::string label_detail(std::string_view v) {
  if (v.empty()) return "it is empty";
  if (auto b = first_bad(v, [](char c) { return lower_alnum(c) || c == '-'; }); !b.empty()) return b;
  if (v.front() == '-') return "it starts with '-'";
  if (v.back() == '-') return "it ends with '-'";
  return {};
}

std::string subdomain_detail(std::string_view v) {
  if (v.empty()) return "it is empty";
  if (auto b = first_bad(v, [](char c) { return lower_alnum(c) || c == '-' || c == '.'; }); !b.empty()) return b;
  size_t start = 0;
  while (true) {
    size_t dot = v.find('.', start);
    std::string_view part = v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return "it has an empty part between dots (or starts or ends with '.')";
    if (part.front() == '-') return "a part starts with '-'";
    if (part.back() == '-') return "a part ends with '-'";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

const char* kLabelRule = "(at most 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit)";
const char* kSubdomainRule =
    "(at most 253 characters of a-z, 0-9, '-' and '.', each dot-separated part starting and ending with a letter or "
    "digit)";

std::string fail(const std::string& what, const std::string& detail) { return what + ": " + detail; }

}  // namespace

bool has_control_chars(std::string_view v) {
  for (char c : v) {
    if (control(c)) return true;
  }
  return false;
}

std::string shown(std::string_view v) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : v) {
    if (++n > 80) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (control(c) || static_cast<unsigned char>(c) >= 0x80) {
      out += hex_byte(c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string dns1123_label(std::string_view v) {
  const std::string what = std::string("must be a DNS-1123 label ") + kLabelRule;
  if (v.size() > 63) return fail(what, too_long(v, 63));
  if (auto d = label_detail(v); !d.empty()) return fail(what, d);
  return {};
}

std::string dns1123_subdomain(std::string_view v) {
  const std::string what = std::string("must be a DNS-1123 subdomain ") + kSubdomainRule;
  if (v.size() > 253) return fail(what, too_long(v, 253));
  if (auto d = subdomain_detail(v); !d.empty()) return fail(what, d);
  return {};
}

std::string helm_release_name(std::string_view v) {
  const std::string what =
      "must be a Helm release name (at most 53 characters of a-z, 0-9, '-' and '.', each dot-separated part "
      "starting and ending with a letter or digit)";
  if (v.size() > 53) return fail(what, too_long(v, 53));
  if (auto d = subdomain_detail(v); !d.empty()) return fail(what, d);
  return {};
}

std::string namespace_name(std::string_view v) { return dns1123_label(v); }

std::string kind(std::string_view v) {
  const std::string what = "must be a kind ([A-Za-z][A-Za-z0-9]*, at most 63 characters)";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 63) return fail(what, too_long(v, 63));
  if (auto b = first_bad(v, alnum); !b.empty()) return fail(what, b);
  if (v.front() >= '0' && v.front() <= '9') return fail(what, "it starts with a digit");
  return {};
}

std::string api_version(std::string_view v) {
  const std::string what = "must be an apiVersion (<version> or <group>/<version>: group a DNS-1123 subdomain, version a DNS-1123 label)";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 253 + 1 + 63) return fail(what, too_long(v, 253 + 1 + 63));
  size_t slash = v.find('/');
  std::string_view group = slash == std::string_view::npos ? std::string_view() : v.substr(0, slash);
  std::string_view version = slash == std::string_view::npos ? v : v.substr(slash + 1);
  if (slash != std::string_view::npos) {
    if (auto d = subdomain_detail(group); !d.empty()) return fail(what, "the group: " + d);
    if (group.size() > 253) return fail(what, "the group: " + too_long(group, 253));
  }
  if (version.find('/') != std::string_view::npos) return fail(what, "it has more than one '/'");
  if (auto d = label_detail(version); !d.empty()) return fail(what, "the version: " + d);
  if (version.size() > 63) return fail(what, "the version: " + too_long(version, 63));
  return {};
}

std::string data_key(std::string_view v) {
  const std::string what = "must be a ConfigMap/Secret key ([-._a-zA-Z0-9]+, at most 253 characters)";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 253) return fail(what, too_long(v, 253));
  if (auto b = first_bad(v, [](char c) { return alnum(c) || c == '-' || c == '.' || c == '_'; }); !b.empty()) {
    return fail(what, b);
  }
  if (v == "." || v == "..") return fail(what, "it is '" + std::string(v) + "'");
  return {};
}

std::string chart_name(std::string_view v) {
  const std::string what = "must be a chart name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 250 characters)";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 250) return fail(what, too_long(v, 250));
  if (auto b = first_bad(v, [](char c) { return alnum(c) || c == '-' || c == '.' || c == '_'; }); !b.empty()) {
    return fail(what, b);
  }
  if (!alnum(v.front())) return fail(what, std::string("it starts with '") + v.front() + "'");
  return {};
}

std::string repo_path(std::string_view v) {
  const std::string what = "must be a relative path inside the repository (no '..', no part starting with '-')";
  if (v.size() > 4096) return fail(what, too_long(v, 4096));
  for (size_t i = 0; i < v.size(); ++i) {
    if (control(v[i])) return fail(what, bad_char(v[i], i));
    if (v[i] == '\\') return fail(what, "it contains a backslash at position " + std::to_string(i + 1));
  }
  std::string_view rest = v;
  while (rest.substr(0, 2) == "./") rest.remove_prefix(2);
  if (!rest.empty() && rest.front() == '/') return fail(what, "it is absolute");
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    std::string_view part = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return fail(what, "it has a '..' part");
    if (!part.empty() && part.front() == '-') return fail(what, "a part starts with '-'");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

std::string chart_version(std::string_view v) {
  const std::string what = "must be a version, version constraint or Git ref (no leading '-', no control characters)";
  if (v.size() > 256) return fail(what, too_long(v, 256));
  if (auto b = first_bad(v, [](char c) { return !control(c); }); !b.empty()) return fail(what, b);
  if (!v.empty() && v.front() == '-') return fail(what, "it starts with '-'");
  return {};
}

std::string object_name(std::string_view kind_, std::string_view v) {
  if (kind_ == "Namespace") return dns1123_label(v);
  const std::string what =
      "must be an object name (at most 253 printable characters without space, '/' or '%', not '.' or '..')";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 253) return fail(what, too_long(v, 253));
  if (auto b = first_bad(v, [](char c) { return c > 0x20 && c < 0x7f && c != '/' && c != '%'; }); !b.empty()) {
    return fail(what, b);
  }
  if (v == "." || v == "..") return fail(what, "it is '" + std::string(v) + "'");
  return {};
}

std::string cluster_name(std::string_view v) {
  const std::string what = "must be a cluster name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 63 characters)";
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 63) return fail(what, too_long(v, 63));
  if (auto b = first_bad(v, [](char c) { return alnum(c) || c == '-' || c == '.' || c == '_'; }); !b.empty()) {
    return fail(what, b);
  }
  if (!alnum(v.front())) return fail(what, std::string("it starts with '") + v.front() + "'");
  return {};
}

namespace {

// A plain user or group name (not one of Kubernetes' system: identities).
std::string plain_identity(std::string_view v, const std::string& what) {
  if (v.empty()) return fail(what, "it is empty");
  if (v.size() > 253) return fail(what, too_long(v, 253));
  auto ok = [](char c) {
    return alnum(c) || c == '.' || c == '_' || c == '@' || c == ':' || c == '/' || c == '+' || c == '=' || c == '-';
  };
  if (auto b = first_bad(v, ok); !b.empty()) return fail(what, b);
  if (!alnum(v.front())) return fail(what, std::string("it starts with '") + v.front() + "'");
  if (v.rfind("system:", 0) == 0) return fail(what, "it names one of Kubernetes' own system: identities");
  return {};
}

}  // namespace

std::string service_account_user(std::string_view namespace_, std::string_view name) {
  return "system:serviceaccount:" + std::string(namespace_) + ":" + std::string(name);
}

std::string impersonation_user(std::string_view v) {
  const std::string what =
      "must be a Kubernetes user to impersonate: system:serviceaccount:<namespace>:<name> or a user name "
      "([A-Za-z0-9][A-Za-z0-9._@:/+=-]*, at most 253 characters, not system:...)";
  constexpr std::string_view sa = "system:serviceaccount:";
  if (v.rfind(sa, 0) == 0) {
    std::string_view rest = v.substr(sa.size());
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return fail(what, "it lacks the ':' between namespace and name");
    if (auto why = label_detail(rest.substr(0, colon)); !why.empty()) return fail(what, "the namespace: " + why);
    if (colon > 63) return fail(what, "the namespace: " + too_long(rest.substr(0, colon), 63));
    std::string_view name = rest.substr(colon + 1);
    if (auto why = subdomain_detail(name); !why.empty()) return fail(what, "the name: " + why);
    if (name.size() > 253) return fail(what, "the name: " + too_long(name, 253));
    return {};
  }
  return plain_identity(v, what);
}

std::string impersonation_group(std::string_view v) {
  const std::string what =
      "must be a Kubernetes group to impersonate: a group name ([A-Za-z0-9][A-Za-z0-9._@:/+=-]*, at most 253 "
      "characters, not system:...) or system:serviceaccounts[:<namespace>]";
  if (v == "system:serviceaccounts") return {};
  constexpr std::string_view sas = "system:serviceaccounts:";
  if (v.rfind(sas, 0) == 0) {
    std::string_view ns = v.substr(sas.size());
    if (auto why = label_detail(ns); !why.empty()) return fail(what, "the namespace: " + why);
    if (ns.size() > 63) return fail(what, "the namespace: " + too_long(ns, 63));
    return {};
  }
  return plain_identity(v, what);
}

}  // namespace helmgate::core::names

namespace helmgate::core::names {

std::string path_segment(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string request_target_problem(std::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    if (control(target[i]) || target[i] == ' ') return bad_char(target[i], i);
  }
  return {};
}

std::string header_value_problem(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    // A tab is legal inside a header value; every other control character is refused.
    if (control(value[i]) && value[i] != '\t') return bad_char(value[i], i);
  }
  return {};
}

}  // namespace helmgate::core::names
