// Discovery, cache: the entry format. Two lines of JSON: a header (format, key, closure), then the result
// (releases with their typed HelmRelease document, notes, roots read). Read back as strictly as Git
// content: every field present with its type, nothing else, bounded nesting; a mistake is an error naming
// the field, and the caller ignores the entry.
#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "core/json.hpp"
#include "core/limits.hpp"
#include "release/discovery_cache.hpp"

namespace helmgate::release {

namespace {

using core::json::Value;
using core::json::Writer;
using core::json::write_str;

// A field added to these types must be stored below (and read back): then update the size.
static_assert(sizeof(Release) == 904, "Release changed: store the new field in discovery_codec.cpp");
static_assert(sizeof(ChartRef) == 240, "ChartRef changed: store the new field in discovery_codec.cpp");
static_assert(sizeof(ValuesSource) == 200, "ValuesSource changed: store the new field in discovery_codec.cpp");

// ---- writing

void loc(Writer& w, const Location& l) {
  w.StartArray();
  write_str(w, l.file);
  w.Int(l.line);
  w.Int(l.column);
  w.EndArray();
}

void strings(Writer& w, const std::vector<std::string>& v) {
  w.StartArray();
  for (const auto& s : v) write_str(w, s);
  w.EndArray();
}

void problems(Writer& w, const std::vector<Problem>& v) {
  w.StartArray();
  for (const auto& p : v) {
    w.StartArray();
    write_str(w, p.cluster);
    write_str(w, p.message);
    loc(w, p.where);
    w.EndArray();
  }
  w.EndArray();
}

// A YAML node with what the comparisons read of it (type, tag, scalar text, order); keys are scalars.
void node(Writer& w, const YAML::Node& n) {
  w.StartObject();
  write_str(w, "t");
  write_str(w, n.Tag());
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      write_str(w, "s");
      write_str(w, n.Scalar());
      break;
    case YAML::NodeType::Sequence:
      write_str(w, "q");
      w.StartArray();
      for (const auto& x : n) node(w, x);
      w.EndArray();
      break;
    case YAML::NodeType::Map:
      write_str(w, "m");
      w.StartArray();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) throw std::invalid_argument("a mapping key that is not a scalar");
        node(w, kv.first);
        node(w, kv.second);
      }
      w.EndArray();
      break;
    case YAML::NodeType::Null:
      write_str(w, "n");
      w.Null();
      break;
    case YAML::NodeType::Undefined: throw std::invalid_argument("an undefined node");
  }
  w.EndObject();
}

void release(Writer& w, const Release& r) {
  w.StartArray();
  for (const std::string* s : {&r.cluster, &r.api_version, &r.namespace_, &r.name, &r.release_name,
                               &r.target_namespace, &r.kube_version, &r.values_json, &r.post_render_kustomization,
                               &r.root}) {
    write_str(w, *s);
  }
  w.Bool(r.create_namespace);
  w.Bool(r.install_checks.skip_schema_validation);
  w.Bool(r.upgrade_checks.skip_schema_validation);
  w.Bool(r.install_checks.skip_openapi_validation);
  w.Bool(r.upgrade_checks.skip_openapi_validation);
  const ChartRef& c = r.chart;
  w.StartArray();
  w.Int(static_cast<int>(c.kind));
  for (const std::string* s : {&c.path, &c.url, &c.name, &c.version, &c.digest, &c.content_id}) write_str(w, *s);
  loc(w, c.source);
  w.EndArray();
  w.StartArray();
  for (const auto& v : r.values_from) {
    w.StartArray();
    for (const std::string* s : {&v.kind, &v.namespace_, &v.name, &v.key, &v.target_path, &v.content_id}) write_str(w, *s);
    w.Bool(v.optional);
    w.Bool(v.found);
    w.EndArray();
  }
  w.EndArray();
  strings(w, r.via);
  strings(w, r.inputs);
  loc(w, r.where);
  strings(w, r.notes);
  problems(w, r.errors);
  w.StartArray();
  write_str(w, r.spec.kind());
  if (auto cn = r.spec.install_create_namespace()) {
    w.Bool(*cn);
  } else {
    w.Null();
  }
  write_str(w, r.spec.service_account_name());
  if (const YAML::Node* d = r.spec.document()) {
    node(w, *d);
  } else {
    w.Null();
  }
  w.EndArray();
  w.EndArray();
}

// ---- reading: every accessor throws std::runtime_error naming what is wrong

struct Bad : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const Value& arr(const Value& v, size_t n, const char* what) {
  if (!v.IsArray() || (n != 0 && v.Size() != n)) throw Bad(std::string(what) + ": not an array of the expected size");
  return v;
}
std::string str(const Value& v, const char* what) {
  if (!v.IsString()) throw Bad(std::string(what) + ": not a string");
  return std::string(v.GetString(), v.GetStringLength());
}
bool boolean(const Value& v, const char* what) {
  if (!v.IsBool()) throw Bad(std::string(what) + ": not a boolean");
  return v.GetBool();
}
int integer(const Value& v, const char* what) {
  if (!v.IsInt() || v.GetInt() < 0) throw Bad(std::string(what) + ": not a line or column");
  return v.GetInt();
}
Location location(const Value& v) {
  arr(v, 3, "location");
  return {str(v[0], "location file"), integer(v[1], "location line"), integer(v[2], "location column")};
}
std::vector<std::string> str_list(const Value& v, const char* what) {
  std::vector<std::string> out;
  for (const auto& x : arr(v, 0, what).GetArray()) out.push_back(str(x, what));
  return out;
}
std::vector<Problem> problem_list(const Value& v) {
  std::vector<Problem> out;
  for (const auto& p : arr(v, 0, "problems").GetArray()) {
    arr(p, 3, "problem");
    out.push_back({str(p[0], "problem cluster"), str(p[1], "problem message"), location(p[2])});
  }
  return out;
}

// Checks a stored node's shape (so building it later cannot fail) and returns its node count.
void check_node(const Value& v, unsigned depth) {
  if (depth > core::limits().yaml.max_depth + 2) throw Bad("document nests too deep");
  if (!v.IsObject() || v.MemberCount() != 2 || !v.HasMember("t") || !v["t"].IsString()) throw Bad("document node");
  if (v.HasMember("s")) {
    str(v["s"], "document scalar");
  } else if (v.HasMember("n")) {
    if (!v["n"].IsNull()) throw Bad("document null");
  } else if (v.HasMember("q")) {
    for (const auto& x : arr(v["q"], 0, "document sequence").GetArray()) check_node(x, depth + 1);
  } else if (v.HasMember("m")) {
    const Value& m = arr(v["m"], 0, "document mapping");
    if (m.Size() % 2 != 0) throw Bad("document mapping: odd entries");
    for (rapidjson::SizeType i = 0; i < m.Size(); i += 2) {
      if (!m[i].IsObject() || !m[i].HasMember("s")) throw Bad("document mapping key: not a scalar");
      check_node(m[i], depth + 1);
      check_node(m[i + 1], depth + 1);
    }
  } else {
    throw Bad("document node of no known type");
  }
}

YAML::Node build_node(const Value& v) {
  const std::string tag(v["t"].GetString(), v["t"].GetStringLength());
  YAML::Node n;
  if (v.HasMember("s")) {
    n = YAML::Node(std::string(v["s"].GetString(), v["s"].GetStringLength()));
  } else if (v.HasMember("n")) {
    n = YAML::Node(YAML::NodeType::Null);
  } else if (v.HasMember("q")) {
    n = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& x : v["q"].GetArray()) n.push_back(build_node(x));
  } else {
    n = YAML::Node(YAML::NodeType::Map);
    const Value& m = v["m"];
    for (rapidjson::SizeType i = 0; i < m.Size(); i += 2) n.force_insert(build_node(m[i]), build_node(m[i + 1]));
  }
  n.SetTag(tag);
  return n;
}

Release release_of(const Value& v, const std::shared_ptr<core::json::Document>& doc) {
  arr(v, 23, "release");
  Release r;
  rapidjson::SizeType i = 0;
  for (std::string* s : {&r.cluster, &r.api_version, &r.namespace_, &r.name, &r.release_name, &r.target_namespace,
                         &r.kube_version, &r.values_json, &r.post_render_kustomization, &r.root}) {
    *s = str(v[i++], "release field");
  }
  r.create_namespace = boolean(v[i++], "create_namespace");
  r.install_checks.skip_schema_validation = boolean(v[i++], "install skip_schema_validation");
  r.upgrade_checks.skip_schema_validation = boolean(v[i++], "upgrade skip_schema_validation");
  r.install_checks.skip_openapi_validation = boolean(v[i++], "install skip_openapi_validation");
  r.upgrade_checks.skip_openapi_validation = boolean(v[i++], "upgrade skip_openapi_validation");
  const Value& c = arr(v[i++], 8, "chart");
  if (!c[0].IsInt() || c[0].GetInt() < 0 || c[0].GetInt() > static_cast<int>(ChartKind::remote_git)) throw Bad("chart kind");
  r.chart.kind = static_cast<ChartKind>(c[0].GetInt());
  rapidjson::SizeType j = 1;
  for (std::string* s : {&r.chart.path, &r.chart.url, &r.chart.name, &r.chart.version, &r.chart.digest, &r.chart.content_id}) {
    *s = str(c[j++], "chart field");
  }
  r.chart.source = location(c[j]);
  for (const auto& x : arr(v[i++], 0, "valuesFrom").GetArray()) {
    arr(x, 8, "valuesFrom entry");
    ValuesSource vs;
    rapidjson::SizeType k = 0;
    for (std::string* s : {&vs.kind, &vs.namespace_, &vs.name, &vs.key, &vs.target_path, &vs.content_id}) {
      *s = str(x[k++], "valuesFrom field");
    }
    if (vs.kind != "ConfigMap" && vs.kind != "ChartFile") throw Bad("valuesFrom kind " + vs.kind + " is never stored");
    vs.optional = boolean(x[k++], "valuesFrom optional");
    vs.found = boolean(x[k], "valuesFrom found");
    r.values_from.push_back(std::move(vs));
  }
  r.via = str_list(v[i++], "via");
  r.inputs = str_list(v[i++], "inputs");
  r.where = location(v[i++]);
  r.notes = str_list(v[i++], "notes");
  r.errors = problem_list(v[i++]);
  const Value& s = arr(v[i], 4, "spec");
  std::optional<bool> cn;
  if (!s[1].IsNull()) cn = boolean(s[1], "spec createNamespace");
  std::function<YAML::Node()> build = [] { return YAML::Node(); };
  if (!s[3].IsNull()) {
    check_node(s[3], 0);
    const Value* at = &s[3];
    build = [doc, at] { return build_node(*at); };  // doc keeps *at alive
  }
  r.spec = Spec::restored(str(s[0], "spec kind"), cn, str(s[2], "spec serviceAccountName"), std::move(build));
  return r;
}

std::string to_text(const std::function<void(Writer&)>& f) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  f(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string uncacheable_reason(const ClusterResult& r) {
  for (const auto& rel : r.releases) {
    if (!rel.sensitive.empty()) return "release " + rel.id() + " holds values from a Secret or SOPS";
    if (!rel.decrypted.empty()) return "release " + rel.id() + " has SOPS-decrypted values";
    for (const auto& v : rel.values_from) {
      if (v.kind != "ConfigMap" && v.kind != "ChartFile") return "release " + rel.id() + " reads a " + v.kind;
    }
  }
  return {};
}

std::string encode_entry(const std::string& key, const ClusterResult& r) {
  std::string header = to_text([&](Writer& w) {
    w.StartObject();
    core::json::kv(w, "format", kDiscoveryFormat);
    core::json::kv(w, "key", key);
    write_str(w, "closure");
    w.StartArray();
    for (const auto& [p, id] : r.closure) {
      w.StartArray();
      write_str(w, p);
      write_str(w, id);
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
  });
  std::string body = to_text([&](Writer& w) {
    w.StartObject();
    core::json::kv(w, "parsed", static_cast<int64_t>(r.parsed));
    write_str(w, "read_roots");
    strings(w, r.read_roots);
    write_str(w, "notes");
    problems(w, r.notes);
    write_str(w, "unread");
    w.StartArray();
    for (const auto& [id, what] : r.unread) strings(w, {id, what});
    w.EndArray();
    write_str(w, "releases");
    w.StartArray();
    for (const auto& rel : r.releases) release(w, rel);
    w.EndArray();
    w.EndObject();
  });
  return header + "\n" + body + "\n";
}

core::Result<DecodedHeader> decode_header(std::string_view text) {
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return core::Error(core::errc::bad_request, "truncated (no header line)");
  core::json::Document d;
  if (auto e = core::json::parse(d, text.substr(0, nl), 8)) return core::Error(core::errc::bad_request, "header: " + *e);
  try {
    if (!d.IsObject() || d.MemberCount() != 3 || !d.HasMember("format") || !d.HasMember("key") || !d.HasMember("closure")) {
      throw Bad("header fields");
    }
    if (str(d["format"], "format") != kDiscoveryFormat) throw Bad("another format");
    DecodedHeader h;
    h.key = str(d["key"], "key");
    for (const auto& x : arr(d["closure"], 0, "closure").GetArray()) {
      arr(x, 2, "closure entry");
      h.closure.emplace_back(str(x[0], "closure path"), str(x[1], "closure id"));
      const std::string& id = h.closure.back().second;
      if (!id.empty() && (id.size() != 40 || id.find_first_not_of("0123456789abcdef") != std::string::npos)) {
        throw Bad("closure id is not an object id");
      }
    }
    h.body = nl + 1;
    return h;
  } catch (const Bad& e) {
    return core::Error(core::errc::bad_request, std::string("header: ") + e.what());
  }
}

core::Result<ClusterResult> decode_entry(std::string_view text) {
  auto h = decode_header(text);
  if (!h) return h.error();
  std::string_view body = text.substr(h->body);
  if (body.empty() || body.back() != '\n') return core::Error(core::errc::bad_request, "truncated (no final newline)");
  body.remove_suffix(1);
  auto doc = std::make_shared<core::json::Document>();
  if (auto e = core::json::parse(*doc, body, core::limits().yaml.max_depth * 2 + 16)) {
    return core::Error(core::errc::bad_request, "result: " + *e);
  }
  try {
    const core::json::Document& d = *doc;
    if (!d.IsObject() || d.MemberCount() != 5) throw Bad("result fields");
    for (const char* f : {"parsed", "read_roots", "notes", "unread", "releases"}) {
      if (!d.HasMember(f)) throw Bad(std::string("no ") + f);
    }
    ClusterResult r;
    r.closure = std::move(h->closure);
    if (!d["parsed"].IsUint64()) throw Bad("parsed: not a count");
    r.parsed = d["parsed"].GetUint64();
    r.read_roots = str_list(d["read_roots"], "read_roots");
    r.notes = problem_list(d["notes"]);
    for (const auto& x : arr(d["unread"], 0, "unread").GetArray()) {
      arr(x, 2, "unread entry");
      r.unread[str(x[0], "unread id")] = str(x[1], "unread kind");
    }
    for (const auto& x : arr(d["releases"], 0, "releases").GetArray()) r.releases.push_back(release_of(x, doc));
    return r;
  } catch (const Bad& e) {
    return core::Error(core::errc::bad_request, std::string("result: ") + e.what());
  }
}

}  // namespace helmgate::release
