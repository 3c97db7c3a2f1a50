#include "core/event.hpp"

namespace helmgate::core {

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::ping: return "ping";
    case EventKind::push: return "push";
    case EventKind::pull_request: return "pull_request";
    case EventKind::comment: return "comment";
    case EventKind::other: break;
  }
  return "other";
}

std::string Event::branch() const {
  constexpr std::string_view prefix = "refs/heads/";
  if (ref.rfind(prefix, 0) != 0) return {};
  return ref.substr(prefix.size());
}

}  // namespace helmgate::core
