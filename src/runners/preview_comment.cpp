#include "runners/preview_comment.hpp"

#include <algorithm>
#include <sstream>
#include <string_view>

#include "core/forge_kind.hpp"

namespace helmgate::runners {

namespace {

// Closes what a cut left open so the part still renders: an unclosed ``` fence and <details> blocks.
std::string close_open_blocks(std::string text) {
  // Fences are as long as their content needs (core::md::fence): follow them line by line.
  size_t open_fence = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t n = 0;
    while (n < line.size() && line[n] == '`') ++n;
    if (n < 3) continue;
    if (open_fence == 0) {
      open_fence = n;
    } else if (n >= open_fence && line.find_first_not_of("` \r", n) == std::string::npos) {
      open_fence = 0;
    }
  }
  if (open_fence > 0) text += "\n" + std::string(open_fence, '`') + "\n";
  auto count = [&](std::string_view needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
    return n;
  };
  size_t open = count("<details>"), closed = count("</details>");
  for (size_t i = closed; i < open; ++i) text += "</details>\n";
  return text;
}

std::string cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

}  // namespace

// Scrubbing can lengthen a part (a marker is longer than a short value), so a part that outgrew the limit
// makes the whole split run again with the overflow taken off the limit.
std::vector<std::string> markdown_parts(const diff::Report& report, size_t limit, const diff::Redactor& redactor) {
  if (limit == 0) return {redactor.scrub(diff::to_markdown(report))};
  size_t budget = limit;
  std::vector<std::string> parts;
  for (int attempt = 0; attempt < 4; ++attempt) {
    parts = diff::to_markdown_parts(report, budget);
    size_t over = 0;
    for (auto& p : parts) {
      p = redactor.scrub(std::move(p));
      if (p.size() > limit) over = std::max(over, p.size() - limit);
    }
    if (over == 0 || budget <= over + 1024) break;
    budget -= over + 64;
  }
  return parts;
}

std::string preview_join_markdown(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "\n<!-- helmgate: next comment -->\n\n";
    out += parts[i];
  }
  return out;
}

std::vector<std::string> pack_parts(std::vector<std::string> parts, const std::vector<std::string>& sections,
                                    size_t limit) {
  for (const auto& section : sections) {
    std::string s = section;
    if (s.size() > limit) {
      const std::string note =
          "\n\n_(section cut at the comment size limit; the job's result holds all of it)_\n";
      // Room for the note and for the closing lines close_open_blocks may add.
      size_t room = limit > note.size() + 256 ? limit - note.size() - 256 : limit / 2;
      s = close_open_blocks(cut_utf8(s, room)) + note;
    }
    if (!parts.empty() && parts.back().size() + 2 + s.size() <= limit) {
      parts.back() += "\n\n" + s;
    } else {
      parts.push_back(std::move(s));
    }
  }
  return parts;
}

std::string comment_url(const config::Forge* forge, const std::string& repo, int64_t pr, int64_t comment_id) {
  if (forge == nullptr || comment_id == 0) return "";
  return core::pull_request_web_url(forge->kind, forge->api_url, repo, pr) + "#issuecomment-" +
         std::to_string(comment_id);
}

}  // namespace helmgate::runners
