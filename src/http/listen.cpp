#include <stdexcept>
#include <string>

#include "http/server.hpp"

namespace helmgate::http {

void parse_listen(const std::string& listen, std::string& host, uint16_t& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("'" + listen + "' must be host:port");
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoi(p) > 65535) {
    throw std::invalid_argument("'" + listen + "': port must be a number from 0 to 65535");
  }
  port = static_cast<uint16_t>(std::stoi(p));
}

}  // namespace helmgate::http
