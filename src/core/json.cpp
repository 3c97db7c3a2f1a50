#include "core/json.hpp"

#include <rapidjson/error/en.h>

namespace helmgate::core::json {

std::optional<std::string> parse(Document& doc, std::string_view text) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return "offset " + std::to_string(doc.GetErrorOffset()) + ": " + rapidjson::GetParseError_En(doc.GetParseError());
  }
  return std::nullopt;
}

const Value* find(const Value& root, std::string_view dotted_path) {
  const Value* cur = &root;
  while (!dotted_path.empty()) {
    size_t dot = dotted_path.find('.');
    std::string_view key = dotted_path.substr(0, dot);
    if (!cur->IsObject()) return nullptr;
    // A Value key: FindMember(const char*) would read up to the NUL, past this path segment.
    const Value name(rapidjson::StringRef(key.data(), key.size()));
    auto it = cur->FindMember(name);
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
    dotted_path = dot == std::string_view::npos ? std::string_view{} : dotted_path.substr(dot + 1);
  }
  return cur;
}

std::optional<std::string> get_string(const Value& root, std::string_view p) {
  const Value* v = find(root, p);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<int64_t> get_int(const Value& root, std::string_view p) {
  const Value* v = find(root, p);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<bool> get_bool(const Value& root, std::string_view p) {
  const Value* v = find(root, p);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::string to_string(const Value& v) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_str(w, s);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace helmgate::core::json
