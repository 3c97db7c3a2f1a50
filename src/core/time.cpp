#include "core/time.hpp"

#include <cstdio>
#include <ctime>

namespace helmgate::core {

namespace {

std::tm utc(std::time_t secs) {
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string utc_now_rfc3339() {
  std::tm tm = utc(std::time(nullptr));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string utc_rfc3339_ms(int64_t ms) {
  if (ms <= 0) return {};
  std::tm tm = utc(static_cast<std::time_t>(ms / 1000));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace helmgate::core
