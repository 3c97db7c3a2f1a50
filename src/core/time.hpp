#pragma once
// Times as helmgate writes them: RFC 3339 in UTC.
#include <cstdint>
#include <string>

namespace helmgate::core {

// "2026-12-02T10:41:07Z": now, to the second.
std::string utc_now_rfc3339();
// "2026-12-02T10:41:07.123Z" for milliseconds since the epoch; empty for 0 or less (never set).
std::string utc_rfc3339_ms(int64_t ms);

}  // namespace helmgate::core
