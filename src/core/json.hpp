#pragma once
// Small helpers over RapidJSON: typed lookups that report the JSON path of what is missing,
// and a writer that always produces valid UTF-8 JSON.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helmgate::core::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Parsing refuses objects and arrays nested deeper than a limit, so the recursive walks after it
// (Accept, printers) are bounded too; with a limit above 128 it never recurses (RapidJSON's iterative
// parser), at or below it recursion is bounded by the limit. Without a limit given,
// core::limits().json_max_depth applies.
struct ParseFailure {
  std::string message;    // "offset N: reason" or "nests deeper than N levels (offset M)"
  bool too_deep = false;  // the depth limit, not a syntax error
};
std::optional<ParseFailure> parse_bounded(Document& doc, std::string_view text, unsigned max_depth, bool validate_utf8);

// Parses text, rejecting invalid UTF-8; on failure returns a message "offset N: reason".
std::optional<std::string> parse(Document& doc, std::string_view text);
std::optional<std::string> parse(Document& doc, std::string_view text, unsigned max_depth);
// The same without checking string encodings: about a third faster on large texts (API answers), for
// callers that validate every string they keep (valid_utf8) instead of the whole document.
std::optional<std::string> parse_unvalidated(Document& doc, std::string_view text);

bool valid_utf8(std::string_view s);
// Appends a code point (at most U+10FFFF) in UTF-8; a surrogate is encoded as it is (not valid UTF-8).
void append_utf8(std::string& out, uint32_t cp);

// Walks a dotted path ("pull_request.head.sha"); nullptr when any step is missing or not an object.
const Value* find(const Value& root, std::string_view dotted_path);

std::optional<std::string> get_string(const Value& root, std::string_view dotted_path);
std::optional<int64_t> get_int(const Value& root, std::string_view dotted_path);
std::optional<bool> get_bool(const Value& root, std::string_view dotted_path);

std::string to_string(const Value& v);

inline void write_str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
inline void kv(Writer& w, std::string_view k, std::string_view v) { write_str(w, k); write_str(w, v); }
inline void kv(Writer& w, std::string_view k, int64_t v) { write_str(w, k); w.Int64(v); }
inline void kv(Writer& w, std::string_view k, bool v) { write_str(w, k); w.Bool(v); }
inline void kv(Writer& w, std::string_view k, const char* v) { kv(w, k, std::string_view(v)); }

// Escapes a string as a JSON string literal (with quotes).
std::string quote(std::string_view s);

}  // namespace helmgate::core::json
