#include "core/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>

namespace helmgate::core {

namespace {

struct V4 {
  uint8_t b[4];
};

std::string class_v4(const V4& a) {
  const uint8_t x = a.b[0], y = a.b[1], z = a.b[2];
  if (x == 0) return "unspecified (0.0.0.0/8)";
  if (x == 10) return "private (10.0.0.0/8)";
  if (x == 100 && (y & 0xc0) == 64) return "shared CGNAT (100.64.0.0/10)";
  if (x == 127) return "loopback (127.0.0.0/8)";
  if (x == 169 && y == 254) return "link-local (169.254.0.0/16, cloud metadata)";
  if (x == 172 && (y & 0xf0) == 16) return "private (172.16.0.0/12)";
  if (x == 192 && y == 0 && z == 0) return "reserved (192.0.0.0/24)";
  if (x == 192 && y == 0 && z == 2) return "documentation (192.0.2.0/24)";
  if (x == 192 && y == 88 && z == 99) return "reserved (192.88.99.0/24)";
  if (x == 192 && y == 168) return "private (192.168.0.0/16)";
  if (x == 198 && (y & 0xfe) == 18) return "reserved (198.18.0.0/15)";
  if (x == 198 && y == 51 && z == 100) return "documentation (198.51.100.0/24)";
  if (x == 203 && y == 0 && z == 113) return "documentation (203.0.113.0/24)";
  if (x == 255 && y == 255 && z == 255 && a.b[3] == 255) return "broadcast";
  if ((x & 0xf0) == 224) return "multicast (224.0.0.0/4)";
  if ((x & 0xf0) == 240) return "reserved (240.0.0.0/4)";
  return "";
}

std::string class_v6(const std::array<uint8_t, 16>& a) {
  auto zero = [&](size_t from, size_t to) {
    return std::all_of(a.begin() + static_cast<long>(from), a.begin() + static_cast<long>(to),
                       [](uint8_t v) { return v == 0; });
  };
  if (zero(0, 16)) return "unspecified (::)";
  if (zero(0, 15) && a[15] == 1) return "loopback (::1)";
  if (zero(0, 10) && a[10] == 0xff && a[11] == 0xff) {
    std::string c = class_v4({{a[12], a[13], a[14], a[15]}});
    return c.empty() ? "" : "IPv4-mapped " + c;
  }
  if (zero(0, 12)) return "reserved (IPv4-compatible ::/96)";
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
    if (zero(4, 12)) {
      std::string c = class_v4({{a[12], a[13], a[14], a[15]}});
      return c.empty() ? "" : "NAT64 " + c;
    }
    if (a[4] == 0 && a[5] == 1) return "private (NAT64 local use 64:ff9b:1::/48)";
  }
  if (a[0] == 0x01 && a[1] == 0x00 && zero(2, 8)) return "reserved (discard 100::/64)";
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return "documentation (2001:db8::/32)";
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) return "reserved (Teredo 2001::/32)";
  if (a[0] == 0x20 && a[1] == 0x02) {
    std::string c = class_v4({{a[2], a[3], a[4], a[5]}});
    return c.empty() ? "" : "6to4 " + c;
  }
  if ((a[0] & 0xfe) == 0xfc) return "private (unique local fc00::/7)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "private (site-local fec0::/10)";
  if (a[0] == 0xff) return "multicast (ff00::/8)";
  return "";
}

}  // namespace

std::string address_class(std::string_view ip) {
  std::string s(ip);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    V4 a{};
    std::memcpy(a.b, &v4.s_addr, 4);
    return class_v4(a);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), v6.s6_addr, 16);
    return class_v6(a);
  }
  return "invalid";
}

Result<std::vector<std::string>> resolve_host(const std::string& host) {
  // A short cache: a preview checks the same few hosts for every release.
  struct Entry {
    std::vector<std::string> addrs;
    std::chrono::steady_clock::time_point at;
  };
  static std::mutex mu;
  static std::map<std::string, Entry> cache;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu);
    if (auto it = cache.find(host); it != cache.end() && now - it->second.at < std::chrono::seconds(30)) {
      return it->second.addrs;
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Error(errc::unavailable, "cannot resolve '" + host + "': " + gai_strerror(rc));
  std::vector<std::string> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* src = p->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
                      : p->ai_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr)
                          : nullptr;
    if (src == nullptr || inet_ntop(p->ai_family, src, buf, sizeof buf) == nullptr) continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  freeaddrinfo(res);
  if (out.empty()) return Error(errc::unavailable, "'" + host + "' has no address");
  std::lock_guard lk(mu);
  if (cache.size() > 1024) cache.clear();
  cache[host] = {out, now};
  return out;
}

}  // namespace helmgate::core
