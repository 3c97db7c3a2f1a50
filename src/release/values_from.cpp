#include "release/values_from.hpp"

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "release/sops_documents.hpp"
#include "release/yaml_util.hpp"

namespace helmgate::release {

namespace {

// The key of a ConfigMap's or Secret's data map as the API server holds it: keys typed too (a key written
// yes is "true" there), every value a string (a plain 1.10 is a number, and the API server refuses the
// object). nullopt when absent or refused (refused: an error of r, and *reported is set).
std::optional<std::string> read_key(Release& r, const Doc& obj, const char* field, const ValuesSource& vs,
                                    const Location& at, bool& reported) {
  YAML::Node data = detail::get(obj.node, field);
  if (!data || !data.IsMap()) return std::nullopt;
  auto typed_data = typed::from_yaml(data);
  const std::string what = vs.kind + " " + vs.namespace_ + "/" + vs.name + " " + field;
  if (!typed_data.ok) {
    r.errors.push_back({r.cluster, what + ": " + typed_data.error.message, at});
    reported = true;
    return std::nullopt;
  }
  auto it = typed_data.value.o.find(vs.key);
  if (it == typed_data.value.o.end()) return std::nullopt;
  if (it->second.is_null()) return std::string();
  if (it->second.type != typed::Value::Type::string) {
    r.errors.push_back({r.cluster,
                        what + "." + vs.key + ": '" +
                            (vs.kind == "Secret" ? std::string("<value>") : typed::to_json(it->second)) +
                            "' is not a string in Kubernetes (YAML reads it as a number, boolean, list or map), "
                            "so the API server refuses the " + vs.kind + "; quote it",
                        at});
    reported = true;
    return std::nullopt;
  }
  return it->second.s;
}

// A values document (not a targetPath value) merged into `merged`.
void merge_document(Release& r, typed::Value& merged, const ValuesSource& vs, const std::string& value,
                    const Location& at) {
  auto parsed = typed::from_yaml_text(value);
  if (!parsed.ok) {
    // yaml-cpp's syntax messages and the limits never quote the text; the converter's other messages may,
    // so for a Secret they are not shown.
    const std::string& m = parsed.error.message;
    const bool shown = vs.kind != "Secret" || m.rfind("invalid YAML: ", 0) == 0 ||
                       m.find("nodes after expanding aliases") != std::string::npos ||
                       m.find("nested deeper than") != std::string::npos || m.find("(limits.") != std::string::npos;
    r.errors.push_back({r.cluster,
                        "valuesFrom " + vs.label() + " cannot be read as values: " +
                            (shown ? m + (parsed.error.path.empty() || vs.kind == "Secret" ? "" : " at " + parsed.error.path)
                                   : std::string("a value kubectl would refuse")) +
                            " (line " + std::to_string(parsed.error.line + 1) + " of the value)",
                        at});
  } else if (!parsed.value.is_null() && !parsed.value.is_object()) {
    r.errors.push_back({r.cluster, "valuesFrom " + vs.label() + " is not a map of values (helm-controller refuses it)", at});
  } else {
    if (vs.kind == "Secret") typed::collect_leaves(parsed.value, r.sensitive);
    if (parsed.value.is_object()) typed::merge(merged, parsed.value);
  }
}

}  // namespace

void add_values_source(Release& r, typed::Value& merged, const typed::Value& spec_values, ValuesSource vs,
                       const Location& where, const ObjectIndex& objects) {
  const Doc* obj = objects.find(vs.kind, vs.namespace_, vs.name);
  std::optional<std::string> value;
  bool reported = false;
  if (obj != nullptr) {
    const Location obj_at = obj->file.empty() ? where : Location{obj->file, obj->line, 0};
    if (vs.kind == "ConfigMap") {
      value = read_key(r, *obj, "data", vs, obj_at, reported);
    } else if (!(value = read_key(r, *obj, "stringData", vs, obj_at, reported))) {
      value = read_key(r, *obj, "data", vs, obj_at, reported);
      if (value) value = core::base64_decode_lenient(*value);
    }
    if (!obj->file.empty()) r.inputs.push_back(obj->file);
    // Decrypted from SOPS in the repository (a Secret or a ConfigMap): every value it yielded is secret.
    add_decrypted(r, *obj);
  }
  vs.found = value.has_value();
  vs.content_id = value ? core::sha256_hex(*value).substr(0, 16) : "";
  if (!value) {
    if (!vs.optional && !reported) {
      r.errors.push_back({r.cluster,
                          "valuesFrom " + vs.label() + " not found in the repository (add it next to the "
                              "HelmRelease, or mark it optional: true)",
                          where});
    }
    r.values_from.push_back(vs);
    return;
  }
  // Secret data is sensitive: a targetPath value as a whole, a values document leaf by leaf.
  if (vs.kind == "Secret" && !vs.target_path.empty()) r.sensitive.push_back(*value);
  if (!vs.target_path.empty()) {
    typed::merge(merged, spec_values);
    if (auto ok = typed::set_target_path(merged, vs.target_path, *value); !ok) {
      r.errors.push_back({r.cluster, "valuesFrom " + vs.label() + ": " + ok.error().message, where});
    }
  } else {
    merge_document(r, merged, vs, *value, obj->file.empty() ? where : Location{obj->file, obj->line, 0});
  }
  r.values_from.push_back(vs);
}

}  // namespace helmgate::release
