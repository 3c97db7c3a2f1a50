// libFuzzer target over the code that reads repository content: bounded YAML loading, typed values
// (values, valuesFrom), valuesFrom.targetPath, the name gate and the kustomization scan.
// Input: the first byte picks the entry point (its value modulo 5), the rest is the text:
//   0  core::yaml::load_all, then every document typed (typed::from_yaml)
//   1  typed::from_yaml_text (a values file / spec.values) and typed::emit_preserving
//   2  valuesFrom targetPath: the first line is the path, the rest the value (typed::set_target_path)
//   3  the name gate over a HelmRelease document (release::gate_names), every scalar through core::names
//   4  release::scan_kustomization over a kustomization document
// Properties checked beyond "no crash":
//   * typed round trip: for every accepted value v, from_yaml_text(to_yaml(v)) == v and to_json agrees;
//   * emit_preserving's output parses back to the same typed value;
//   * set_target_path accepts only paths check_target_path accepts, and its result round-trips too;
//   * nothing a core::names check accepts starts with '-' or holds a control character (nor a space,
//     except chart versions, where ">=1.0.0 <2.0.0" is a constraint).
// Discovery itself is not driven here: it reads a commit through git::Repository (libgit2), and a
// commit per input would cost more than every other entry point together. The pieces discovery runs on
// each file from Git are the ones above.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "core/names.hpp"
#include "core/yaml_bounded.hpp"
#include "release/kustomize_scan.hpp"
#include "release/names_gate.hpp"
#include "release/typed_json.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {
// release.cpp is not linked (discovery needs libgit2). gate_names calls this only for a chart version read
// from a source object, which the fuzzer leaves empty.
std::string ChartRef::describe() const { return "chart " + name; }
}  // namespace helmgate::release

namespace {
using namespace helmgate;
namespace typed = release::typed;

// Small limits so that no input can make the fuzzer run out of memory or time.
core::Limits small_limits() {
  core::Limits l;
  l.yaml = {256u << 10, 16, 32, 20'000, "limits.yaml"};
  l.rendered = l.yaml;
  l.rendered.key = "limits.rendered";
  return l;
}
// The text to_yaml writes for an accepted value is bounded by the small limits, but can be larger than
// them (indentation, quotes, aliases expanded): the round trip reads it back with the defaults.
core::Limits roundtrip_limits() { return core::Limits{}; }
const typed::Limits kTyped{20'000, 64};

[[noreturn]] void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "property failed: %s\n--- first\n%.2000s\n--- second\n%.2000s\n", what, a.c_str(), b.c_str());
  std::abort();
}

void check_roundtrip(const typed::Value& v) {
  const std::string json = typed::to_json(v);
  const std::string yaml = typed::to_yaml(v);
  core::set_limits(roundtrip_limits());
  typed::Converted back = typed::from_yaml_text(yaml, typed::Limits{});
  core::set_limits(small_limits());
  if (!back.ok) fail("to_yaml output does not read back", yaml, back.error.message);
  if (!(back.value == v)) fail("from_yaml_text(to_yaml(v)) != v", json, typed::to_json(back.value));
  if (typed::to_json(back.value) != json) fail("to_json differs after the round trip", json, typed::to_json(back.value));
}

void check_preserving(const YAML::Node& node, const typed::Value& v) {
  auto emitted = typed::emit_preserving(node, kTyped, 4u << 20);
  if (!emitted) return;  // over its limits: refused, which is fine
  core::set_limits(roundtrip_limits());
  typed::Converted back = typed::from_yaml_text(*emitted, typed::Limits{});
  core::set_limits(small_limits());
  if (!back.ok) fail("emit_preserving output does not read back", *emitted, back.error.message);
  if (!(back.value == v)) fail("emit_preserving changed the typed value", typed::to_json(v), typed::to_json(back.value));
}

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF), as Go decodes it.
bool utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 0x2) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

bool load_docs(std::string_view text, std::vector<YAML::Node>& docs) {
  try {
    docs = core::yaml::load_all(text);
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

void each_scalar(const YAML::Node& n, size_t depth, const std::function<void(const std::string&)>& f) {
  if (depth > 64) return;
  if (n.IsScalar()) {
    f(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& x : n) each_scalar(x, depth + 1, f);
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      each_scalar(kv.first, depth + 1, f);
      each_scalar(kv.second, depth + 1, f);
    }
  }
}

void check_names(const std::string& s) {
  namespace n = core::names;
  using Check = std::string (*)(std::string_view);
  static constexpr Check strict[] = {n::dns1123_label, n::dns1123_subdomain, n::helm_release_name,
                                     n::namespace_name, n::kind,          n::api_version,
                                     n::chart_name,     n::cluster_name};
  auto bad_start = [](std::string_view v) { return !v.empty() && v.front() == '-'; };
  for (Check c : strict) {
    if (!c(s).empty()) continue;
    if (s.empty() || bad_start(s) || n::has_control_chars(s) || s.find(' ') != std::string::npos) fail("a name check accepted", s, "");
  }
  // A ConfigMap/Secret data key may start with '-' as in Kubernetes: it is only looked up in the data map.
  if (n::data_key(s).empty() && (s.empty() || n::has_control_chars(s) || s.find_first_of(" /") != std::string::npos)) {
    fail("data_key accepted", s, "");
  }
  // Spaces are allowed in a version constraint and in a repository path ("charts/my chart"): both reach
  // helm as one argv element or a file path, never a request line.
  if (n::chart_version(s).empty() && (bad_start(s) || n::has_control_chars(s))) fail("chart_version accepted", s, "");
  if (n::repo_path(s).empty()) {
    const std::string parts = "/" + s + "/";
    if (n::has_control_chars(s) || parts.find("/../") != std::string::npos || parts.find("/-") != std::string::npos ||
        (!s.empty() && s.front() == '/')) {
      fail("repo_path accepted", s, "");
    }
  }
  // Object names other than a Namespace's follow Kubernetes' path-segment rule, which allows a leading
  // '-' (an RBAC Role may be called "-x"): they only reach request paths, percent-encoded, never argv.
  if (n::object_name("Namespace", s).empty() && (bad_start(s) || n::has_control_chars(s) || s.find(' ') != std::string::npos)) {
    fail("object_name accepted a Namespace name", s, "");
  }
  if (n::object_name("Role", s).empty() && (n::has_control_chars(s) || s.find_first_of(" /%") != std::string::npos)) {
    fail("object_name accepted", s, "");
  }
  (void)n::shown(s);
  const std::string seg = n::path_segment(s);
  if (!n::request_target_problem("/api/v1/namespaces/" + seg).empty()) fail("path_segment output is no target", s, seg);
  (void)n::header_value_problem(s);
}

void gate(const YAML::Node& doc) {
  release::Release r;
  r.cluster = "fuzz";
  r.api_version = release::detail::scalar(doc, "apiVersion");
  YAML::Node md = release::detail::get(doc, "metadata");
  r.name = release::detail::scalar(md, "name");
  r.namespace_ = release::detail::scalar(md, "namespace");
  r.release_name = r.namespace_ + "-" + r.name;
  release::gate_names(r, doc, {"fuzz.yaml", doc.Mark().line + 1, doc.Mark().column + 1});
  for (const auto& p : r.errors) {
    if (core::names::has_control_chars(p.message)) fail("a name gate message carries a control character", p.message, "");
  }
  each_scalar(doc, 0, check_names);
}

void scan(const YAML::Node& doc) {
  auto exists = [](const std::string& p) { return p.find("missing") == std::string::npos; };
  for (const auto& refusal : release::scan_kustomization(doc, "apps/base", exists)) (void)refusal.message();
  each_scalar(doc, 0, [](const std::string& s) { (void)release::kustomize_entry_is_remote(s); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const bool once = (core::set_limits(small_limits()), true);
  (void)once;
  const uint8_t sel = data[0] % 5;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  switch (sel) {
    case 0: {
      std::vector<YAML::Node> docs;
      if (!load_docs(text, docs)) return 0;
      for (const auto& d : docs) {
        typed::Converted c = typed::from_yaml(d, kTyped);
        if (c.ok) check_roundtrip(c.value);
      }
      break;
    }
    case 1: {
      typed::Converted c = typed::from_yaml_text(text, kTyped);
      if (!c.ok) return 0;
      check_roundtrip(c.value);
      YAML::Node node;
      try {
        node = core::yaml::load(text);
      } catch (const YAML::Exception&) {
        fail("from_yaml_text accepted text core::yaml::load refuses", text, "");
      }
      check_preserving(node, c.value);
      break;
    }
    case 2: {
      const size_t nl = text.find('\n');
      const std::string path = text.substr(0, nl);
      const std::string value = nl == std::string::npos ? std::string() : text.substr(nl + 1);
      const bool path_ok = typed::check_target_path(path).ok();
      typed::Value root = typed::Value::object();
      if (typed::set_target_path(root, path, value).ok()) {
        if (!path_ok) fail("set_target_path took a path check_target_path refuses", path, value);
        // A Secret's value may hold any bytes: to_json sends invalid UTF-8 as U+FFFD (as Go does), so the
        // typed value then reads back changed; the round trip is checked for UTF-8 values.
        // An index up to 65,536 is legal (Helm's limit) and makes a list that long: its round trip costs
        // about a second under ASan, so it is left to the other entry points (lists of any size go
        // through them, bounded by the node limit).
        if (utf8(value) && typed::to_json(root).size() <= (64u << 10)) check_roundtrip(root);
      }
      break;
    }
    case 3:
    case 4: {
      std::vector<YAML::Node> docs;
      if (!load_docs(text, docs)) return 0;
      for (const auto& d : docs) {
        if (sel == 3) {
          gate(d);
        } else {
          scan(d);
        }
      }
      break;
    }
    default:
      break;
  }
  return 0;
}
