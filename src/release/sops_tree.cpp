#include "release/sops_tree.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/base64.hpp"
#include "release/sops_crypto.hpp"

namespace helmgate::release::sops {

namespace {

constexpr size_t kMaxDepth = 256;

// The 32 bytes sops hashes first when mac_only_encrypted is set, so that such a MAC never equals one
// computed without it (sops.go, MACOnlyEncryptedInitialization).
const unsigned char kMacOnlyEncryptedInit[32] = {0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34,
                                                 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f,
                                                 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69};

// Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest decimal that reads back, never an exponent.
std::string format_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

// Go's strconv.ParseInt(s, 0, 64): optional sign, then 0x/0o/0b/leading-0 octal or decimal.
std::optional<int64_t> parse_int_base0(std::string s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.erase(0, 1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') base = 16, s.erase(0, 2);
    else if (p == 'o') base = 8, s.erase(0, 2);
    else if (p == 'b') base = 2, s.erase(0, 2);
    else base = 8, s.erase(0, 1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (!neg && v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (neg && v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// Go's strconv.Atoi: an optional sign and decimal digits.
std::optional<int64_t> parse_decimal(const std::string& s) {
  if (s.empty() || s.find_first_not_of("+-0123456789") != std::string::npos) return std::nullopt;
  const size_t start = s[0] == '+' ? 1 : 0;
  if (start == 1 && (s.size() == 1 || s[1] == '-')) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + s.size(), v, 10);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool yaml_style_float(const std::string& s) {
  static const std::regex re(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  return std::regex_match(s, re);
}

// A plain YYYY-M-D date as go-yaml v3 reads it (time.Time), written back by MarshalText (RFC 3339).
std::optional<std::string> plain_date(const std::string& s) {
  static const std::regex re(R"(^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  const int mo = std::stoi(m[2]), d = std::stoi(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s-%02d-%02dT00:00:00Z", m[1].str().c_str(), mo, d);
  return std::string(buf);
}

// What go-yaml v3 makes of a plain scalar: kind 's' string, 'i' int, 'f' float, 'b' bool, 'n' null, 't' time.
struct Plain {
  char kind = 's';
  std::string bytes;  // ToBytes of it
};

Plain resolve_plain(const std::string& in) {
  static const char* trues[] = {"true", "True", "TRUE"};
  static const char* falses[] = {"false", "False", "FALSE"};
  static const char* nulls[] = {"", "~", "null", "Null", "NULL"};
  for (const char* t : trues) if (in == t) return {'b', "True"};
  for (const char* f : falses) if (in == f) return {'b', "False"};
  for (const char* n : nulls) if (in == n) return {'n', ""};
  if (in == ".nan" || in == ".NaN" || in == ".NAN") return {'f', "NaN"};
  if (in == ".inf" || in == ".Inf" || in == ".INF" || in == "+.inf" || in == "+.Inf" || in == "+.INF") return {'f', "+Inf"};
  if (in == "-.inf" || in == "-.Inf" || in == "-.INF") return {'f', "-Inf"};
  const char c = in[0];
  if (c == '.') {
    if (yaml_style_float(in)) return {'f', format_float(std::strtod(in.c_str(), nullptr))};
    return {'s', in};
  }
  if (c != '+' && c != '-' && (c < '0' || c > '9')) return {'s', in};
  if (auto t = plain_date(in)) return {'t', *t};
  std::string plain;
  for (char ch : in) if (ch != '_') plain += ch;
  if (auto i = parse_int_base0(plain)) return {'i', std::to_string(*i)};
  if (yaml_style_float(plain)) {
    errno = 0;
    const double d = std::strtod(plain.c_str(), nullptr);
    return {'f', format_float(d)};
  }
  return {'s', in};
}

bool parse_go_bool(const std::string& s, bool& out) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return out = true, true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return out = false, true;
  return false;
}

YAML::Node scalar_node(const std::string& text, bool quoted) {
  YAML::Node n(text);
  n.SetTag(quoted ? "!" : "?");
  return n;
}

class Walker {
 public:
  Walker(const Rules& rules, const std::string& key) : rules_(rules), key_(key) {
    if (rules_.mac_only_encrypted) {
      hash_.update(std::string_view(reinterpret_cast<const char*>(kMacOnlyEncryptedInit), sizeof(kMacOnlyEncryptedInit)));
    }
  }

  Walked run(const YAML::Node& doc) {
    Walked w;
    std::vector<std::string> path;
    bool drop = false;
    w.doc = node(doc, path, 0, true, drop);
    if (!error_.empty()) {
      w.error = error_;
      return w;
    }
    w.ok = true;
    w.mac = hash_.hex_upper();
    w.secrets = std::move(secrets_);
    w.paths = std::move(paths_);
    return w;
  }

 private:
  bool encrypted(const std::vector<std::string>& path) const {
    bool enc = true;
    if (!rules_.unencrypted_suffix.empty()) {
      for (const auto& p : path) {
        if (p.size() >= rules_.unencrypted_suffix.size() &&
            p.compare(p.size() - rules_.unencrypted_suffix.size(), std::string::npos, rules_.unencrypted_suffix) == 0) {
          enc = false;
          break;
        }
      }
    }
    if (!rules_.encrypted_suffix.empty()) {
      enc = false;
      for (const auto& p : path) {
        if (p.size() >= rules_.encrypted_suffix.size() &&
            p.compare(p.size() - rules_.encrypted_suffix.size(), std::string::npos, rules_.encrypted_suffix) == 0) {
          enc = true;
          break;
        }
      }
    }
    if (rules_.unencrypted_regex) {
      for (const auto& p : path) {
        if (std::regex_search(p, *rules_.unencrypted_regex)) {
          enc = false;
          break;
        }
      }
    }
    if (rules_.encrypted_regex) {
      enc = false;
      for (const auto& p : path) {
        if (std::regex_search(p, *rules_.encrypted_regex)) {
          enc = true;
          break;
        }
      }
    }
    return enc;
  }

  static std::string dotted(const std::vector<std::string>& path) {
    std::string out;
    for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
    return out.empty() ? "(top level)" : out;
  }

  void hash(bool enc, const std::string& bytes) {
    if (!rules_.mac_only_encrypted || enc) hash_.update(bytes);
  }

  YAML::Node leaf(const YAML::Node& n, const std::vector<std::string>& path, bool& drop) {
    const bool enc = encrypted(path);
    if (n.IsNull()) return n;  // sops leaves nil alone and does not hash it
    const bool quoted = n.Tag() != "?";
    if (!enc) {
      if (quoted) {
        hash(false, n.Scalar());
      } else {
        Plain p = resolve_plain(n.Scalar());
        if (p.kind != 'n') hash(false, p.bytes);
      }
      return n;
    }
    if (!quoted) {
      Plain p = resolve_plain(n.Scalar());
      if (p.kind == 'n') return n;
      if (p.kind != 's') {
        error_ = "the value at " + dotted(path) + " should be encrypted but is a plain " +
                 (p.kind == 'i' ? "int" : p.kind == 'f' ? "float" : p.kind == 'b' ? "bool" : "timestamp") +
                 " (the file was edited after sops encrypted it; re-encrypt it with sops)";
        return n;
      }
    }
    const std::string& text = n.Scalar();
    if (text.empty()) return n;  // sops writes an empty string unencrypted
    std::string aad;
    for (const auto& p : path) aad += p + ":";
    Value v = decrypt_value(text, key_, aad);
    if (!v.ok) {
      error_ = "the value at " + dotted(path) + " " + v.error;
      return n;
    }
    YAML::Node out;
    if (v.type == "str" || v.type == "bytes" || v.type == "time") {
      hash(true, v.plaintext);
      out = scalar_node(v.plaintext, true);
    } else if (v.type == "int") {
      auto i = parse_decimal(v.plaintext);
      if (!i) {
        error_ = "the value at " + dotted(path) + " is typed int but does not hold an integer";
        return n;
      }
      hash(true, std::to_string(*i));
      out = scalar_node(std::to_string(*i), false);
    } else if (v.type == "float") {
      char* end = nullptr;
      const double d = std::strtod(v.plaintext.c_str(), &end);
      if (v.plaintext.empty() || end != v.plaintext.c_str() + v.plaintext.size()) {
        error_ = "the value at " + dotted(path) + " is typed float but does not hold a number";
        return n;
      }
      hash(true, format_float(d));
      out = scalar_node(format_float(d), false);
    } else if (v.type == "bool") {
      bool b = false;
      if (!parse_go_bool(v.plaintext, b)) {
        error_ = "the value at " + dotted(path) + " is typed bool but does not hold a boolean";
        return n;
      }
      hash(true, b ? "True" : "False");
      out = scalar_node(b ? "true" : "false", false);
    } else if (v.type == "comment") {
      drop = true;  // a comment inside a list: not a value, not in the MAC
      crypto::wipe(v.plaintext);
      return n;
    } else {
      error_ = "the value at " + dotted(path) + " has an unknown sops type '" + v.type + "'";
      return n;
    }
    secrets_.push_back(v.plaintext);
    paths_.push_back(dotted(path));
    crypto::wipe(v.plaintext);
    return out;
  }

  YAML::Node node(const YAML::Node& n, std::vector<std::string>& path, size_t depth, bool top, bool& drop) {
    if (!error_.empty()) return n;
    if (depth > kMaxDepth) {
      error_ = "the document is nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return n;
    }
    if (n.IsMap()) {
      YAML::Node out(YAML::NodeType::Map);
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) {
          error_ = "a key under " + dotted(path) + " is not a string (sops supports string keys only)";
          return n;
        }
        const std::string key = kv.first.Scalar();
        if (top && key == "sops") continue;
        if (key.size() > 1024 && (rules_.encrypted_regex || rules_.unencrypted_regex)) {
          error_ = "a key under " + dotted(path) + " is longer than 1024 characters (not matched against sops's regex)";
          return n;
        }
        path.push_back(key);
        bool unused = false;
        YAML::Node v = node(kv.second, path, depth + 1, false, unused);
        path.pop_back();
        out.force_insert(YAML::Clone(kv.first), v);
      }
      return out;
    }
    if (n.IsSequence()) {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : n) {
        bool dropped = false;
        YAML::Node v = node(item, path, depth + 1, false, dropped);
        if (!dropped) out.push_back(v);
      }
      return out;
    }
    return leaf(n, path, drop);
  }

  const Rules& rules_;
  const std::string& key_;
  crypto::Sha512 hash_;
  std::vector<std::string> secrets_, paths_;
  std::string error_;
};

}  // namespace

std::optional<std::string> mac_bytes_plain(const std::string& scalar) {
  Plain p = resolve_plain(scalar);
  if (p.kind == 'n') return std::nullopt;
  return p.bytes;
}

Value decrypt_value(const std::string& enc, const std::string& data_key, const std::string& aad) {
  Value v;
  static const std::string prefix = "ENC[AES256_GCM,data:";
  const size_t iv_at = enc.find(",iv:"), tag_at = enc.find(",tag:"), type_at = enc.find(",type:");
  const size_t end = enc.rfind(']');
  if (enc.rfind(prefix, 0) != 0 || iv_at == std::string::npos || tag_at == std::string::npos ||
      type_at == std::string::npos || end == std::string::npos || !(prefix.size() <= iv_at && iv_at < tag_at &&
                                                                     tag_at < type_at && type_at < end)) {
    v.error = "is not a sops value (ENC[AES256_GCM,data:...,iv:...,tag:...,type:...])";
    return v;
  }
  auto data = core::base64_decode(std::string_view(enc).substr(prefix.size(), iv_at - prefix.size()));
  auto iv = core::base64_decode(std::string_view(enc).substr(iv_at + 4, tag_at - iv_at - 4));
  auto tag = core::base64_decode(std::string_view(enc).substr(tag_at + 5, type_at - tag_at - 5));
  v.type = enc.substr(type_at + 6, end - type_at - 6);
  if (!data || !iv || !tag || iv->empty() || tag->size() != 16) {
    v.error = "is not a well-formed sops value (data, iv or tag is not base64, or the tag is not 16 bytes)";
    return v;
  }
  auto plain = crypto::aes256gcm_open(data_key, *iv, *data, *tag, aad);
  if (!plain) {
    v.error = "does not decrypt: its AES-256-GCM tag does not verify (the value was altered, moved to another "
              "key, or encrypted with another data key)";
    return v;
  }
  v.ok = true;
  v.plaintext = std::move(*plain);
  return v;
}

Walked walk_document(const YAML::Node& doc, const Rules& rules, const std::string& data_key) {
  Walker w(rules, data_key);
  return w.run(doc);
}

}  // namespace helmgate::release::sops
