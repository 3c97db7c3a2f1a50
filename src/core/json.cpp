#include "core/json.hpp"

#include "core/limits.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstdint>

namespace helmgate::core::json {

namespace {

// Forwards the reader's events to the document, counting the nesting; refuses past the limit before
// anything deeper is built.
class DepthLimited {
 public:
  DepthLimited(Document& doc, unsigned max_depth) : doc_(doc), max_(max_depth) {}
  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc_.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndArray(n);
  }
  bool too_deep() const { return too_deep_; }

 private:
  bool enter() {
    if (++depth_ > max_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  Document& doc_;
  unsigned max_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
};

// Up to this depth limit the reader may recurse (about a quarter faster than its iterative mode):
// the handler stops it at the limit, a few hundred bytes of stack per level. Past it, iterative.
constexpr unsigned kMaxRecursiveDepth = 128;

template <unsigned Flags, typename Stream>
std::optional<ParseFailure> parse_stream(Document& doc, Stream& is, unsigned max_depth) {
  DepthLimited handler(doc, max_depth);
  rapidjson::ParseResult result;
  auto generate = [&](Document&) {
    rapidjson::Reader reader;
    constexpr unsigned kIterative = Flags | rapidjson::kParseIterativeFlag;
    result = max_depth <= kMaxRecursiveDepth ? reader.Parse<Flags>(is, handler) : reader.Parse<kIterative>(is, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (!result.IsError()) return std::nullopt;
  doc.SetNull();
  if (handler.too_deep()) {
    return ParseFailure{"nests deeper than " + std::to_string(max_depth) + " levels (offset " +
                            std::to_string(result.Offset()) + ")",
                        true};
  }
  return ParseFailure{"offset " + std::to_string(result.Offset()) + ": " + rapidjson::GetParseError_En(result.Code()),
                      false};
}

template <unsigned Flags>
std::optional<ParseFailure> parse_with(Document& doc, std::string_view text, unsigned max_depth) {
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  return parse_stream<Flags>(doc, is, max_depth);
}

unsigned default_depth() { return static_cast<unsigned>(std::min<uint64_t>(limits().json_max_depth, 1u << 20)); }

std::optional<std::string> message(std::optional<ParseFailure> f) {
  if (!f) return std::nullopt;
  return std::move(f->message);
}

}  // namespace

std::optional<ParseFailure> parse_bounded(Document& doc, std::string_view text, unsigned max_depth, bool validate_utf8) {
  return validate_utf8 ? parse_with<rapidjson::kParseValidateEncodingFlag>(doc, text, max_depth)
                       : parse_with<rapidjson::kParseDefaultFlags>(doc, text, max_depth);
}

std::optional<std::string> parse(Document& doc, std::string_view text) {
  return message(parse_bounded(doc, text, default_depth(), true));
}

std::optional<std::string> parse(Document& doc, std::string_view text, unsigned max_depth) {
  return message(parse_bounded(doc, text, max_depth, true));
}

std::optional<std::string> parse_unvalidated(Document& doc, std::string_view text) {
  return message(parse_bounded(doc, text, default_depth(), false));
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

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
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
