#include "release/sops_age.hpp"

#include "core/base64.hpp"
#include "core/hmac.hpp"

#include <algorithm>
#include <optional>

namespace helmgate::release::sops {

namespace {

constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxFile = 16u << 20;  // a SOPS data key is 32 bytes; anything near this is not one

uint32_t bech32_polymod(const std::vector<uint8_t>& values) {
  static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    const uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= gen[i];
    }
  }
  return chk;
}

// Bech32 (BIP 173 checksum, any length, as age uses it): the lowercased HRP and the 8-bit data.
bool bech32_decode(std::string_view text, std::string& hrp, std::string& data) {
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return false;
    lower |= c >= 'a' && c <= 'z';
    upper |= c >= 'A' && c <= 'Z';
  }
  if (lower && upper) return false;
  std::string s(text);
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  const size_t pos = s.rfind('1');
  if (pos == std::string::npos || pos < 1 || pos + 7 > s.size()) return false;
  hrp = s.substr(0, pos);
  std::vector<uint8_t> values;
  for (char c : hrp) values.push_back(static_cast<uint8_t>(static_cast<unsigned char>(c) >> 5));
  values.push_back(0);
  for (char c : hrp) values.push_back(static_cast<uint8_t>(c & 31));
  std::vector<uint8_t> five;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    const size_t v = kBech32Charset.find(s[i]);
    if (v == std::string_view::npos) return false;
    five.push_back(static_cast<uint8_t>(v));
  }
  values.insert(values.end(), five.begin(), five.end());
  if (bech32_polymod(values) != 1) return false;
  five.resize(five.size() - 6);
  // 5-bit groups to bytes; leftover bits must be zero padding of fewer than 5 bits.
  uint32_t acc = 0;
  int bits = 0;
  data.clear();
  for (uint8_t v : five) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      data += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return bits < 5 && (acc & ((1u << bits) - 1)) == 0;
}

std::string bech32_encode(const std::string& hrp, const uint8_t* bytes, size_t n) {
  std::vector<uint8_t> five;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      five.push_back(static_cast<uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) five.push_back(static_cast<uint8_t>((acc << (5 - bits)) & 31));
  std::vector<uint8_t> values;
  for (char c : hrp) values.push_back(static_cast<uint8_t>(static_cast<unsigned char>(c) >> 5));
  values.push_back(0);
  for (char c : hrp) values.push_back(static_cast<uint8_t>(c & 31));
  values.insert(values.end(), five.begin(), five.end());
  values.insert(values.end(), 6, 0);
  const uint32_t mod = bech32_polymod(values) ^ 1;
  std::string out = hrp + "1";
  for (uint8_t v : five) out += kBech32Charset[v];
  for (int i = 0; i < 6; ++i) out += kBech32Charset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

// The binary file inside an armor; nullopt with `why` when the armor is not strict PEM.
std::optional<std::string> dearmor(std::string_view text, std::string& why) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && ws(text.front())) text.remove_prefix(1);
  while (!text.empty() && ws(text.back())) text.remove_suffix(1);
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  if (lines.size() < 2 || lines.front() != kArmorBegin || lines.back() != kArmorEnd) {
    why = "the armor does not start with '" + std::string(kArmorBegin) + "' and end with '" + std::string(kArmorEnd) + "'";
    return std::nullopt;
  }
  std::string joined;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    const bool last = i + 2 == lines.size();
    if (lines[i].size() > 64 || (!last && lines[i].size() != 64) || lines[i].empty()) {
      why = "the armor's base64 is not wrapped at 64 columns (line " + std::to_string(i + 1) + ")";
      return std::nullopt;
    }
    joined += lines[i];
  }
  auto bin = core::base64_decode_canonical(joined, core::Base64Padding::required);
  if (!bin) why = "the armor is not canonical base64";
  return bin;
}

struct Stanza {
  std::vector<std::string> args;  // args[0] is the type
  std::string body;
};

}  // namespace

AgeIdentityResult parse_age_identity(std::string_view text) {
  AgeIdentityResult r;
  std::string hrp, data;
  if (!bech32_decode(text, hrp, data) || hrp != "age-secret-key-") {
    r.error = "not an age identity (AGE-SECRET-KEY-1...; post-quantum and plugin identities are not supported)";
    return r;
  }
  if (data.size() != 32) {
    r.error = "an age identity must hold 32 bytes";
    return r;
  }
  std::copy(data.begin(), data.end(), r.identity.secret.begin());
  crypto::wipe(data);
  auto pub = crypto::x25519_public(r.identity.secret);
  if (!pub) {
    r.error = "the age identity is not a valid X25519 key";
    return r;
  }
  r.identity.recipient = bech32_encode("age", pub->data(), pub->size());
  r.ok = true;
  return r;
}

AgeIdentities parse_age_identities(std::string_view text, const std::string& where) {
  AgeIdentities r;
  size_t start = 0, n = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    auto id = parse_age_identity(line);
    if (!id.ok) {
      r.error = where + " line " + std::to_string(n) + ": " + id.error;
      return r;
    }
    r.identities.push_back(id.identity);
  }
  if (r.identities.empty()) {
    r.error = where + " holds no age identity (AGE-SECRET-KEY-1..., one per line)";
    return r;
  }
  r.ok = true;
  return r;
}

bool parse_age_recipient(std::string_view text, crypto::Key32& out) {
  std::string hrp, data;
  if (!bech32_decode(text, hrp, data) || hrp != "age" || data.size() != 32) return false;
  std::copy(data.begin(), data.end(), out.begin());
  return true;
}

AgeDecrypted age_decrypt(std::string_view file, const std::vector<AgeIdentity>& identities) {
  AgeDecrypted r;
  auto fail = [&](AgeDecrypted::Status s, std::string why) {
    r.status = s;
    r.error = std::move(why);
    return r;
  };
  if (file.size() > kMaxFile) return fail(AgeDecrypted::Status::malformed, "the age file is larger than 16 MiB");
  std::string binary;
  {
    std::string_view t = file;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t' || t.front() == '\r' || t.front() == '\n')) t.remove_prefix(1);
    if (t.substr(0, kArmorBegin.size()) == kArmorBegin) {
      std::string why;
      auto bin = dearmor(file, why);
      if (!bin) return fail(AgeDecrypted::Status::malformed, why);
      binary = std::move(*bin);
    } else {
      binary = std::string(file);
    }
  }
  const std::string_view in(binary);
  // Header: version line, stanzas, MAC line.
  size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    const size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    line = in.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != "age-encryption.org/v1") {
    return fail(AgeDecrypted::Status::malformed, "not an age v1 file (no 'age-encryption.org/v1' line)");
  }
  std::vector<Stanza> stanzas;
  size_t mac_at = 0;
  std::string mac;
  for (;;) {
    const size_t line_start = pos;
    if (!next_line(line)) return fail(AgeDecrypted::Status::malformed, "the age header ends before its MAC line");
    if (line.substr(0, 4) == "--- ") {
      auto m = core::base64_decode_canonical(line.substr(4), core::Base64Padding::forbidden);
      if (!m || m->size() != 32) return fail(AgeDecrypted::Status::malformed, "the age header MAC is not 32 bytes of base64");
      mac = *m;
      mac_at = line_start + 3;  // the MAC covers the header up to and including "---"
      break;
    }
    if (line.substr(0, 3) != "-> ") return fail(AgeDecrypted::Status::malformed, "an age header line is neither a stanza nor the MAC");
    Stanza s;
    std::string_view rest = line.substr(3);
    while (!rest.empty()) {
      const size_t sp = rest.find(' ');
      std::string_view arg = rest.substr(0, sp);
      if (arg.empty()) return fail(AgeDecrypted::Status::malformed, "an age stanza has an empty argument");
      s.args.emplace_back(arg);
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      if (sp != std::string_view::npos && rest.empty()) return fail(AgeDecrypted::Status::malformed, "an age stanza line ends with a space");
    }
    if (s.args.empty()) return fail(AgeDecrypted::Status::malformed, "an age stanza has no type");
    std::string body64;
    for (;;) {
      if (!next_line(line)) return fail(AgeDecrypted::Status::malformed, "an age stanza body is not terminated");
      if (line.size() > 64) return fail(AgeDecrypted::Status::malformed, "an age stanza body line is longer than 64 columns");
      body64 += line;
      if (line.size() < 64) break;
    }
    auto body = core::base64_decode_canonical(body64, core::Base64Padding::forbidden);
    if (!body) return fail(AgeDecrypted::Status::malformed, "an age stanza body is not canonical base64");
    s.body = std::move(*body);
    stanzas.push_back(std::move(s));
    if (stanzas.size() > 1024) return fail(AgeDecrypted::Status::malformed, "the age header has more than 1024 stanzas");
  }
  if (stanzas.empty()) return fail(AgeDecrypted::Status::malformed, "the age header has no recipient stanza");
  // Unwrap the file key with the first identity that opens an X25519 stanza.
  std::optional<std::string> file_key;
  for (const auto& s : stanzas) {
    if (s.args[0] == "scrypt" && stanzas.size() > 1) {
      return fail(AgeDecrypted::Status::malformed, "an age scrypt stanza is mixed with other stanzas");
    }
    if (s.args[0] != "X25519") continue;
    if (s.args.size() != 2) return fail(AgeDecrypted::Status::malformed, "an age X25519 stanza must have exactly one argument");
    auto share = core::base64_decode_canonical(s.args[1], core::Base64Padding::forbidden);
    if (!share || share->size() != 32) return fail(AgeDecrypted::Status::malformed, "an age X25519 share is not 32 bytes of base64");
    if (s.body.size() != 32) return fail(AgeDecrypted::Status::malformed, "an age X25519 stanza body is not 32 bytes");
    crypto::Key32 eph{};
    std::copy(share->begin(), share->end(), eph.begin());
    for (const auto& id : identities) {
      auto shared = crypto::x25519(id.secret, eph);
      if (!shared) continue;
      crypto::Key32 pub{};
      if (!parse_age_recipient(id.recipient, pub)) continue;
      std::string salt = *share + std::string(reinterpret_cast<const char*>(pub.data()), pub.size());
      auto wrap = crypto::hkdf_sha256(std::string_view(reinterpret_cast<const char*>(shared->data()), shared->size()),
                                      salt, "age-encryption.org/v1/X25519");
      auto key = crypto::chacha20poly1305_open(wrap, std::string(12, '\0'), s.body);
      if (key && key->size() == 16) {
        file_key = std::move(key);
        break;
      }
    }
    if (file_key) break;
  }
  if (!file_key) return fail(AgeDecrypted::Status::no_identity, "no identity matched any of the age file's recipients");
  // Header MAC.
  auto hmac_key = crypto::hkdf_sha256(*file_key, "", "header");
  auto want = core::hmac_sha256(std::string_view(reinterpret_cast<const char*>(hmac_key.data()), hmac_key.size()),
                              in.substr(0, mac_at));
  if (!crypto::equal(std::string_view(reinterpret_cast<const char*>(want.data()), want.size()), mac)) {
    crypto::wipe(*file_key);
    return fail(AgeDecrypted::Status::header_mac, "the age header MAC does not verify (the header was altered)");
  }
  // Payload: 16-byte nonce, then STREAM chunks of 64 KiB + 16.
  if (in.size() < pos + 16) {
    crypto::wipe(*file_key);
    return fail(AgeDecrypted::Status::payload, "the age payload has no nonce");
  }
  auto payload_key = crypto::hkdf_sha256(*file_key, in.substr(pos, 16), "payload");
  crypto::wipe(*file_key);
  pos += 16;
  std::string out;
  uint64_t counter = 0;
  for (;;) {
    const size_t left = in.size() - pos;
    const size_t take = std::min(left, kChunk + 16);
    const bool last = take == left;
    if (take < 16 || (last && take == 16 && counter > 0)) {
      crypto::wipe(out);
      return fail(AgeDecrypted::Status::payload, "the age payload is truncated");
    }
    std::string nonce(12, '\0');
    for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<char>((counter >> (8 * i)) & 0xff);
    nonce[11] = last ? 1 : 0;
    auto chunk = crypto::chacha20poly1305_open(payload_key, nonce, in.substr(pos, take));
    if (!chunk) {
      crypto::wipe(out);
      return fail(AgeDecrypted::Status::payload, "an age payload chunk does not verify (the payload was altered or truncated)");
    }
    out += *chunk;
    crypto::wipe(*chunk);
    pos += take;
    ++counter;
    if (last) break;
  }
  r.status = AgeDecrypted::Status::ok;
  r.plaintext = std::move(out);
  return r;
}

}  // namespace helmgate::release::sops
