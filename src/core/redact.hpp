#pragma once
// Keeps credentials out of logs and answers.
#include <string>
#include <string_view>

namespace helmgate::core {

// "redis://:pw@host:6379/0" -> "redis://***@host:6379/0"; also for http(s) URLs with userinfo.
std::string redact_url(std::string_view url);

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

}  // namespace helmgate::core
