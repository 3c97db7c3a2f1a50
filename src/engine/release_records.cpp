#include "engine/release_records.hpp"

#include "core/redact.hpp"
#include "release/typed_json.hpp"

namespace helmgate::engine {

namespace {

namespace typed = release::typed;

// The walk is bounded by the caller (kube::DecodeLimits::max_values_depth checks config before).
typed::Value from_json(const core::json::Value& v) {
  if (v.IsNull()) return {};
  if (v.IsBool()) return typed::Value::boolean(v.GetBool());
  if (v.IsInt64()) return typed::Value::integer(v.GetInt64());
  if (v.IsNumber()) return typed::Value::number(v.GetDouble());
  if (v.IsString()) return typed::Value::string(std::string(v.GetString(), v.GetStringLength()));
  if (v.IsArray()) {
    typed::Value out;
    out.type = typed::Value::Type::array;
    for (const auto& x : v.GetArray()) out.a.push_back(from_json(x));
    return out;
  }
  typed::Value out = typed::Value::object();
  for (const auto& m : v.GetObject()) out.o[std::string(m.name.GetString(), m.name.GetStringLength())] = from_json(m.value);
  return out;
}

}  // namespace

std::string values_digest(const core::json::Value* config) {
  if (config == nullptr || config->IsNull()) return core::sha256_hex("{}");
  return core::sha256_hex(typed::to_json(from_json(*config)));
}

std::string values_digest(const std::string& values_json) {
  core::json::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag>(values_json.data(), values_json.size());
  if (doc.HasParseError()) return core::sha256_hex(values_json);  // not JSON: compared as it is
  return values_digest(&doc);
}

core::Result<kube::HelmRecords> read_release_records(kube::Client& client, const std::vector<std::string>& namespaces) {
  kube::RecordOptions o;
  o.namespaces = namespaces;
  o.values_digest = [](const core::json::Value* config) { return values_digest(config); };
  return kube::read_helm_records(client, o);
}

}  // namespace helmgate::engine
