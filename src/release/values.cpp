// Values as Flux merges them: MergeMaps, and valuesFrom.targetPath set the way Helm's strvals does.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>

#include "release/typed_json.hpp"

namespace helmgate::release::typed {

void merge(Value& dst, const Value& src) {
  if (!dst.is_object() || !src.is_object()) {
    dst = src;
    return;
  }
  for (const auto& [k, v] : src.o) {
    auto it = dst.o.find(k);
    if (it != dst.o.end() && it->second.is_object() && v.is_object()) {
      merge(it->second, v);
    } else {
      dst.o[k] = v;
    }
  }
}

namespace {

constexpr size_t kMaxTargetPath = 250;   // the HelmRelease CRD's maxLength
constexpr long kMaxIndex = 65536;        // Helm's strvals.MaxIndex
constexpr int kMaxNestedNameLevel = 30;  // Helm's strvals.MaxNestedNameLevel

bool fold_equal(const std::string& a, const char* b) {
  size_t n = std::char_traits<char>::length(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Helm's strvals typedVal.
Value typed_val(const std::string& v, bool string_only) {
  if (string_only) return Value::string(v);
  if (fold_equal(v, "true")) return Value::boolean(true);
  if (fold_equal(v, "false")) return Value::boolean(false);
  if (fold_equal(v, "null")) return Value();
  if (v == "0") return Value::integer(0);
  if (!v.empty() && v[0] != '0') {
    size_t i = v[0] == '+' || v[0] == '-' ? 1 : 0;
    bool digits = i < v.size();
    for (size_t k = i; k < v.size(); ++k) digits = digits && v[k] >= '0' && v[k] <= '9';
    if (digits) {
      int64_t n = 0;
      const char* b = v.data() + (v[0] == '+' ? 1 : 0);
      auto res = std::from_chars(b, v.data() + v.size(), n);
      if (res.ec == std::errc() && res.ptr == v.data() + v.size()) return Value::integer(n);
    }
  }
  return Value::string(v);
}

// A port of the state machine of Helm's strvals parser (ParseInto / ParseIntoString), over typed values.
// Where Helm would panic on a type mismatch (a path through a string), it reports an error, as Helm's
// recover() turns that panic into one.
class Strvals {
 public:
  Strvals(std::string text, bool string_only) : s_(std::move(text)), string_only_(string_only) {}

  core::Result<void> parse(Value& data) {
    while (true) {
      St st = key(data, 0);
      if (st == St::ok) continue;
      if (st == St::eof) return {};
      return core::Error(core::errc::bad_request, error_);
    }
  }
  // Where parsing stopped: past the path means the value itself was read as more strvals syntax.
  size_t position() const { return pos_; }

 private:
  enum class St { ok, eof, error };

  St err(const std::string& m) {
    if (error_.empty()) error_ = m;
    return St::error;
  }

  // Reads until one of `stops` (consumed, returned in last); a backslash takes the next byte literally.
  bool until(const char* stops, std::string& out, char& last) {
    out.clear();
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (std::strchr(stops, c) != nullptr) {
        last = c;
        return true;
      }
      if (c == '\\') {
        if (pos_ >= s_.size()) return false;
        out += s_[pos_++];
        continue;
      }
      out += c;
    }
    return false;  // EOF
  }

  static void set(Value& data, const std::string& k, Value v) {
    if (k.empty()) return;
    data.o[k] = std::move(v);
  }

  St key_index(long& i) {
    std::string v;
    char last = 0;
    if (!until("]", v, last)) return err("error parsing index: unexpected end of the path");
    if (v.empty() || v.size() > 6) return err("error parsing index '" + v + "'");
    size_t k = v[0] == '+' || v[0] == '-' ? 1 : 0;
    if (k >= v.size()) return err("error parsing index '" + v + "'");
    for (size_t j = k; j < v.size(); ++j) {
      if (v[j] < '0' || v[j] > '9') return err("error parsing index '" + v + "': not a number");
    }
    i = std::stol(v);
    return St::ok;
  }

  static St set_index(Value& list, long i, Value v, std::string& error) {
    if (i < 0) {
      error = "negative " + std::to_string(i) + " index not allowed";
      return St::error;
    }
    if (i > kMaxIndex) {
      error = "index of " + std::to_string(i) + " is greater than maximum supported index of " + std::to_string(kMaxIndex);
      return St::error;
    }
    if (list.a.size() <= static_cast<size_t>(i)) list.a.resize(static_cast<size_t>(i) + 1);
    list.a[static_cast<size_t>(i)] = std::move(v);
    return St::ok;
  }

  // "{a,b}" is a list; anything else is not (then the caller reads a plain value).
  enum class ListSt { list, not_list, eof, error };
  ListSt val_list(Value& out) {
    if (pos_ >= s_.size()) return ListSt::eof;
    if (s_[pos_] != '{') return ListSt::not_list;
    ++pos_;
    out = Value();
    out.type = Value::Type::array;
    while (true) {
      std::string rs;
      char last = 0;
      if (!until(",}", rs, last)) {
        err("list must terminate with '}'");
        return ListSt::error;
      }
      out.a.push_back(typed_val(rs, string_only_));
      if (last == '}') {
        if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
        return ListSt::list;
      }
    }
  }

  Value plain_val() {
    std::string rs;
    char last = 0;
    until(",", rs, last);
    return typed_val(rs, string_only_);
  }

  St key(Value& data, int level) {
    std::string k;
    char last = 0;
    if (!until("=[,.", k, last)) {
      if (k.empty()) return St::eof;
      return err("key \"" + k + "\" has no value");
    }
    switch (last) {
      case '[': {
        long i = 0;
        if (key_index(i) != St::ok) return St::error;
        Value list;
        list.type = Value::Type::array;
        if (auto it = data.o.find(k); it != data.o.end()) {
          if (it->second.type != Value::Type::array) {
            return err("'" + k + "' holds " + describe(it->second) + ", not a list, so [" + std::to_string(i) + "] cannot index it");
          }
          list = it->second;
        }
        St st = list_item(list, i, level);
        if (st == St::error) return st;
        set(data, k, std::move(list));
        return st;
      }
      case '=': {
        Value v;
        switch (val_list(v)) {
          case ListSt::list: set(data, k, std::move(v)); return St::ok;
          case ListSt::eof: set(data, k, Value::string("")); return St::eof;
          case ListSt::error: return St::error;
          case ListSt::not_list: set(data, k, plain_val()); return St::ok;
        }
        return St::ok;
      }
      case ',':
        set(data, k, Value::string(""));
        return err("key \"" + k + "\" has no value (cannot end with ,)");
      default: {  // '.'
        if (++level > kMaxNestedNameLevel) {
          return err("value name nested level is greater than maximum supported nested level of " +
                     std::to_string(kMaxNestedNameLevel));
        }
        Value inner = Value::object();
        if (auto it = data.o.find(k); it != data.o.end()) {
          if (!it->second.is_object()) {
            return err("'" + k + "' holds " + describe(it->second) + ", not a map, so a key cannot be set inside it");
          }
          inner = it->second;
        }
        St st = key(inner, level);
        if (st == St::ok && inner.o.empty()) return err("key map \"" + k + "\" has no value");
        if (!inner.o.empty()) set(data, k, std::move(inner));
        return st;
      }
    }
  }

  St list_item(Value& list, long i, int level) {
    if (i < 0) return err("negative " + std::to_string(i) + " index not allowed");
    std::string k;
    char last = 0;
    bool more = until("[.=", k, last);
    if (!k.empty()) return err("unexpected data at end of array index: \"" + k + "\"");
    if (!more) return St::eof;
    std::string e;
    switch (last) {
      case '=': {
        Value v;
        St st = St::ok;
        switch (val_list(v)) {
          case ListSt::list: st = set_index(list, i, std::move(v), e); break;
          case ListSt::eof: st = set_index(list, i, Value::string(""), e); break;
          case ListSt::error: return St::error;
          case ListSt::not_list: st = set_index(list, i, plain_val(), e); break;
        }
        return st == St::error ? err(e) : st;
      }
      case '[': {
        long next = 0;
        if (key_index(next) != St::ok) return St::error;
        Value crt;
        crt.type = Value::Type::array;
        if (list.a.size() > static_cast<size_t>(i) && !list.a[static_cast<size_t>(i)].is_null()) {
          if (list.a[static_cast<size_t>(i)].type != Value::Type::array) {
            return err("element [" + std::to_string(i) + "] holds " + describe(list.a[static_cast<size_t>(i)]) + ", not a list");
          }
          crt = list.a[static_cast<size_t>(i)];
        }
        St st = list_item(crt, next, level);
        if (st == St::error) return st;
        return set_index(list, i, std::move(crt), e) == St::error ? err(e) : St::ok;
      }
      default: {  // '.'
        Value inner = Value::object();
        if (list.a.size() > static_cast<size_t>(i) && list.a[static_cast<size_t>(i)].is_object()) {
          inner = list.a[static_cast<size_t>(i)];
        }
        St st = key(inner, level);
        if (st != St::ok) return st;
        return set_index(list, i, std::move(inner), e) == St::error ? err(e) : St::ok;
      }
    }
  }

  static std::string describe(const Value& v) {
    switch (v.type) {
      case Value::Type::null: return "null";
      case Value::Type::boolean: return "a boolean";
      case Value::Type::integer:
      case Value::Type::number: return "a number";
      case Value::Type::string: return "a string";
      case Value::Type::array: return "a list";
      case Value::Type::object: return "a map";
    }
    return "a value";
  }

  std::string s_;
  bool string_only_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

core::Result<void> check_target_path(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return core::Error(core::errc::bad_request, "targetPath '" + path + "' " + why);
  };
  if (path.empty()) return bad("is empty");
  if (path.size() > kMaxTargetPath) return bad("is longer than " + std::to_string(kMaxTargetPath) + " characters (the HelmRelease CRD's limit)");
  // The CRD's pattern: ^([a-zA-Z0-9_\-.\\/]|\[[0-9]{1,5}\])+$
  int level = 0;
  bool segment_open = false;  // a key segment has characters
  bool after_index = false;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '[') {
      size_t close = path.find(']', i);
      if (close == std::string::npos) return bad("has a '[' without ']'");
      std::string digits = path.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 5 ||
          digits.find_first_not_of("0123456789") != std::string::npos) {
        return bad("has the index [" + digits + "]: an index is 1 to 5 digits (the HelmRelease CRD's pattern)");
      }
      if (!segment_open && !after_index) return bad("has an index without a key before it");
      if (std::stol(digits) > kMaxIndex) {
        return bad("has the index " + digits + ", above Helm's maximum of " + std::to_string(kMaxIndex));
      }
      i = close;
      after_index = true;
      segment_open = false;
      continue;
    }
    if (c == ']') return bad("has a ']' without '['");
    if (after_index && c != '.' && c != '[') return bad("has characters right after an index (use a.b[0].c)");
    if (c == '.') {
      if (!segment_open && !after_index) return bad("has an empty key (a leading, trailing or doubled '.')");
      if (!after_index && ++level > kMaxNestedNameLevel) {
        return bad("nests deeper than Helm's " + std::to_string(kMaxNestedNameLevel) + " levels");
      }
      segment_open = false;
      after_index = false;
      if (i + 1 == path.size()) return bad("has an empty key (a leading, trailing or doubled '.')");
      continue;
    }
    if (c == '\\') {
      if (i + 1 == path.size()) return bad("ends with a lone '\\'");
      char n = path[i + 1];
      if (!(std::isalnum(static_cast<unsigned char>(n)) != 0 || std::strchr("_-./\\", n) != nullptr)) {
        return bad("escapes a character the HelmRelease CRD's pattern does not allow");
      }
      ++i;
      segment_open = true;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && std::strchr("_-/", c) == nullptr) {
      return bad("has a character the HelmRelease CRD's pattern does not allow (letters, digits, _ - . / \\ and [index])");
    }
    segment_open = true;
  }
  return {};
}

core::Result<void> set_target_path(Value& root, const std::string& path, const std::string& value) {
  if (auto ok = check_target_path(path); !ok) return ok;
  if (!root.is_object()) root = Value::object();
  std::string v = value;
  const bool sq = v.size() >= 1 && v.front() == '\'' && v.back() == '\'';
  const bool dq = v.size() >= 1 && v.front() == '"' && v.back() == '"';
  if (sq || dq) {
    size_t b = v.find_first_not_of("'\"");
    size_t e = v.find_last_not_of("'\"");
    v = b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  }
  Value work = root;
  Strvals parser(path + "=" + v, sq || dq);
  auto r = parser.parse(work);
  if (!r) {
    // Never echo the value: it may come from a Secret.
    if (parser.position() > path.size() + 1) {
      return core::Error(core::errc::bad_request,
                         "targetPath '" + path + "': the value contains a ',' or an unterminated '{', which Helm's "
                         "strvals (used by Flux for targetPath) reads as more keys, so Flux fails this release; "
                         "escape the comma as '\\,' or drop the targetPath");
    }
    return core::Error(core::errc::bad_request, "targetPath '" + path + "': " + r.error().message);
  }
  root = std::move(work);
  return {};
}

}  // namespace helmgate::release::typed
