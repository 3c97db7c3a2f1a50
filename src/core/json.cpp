#include "core/json.hpp"

#include <rapidjson/error/en.h>

#include <cstdint>

namespace helmgate::core::json {

namespace {
template <unsigned Flags>
std::optional<std::string> parse_with(Document& doc, std::string_view text) {
  doc.Parse<Flags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return "offset " + std::to_string(doc.GetErrorOffset()) + ": " + rapidjson::GetParseError_En(doc.GetParseError());
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> parse(Document& doc, std::string_view text) {
  return parse_with<rapidjson::kParseValidateEncodingFlag>(doc, text);
}

std::optional<std::string> parse_unvalidated(Document& doc, std::string_view text) {
  return parse_with<rapidjson::kParseDefaultFlags>(doc, text);
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
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
