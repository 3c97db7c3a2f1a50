#include "core/redact.hpp"

#include "core/hmac.hpp"

#include <openssl/rand.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace helmgate::core {

std::string redact_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    // scp-like Git address: "git@host:org/repo" is a user name only; "user:pw@host:path" has a password.
    size_t at = url.substr(0, url.find('/')).rfind('@');
    if (at == std::string_view::npos || url.substr(0, at).find(':') == std::string_view::npos) return std::string(url);
    return "***" + std::string(url.substr(at));
  }
  // The ssh user of "ssh://git@host/org/repo" is part of the address, not a credential: shown.
  if (!url_has_credentials(url)) return std::string(url);
  size_t host_start = scheme + 3;
  size_t slash = url.find('/', host_start);
  std::string_view authority = url.substr(host_start, slash == std::string_view::npos ? url.npos : slash - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, host_start));
  out += "***";
  out += url.substr(host_start + at);
  return out;
}

std::string strip_userinfo(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  // An ssh user name is part of the address (without it ssh logs in as the local user): kept.
  if (!url_has_credentials(url)) return std::string(url);
  size_t host_start = scheme + 3;
  size_t end = url.find_first_of("/?#", host_start);
  std::string_view authority = url.substr(host_start, end == std::string_view::npos ? url.npos : end - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(url.substr(host_start + at + 1));
}

bool url_has_credentials(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    // scp-like "user@host:path": a user name only, never a password.
    return false;
  }
  std::string s(url.substr(0, scheme));
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t host_start = scheme + 3;
  size_t end = url.find_first_of("/?#", host_start);
  std::string_view authority = url.substr(host_start, end == std::string_view::npos ? url.npos : end - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view userinfo = authority.substr(0, at);
  if (userinfo.find(':') != std::string_view::npos) return true;
  // ssh://git@host/...: the user name is part of the address. Over http(s) a lone user name is how a
  // token is usually passed ("https://<token>@github.com/...").
  return s != "ssh" && s != "git+ssh" && s != "ssh+git";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Digests of both under a per-process random key: fixed length, so the comparison does not depend on
  // either length, and the key makes the digests useless to anyone who sees timings.
  static const std::string key = [] {
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) {
      for (size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<unsigned char>(i * 131u + 7u);
    }
    return std::string(reinterpret_cast<const char*>(buf), sizeof buf);
  }();
  Sha256Digest da = hmac_sha256(key, a), db = hmac_sha256(key, b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

// ---- SecretScrubber

namespace {

constexpr size_t kMinValue = 4;       // shorter values would scrub half of any text and protect nothing
constexpr size_t kMinLine = 8;        // a line this long is matched anywhere
constexpr size_t kBase64Window = 6;   // bytes of material whose encoding (8 characters) is searched

const char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Whole quads only: the encoding of `in` (a multiple of 3 bytes long) without padding.
std::string base64_quads(std::string_view in, const char* tbl) {
  std::string out;
  for (size_t i = 0; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1])) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  return out;
}

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string hex2(unsigned char c, const char* prefix) {
  static const char* hex = "0123456789abcdef";
  return std::string(prefix) + hex[c >> 4] + hex[c & 0xf];
}

// JSON as encoding/json writes it (html: also <, >, & as \u003c ...), which is what toJson gives.
std::string json_escaped(std::string_view v, bool html) {
  std::string out;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (html && (ch == '<' || ch == '>' || ch == '&'))) {
          out += hex2(c, "\\u00");
        } else {
          out += ch;
        }
    }
  }
  return out;
}

// Go's %q (sprig's quote): \a \b \f \n \r \t \v, other control characters as \x.. .
std::string go_quoted(std::string_view v) {
  std::string out;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default: out += c < 0x20 || c == 0x7f ? hex2(c, "\\x") : std::string(1, ch);
    }
  }
  return out;
}

// The double-quoted YAML our own normalizer prints (diff::canonical_yaml).
std::string yaml_quoted(std::string_view v) {
  std::string out;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c < 0x20 ? hex2(c, "\\x") : std::string(1, ch);
    }
  }
  return out;
}

std::string html_escaped(std::string_view v) {
  std::string out;
  for (char ch : v) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool is_pem_armour(std::string_view line) {
  return line.size() > 10 && line.substr(0, 5) == "-----" && line.substr(line.size() - 5) == "-----" &&
         (line.substr(5, 6) == "BEGIN " || line.substr(5, 4) == "END ");
}

std::vector<std::string_view> lines_of(std::string_view v) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t nl = v.find('\n', pos);
    if (nl == std::string_view::npos) nl = v.size();
    out.push_back(v.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

constexpr std::string_view kMarkerPrefix = "<redacted hmac:";
constexpr size_t kMarkerLen = kMarkerPrefix.size() + 8 + 1;

}  // namespace

namespace {

uint32_t load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

void SecretScrubber::add_needle(std::string text, size_t marker, Match how) {
  if (text.size() < 4) return;
  std::string key = std::to_string(static_cast<int>(how)) + ":" + text;
  if (!needle_keys_.insert(std::move(key)).second) return;
  const auto index = static_cast<uint32_t>(needles_.size());
  if (how == Match::base64_token) {
    if (text.size() != 8) return;
    base64_[load8(text.data())].push_back(index);
  } else {
    by_prefix_[load4(text.data())].push_back(index);
  }
  needles_.push_back({std::move(text), marker, how});
}

void SecretScrubber::add_forms(std::string_view v, size_t marker, size_t material_start) {
  add_needle(lower(v), marker, Match::substring);
  for (std::string f : {json_escaped(v, false), json_escaped(v, true), go_quoted(v), yaml_quoted(v), html_escaped(v)}) {
    if (f != v) add_needle(lower(f), marker, Match::substring);
  }
  // base64 of the value, of a prefix of it, or of any text that embeds it: one of the 3 windows
  // starting at material_start lies on a quad boundary of the encoding.
  for (size_t r = 0; r < 3; ++r) {
    size_t from = material_start + r;
    if (from + kBase64Window > v.size()) break;
    std::string_view window = v.substr(from, kBase64Window);
    add_needle(base64_quads(window, kStd), marker, Match::base64_token);
    add_needle(base64_quads(window, kUrl), marker, Match::base64_token);
  }
}

void SecretScrubber::add(std::string_view value) {
  if (value.size() < kMinValue) return;
  if (!seen_.emplace(value).second) return;
  markers_.push_back(secret_marker(value));
  const size_t whole = markers_.size() - 1;

  auto lines = lines_of(value);
  // Where the secret material starts: after a PEM's armour line, whose encoding every PEM shares.
  size_t material_start = 0;
  if (lines.size() > 1 && is_pem_armour(trim(lines.front()))) material_start = lines.front().size() + 1;
  add_forms(value, whole, material_start);
  if (lines.size() < 2) return;
  for (auto raw : lines) {
    std::string_view line = trim(raw);
    if (line.size() < kMinValue || line == value || is_pem_armour(line)) continue;
    markers_.push_back(secret_marker(line));
    const size_t m = markers_.size() - 1;
    if (line.size() >= kMinLine) {
      add_forms(line, m, 0);
    } else {
      add_needle(lower(line), m, Match::whole_token);
    }
  }
}

std::string SecretScrubber::scrub(std::string_view text) const {
  if (needles_.empty() || text.empty()) return std::string(text);
  struct Hit {
    size_t begin, end, marker;
  };
  std::vector<Hit> hits;
  const std::string low = lower(text);
  const std::string original(text);
  const size_t n = original.size();
  for (size_t i = 0; i + 4 <= n; ++i) {
    if (!by_prefix_.empty()) {
      if (auto it = by_prefix_.find(load4(low.data() + i)); it != by_prefix_.end()) {
        for (uint32_t idx : it->second) {
          const Needle& nd = needles_[idx];
          if (low.compare(i, nd.text.size(), nd.text) != 0) continue;
          size_t b = i, e = i + nd.text.size();
          if (nd.how == Match::whole_token) {
            // A token starts after a non-token character or after an escape such as the "\n" of a
            // JSON-quoted multi-line value.
            bool starts = b == 0 || !is_base64_char(low[b - 1]) || (b >= 2 && low[b - 2] == '\\');
            if (!starts || (e < n && is_base64_char(low[e]))) continue;
          }
          hits.push_back({b, e, nd.marker});
        }
      }
    }
    if (!base64_.empty() && i + 8 <= n) {
      if (auto it = base64_.find(load8(original.data() + i)); it != base64_.end()) {
        size_t b = i, e = i + 8;
        while (b > 0 && is_base64_char(original[b - 1]) && !(b >= 2 && original[b - 2] == '\\')) --b;
        while (e < n && is_base64_char(original[e])) ++e;
        hits.push_back({b, e, needles_[it->second.front()].marker});
      }
    }
  }
  if (hits.empty()) return original;
  // Markers already in the text stay as they are (a value such as "redacted" must not eat them).
  std::vector<std::pair<size_t, size_t>> kept;
  for (size_t p = original.find(kMarkerPrefix); p != std::string::npos; p = original.find(kMarkerPrefix, p + 1)) {
    kept.emplace_back(p, p + kMarkerLen);
  }
  if (!kept.empty()) {
    // kept is sorted and its spans do not overlap: the first span ending after a hit's start decides.
    std::erase_if(hits, [&](const Hit& h) {
      auto it = std::upper_bound(kept.begin(), kept.end(), h.begin,
                                 [](size_t pos, const std::pair<size_t, size_t>& k) { return pos < k.second; });
      return it != kept.end() && it->first < h.end;
    });
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::string out;
  out.reserve(original.size());
  size_t at = 0;
  for (size_t i = 0; i < hits.size();) {
    size_t b = hits[i].begin, e = hits[i].end, best = hits[i].marker, best_len = e - b;
    size_t j = i + 1;
    for (; j < hits.size() && hits[j].begin < e; ++j) {
      if (hits[j].end - hits[j].begin > best_len) {
        best_len = hits[j].end - hits[j].begin;
        best = hits[j].marker;
      }
      e = std::max(e, hits[j].end);
    }
    out.append(original, at, b - at);
    out += markers_[best];
    at = e;
    i = j;
  }
  out.append(original, at, std::string::npos);
  return out;
}

namespace {
std::string to_hex(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 0xf];
  }
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  const Sha256Digest md = sha256(data);
  return to_hex(md.data(), md.size());
}

const std::string& redaction_key() {
  static const std::string key = [] {
    if (const char* env = std::getenv("HELMGATE_REDACTION_KEY"); env != nullptr && *env != '\0') return std::string(env);
    unsigned char buf[32];
    RAND_bytes(buf, sizeof buf);
    return to_hex(buf, sizeof buf);
  }();
  return key;
}

std::string secret_marker(std::string_view value, std::string_view key) {
  Sha256Digest md = hmac_sha256(key, value);
  return "<redacted hmac:" + to_hex(md.data(), 4) + ">";
}

std::string secret_marker(std::string_view value) { return secret_marker(value, redaction_key()); }

}  // namespace helmgate::core
