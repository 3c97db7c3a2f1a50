#pragma once
// Keeps credentials out of logs and answers.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace helmgate::core {

// "redis://:pw@host:6379/0" -> "redis://***@host:6379/0"; also for http(s) URLs with userinfo and scp-like
// "user:pw@host:path" -> "***@host:path". What url_has_credentials() calls no credential stays as it is
// ("ssh://git@host/org/repo", "git@host:org/repo").
std::string redact_url(std::string_view url);

// The URL without credentials in its userinfo ("https://user:tok@host/x" -> "https://host/x"); an ssh user
// name ("ssh://git@host/x") and other URLs unchanged.
std::string strip_userinfo(std::string_view url);

// Whether the URL carries a password or token in its userinfo ("https://user:tok@host/...", also
// "https://tok@host/..." for http(s), where a lone user name is how tokens are usually passed).
// "ssh://git@host/..." and "git@host:org/repo" (a user name only, for ssh) are not credentials.
bool url_has_credentials(std::string_view url);

// Short, stable marker for a secret value: "<redacted hmac:ab12cd34>". Same value and key -> same
// marker, so a diff shows "changed"/"unchanged" without the value. Keyed (HMAC-SHA256), so a
// low-entropy secret cannot be recovered by hashing guesses; the key is the deployment's
// redaction key (see redaction_key()).
std::string secret_marker(std::string_view value, std::string_view key);
std::string secret_marker(std::string_view value);  // with redaction_key()

// The process-wide redaction key: $HELMGATE_REDACTION_KEY when set (so markers are stable across
// processes and restarts), else random per process.
const std::string& redaction_key();

// Lowercase hex SHA-256.
std::string sha256_hex(std::string_view data);

// Equality of two secrets (tokens, passwords) in time that depends on neither their contents nor
// their lengths: both are reduced to keyed SHA-256 digests first, then compared with CRYPTO_memcmp.
bool constant_time_equal(std::string_view a, std::string_view b);

// Finds known secret values in text, also in the forms a template or a tool commonly gives them, and
// replaces each occurrence with the value's secret_marker:
//  * the value itself, case-insensitively (a template's upper/lower);
//  * quoted forms: JSON (also with Go's HTML escapes), Go's %q, the YAML double-quoted form, HTML;
//  * a multi-line value also line by line: every line of 8 characters or more anywhere, a shorter
//    line (4-7 characters) where it stands as a whole token; PEM armour lines (-----BEGIN/END ...-----)
//    carry nothing secret and are left alone;
//  * base64 (standard and URL-safe) of the value, of any prefix of it, and of any text that embeds it:
//    the encodings of the first 6 bytes of the secret material at the 3 byte alignments are searched,
//    and the whole base64 token around a hit is replaced (so the answer never says how much of a
//    guess matched).
// Only fixed positions of a value are searched (whole value, whole lines, the start of the material),
// never any substring: otherwise a PR could render guesses and extend a known prefix one character at
// a time by watching what gets replaced.
class SecretScrubber {
 public:
  void add(std::string_view value);
  std::string scrub(std::string_view text) const;
  bool empty() const { return needles_.empty(); }

 private:
  enum class Match { substring, whole_token, base64_token };
  struct Needle {
    std::string text;  // lowercased for substring/whole_token; as is for base64_token
    size_t marker;     // index into markers_
    Match how;
  };
  void add_forms(std::string_view v, size_t marker, size_t material_start);
  void add_needle(std::string text, size_t marker, Match how);
  std::vector<Needle> needles_;
  std::vector<std::string> markers_;
  std::unordered_set<std::string> seen_;          // values added
  std::unordered_set<std::string> needle_keys_;   // (how, text) of needles_, to add each once
  // Indexes, so that scrubbing is one pass over the text whatever the number of values: text needles by
  // their first 4 (lowercased) bytes, base64 needles (always 8 characters) by their 8 bytes.
  std::unordered_map<uint32_t, std::vector<uint32_t>> by_prefix_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> base64_;
};

}  // namespace helmgate::core
