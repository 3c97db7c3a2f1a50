#include "core/limits.hpp"

#include <mutex>

namespace helmgate::core {

namespace {
std::mutex g_limits_mu;
Limits& limits_storage() {
  static Limits l;
  return l;
}
}  // namespace

Limits limits() {
  std::lock_guard lock(g_limits_mu);
  return limits_storage();
}

void set_limits(const Limits& l) {
  std::lock_guard lock(g_limits_mu);
  limits_storage() = l;
}

std::string with_commas(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace helmgate::core
