#pragma once
// Safe placement of untrusted strings (names from Git, finding and error text, anything a PR author or
// commenter controls) into the Markdown of a forge comment. GitHub and Gitea render comments as GFM
// with raw HTML allowed, so a name like `[verified safe](http://evil)` or `<img src=x>` would be live.
//   md::text(s)       in running text: HTML metacharacters as entities, Markdown punctuation
//                     backslash-escaped, line breaks folded, a word joiner in "://" and after "@";
//                     nothing in s can start a link, image, emphasis, heading, table cell, list,
//                     autolink, e-mail link, mention or HTML tag.
//   md::code(s)       as an inline code span whose backtick run is longer than any run inside s.
//   md::code_cell(s)  the same for a GFM table cell (a '|' would end the cell even inside code).
//   md::fence(s)      a fence of backticks longer than any backtick run in s (at least three).
//   md::html(s)       inside raw HTML such as <summary>: entities only.
// Header-only so that every component (diff, runners, forge) can use it without a new link edge.
#include <algorithm>
#include <string>
#include <string_view>

namespace helmgate::core::md {

namespace detail {
inline constexpr std::string_view kWordJoiner = "\xE2\x81\xA0";  // U+2060
// Control characters (but tab) and line breaks become spaces: a name never spans lines in a comment.
inline char fold(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 || u == 0x7F) ? ' ' : c;
}
inline size_t longest_backtick_run(std::string_view s) {
  size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}
}  // namespace detail

inline std::string text(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  // Digits from the start, so "12." or "12)" cannot open an ordered list.
  bool digits_so_far = true;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = detail::fold(s[i]);
    const bool at_start = i == 0;
    const bool after_digits = digits_so_far && i > 0;
    digits_so_far = digits_so_far && c >= '0' && c <= '9';
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      // Forges also link URLs, e-mail addresses and @mentions in the rendered text itself (Gitea does
      // so after Markdown, where escapes are gone): an invisible WORD JOINER after "@" and in "://"
      // breaks those patterns without changing what a reader sees.
      case '@': out += "\\@"; out += detail::kWordJoiner; break;
      case ':':
        if (i + 1 < s.size() && s[i + 1] == '/') {
          out += "\\:";
          out += detail::kWordJoiner;
        } else {
          out += c;  // "file.yaml:12:3" stays readable; only "://" can start an autolink
        }
        break;
      // The ASCII punctuation CommonMark lets a backslash escape that can start or end an inline
      // construct anywhere (links, images, emphasis, code, tables, strikethrough, math).
      case '\\': case '`': case '*': case '_': case '{': case '}': case '[': case ']': case '(': case ')':
      case '!': case '|': case '~': case '$':
        out += '\\';
        out += c;
        break;
      // Block constructs start a line: a heading, list or quote marker only matters as the first
      // character (the text never spans lines: line breaks are folded above).
      case '#': case '+': case '-': case '=':
        if (at_start) out += '\\';
        out += c;
        break;
      case '.': {
        // "www." is an autolink; "12." an ordered list.
        bool www = i >= 3 && (s[i - 1] | 0x20) == 'w' && (s[i - 2] | 0x20) == 'w' && (s[i - 3] | 0x20) == 'w';
        if (www || after_digits) out += '\\';
        out += c;
        break;
      }
      default: out += c;
    }
  }
  return out;
}

// Inside raw HTML (<summary> of a <details> block): entities for HTML metacharacters and for the
// Markdown punctuation, so the text is inert whether the renderer treats the line as HTML or not.
inline std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (size_t i = 0; i < s.size(); ++i) {
    char c = detail::fold(s[i]);
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '@': out += "&#64;"; out += detail::kWordJoiner; break;  // see text()
      case ':':
        out += "&#58;";
        if (i + 1 < s.size() && s[i + 1] == '/') out += detail::kWordJoiner;
        break;
      case '\'': case '[': case ']': case '(': case ')': case '`': case '*': case '_': case '!': case '|':
      case '#': case '~': case '\\':
        out += "&#" + std::to_string(static_cast<int>(c)) + ";";
        break;
      default: out += c;
    }
  }
  return out;
}

inline std::string code(std::string_view s) {
  std::string body;
  body.reserve(s.size());
  for (char c : s) body += detail::fold(c);
  if (body.empty()) return "` `";
  std::string ticks(detail::longest_backtick_run(body) + 1, '`');
  // A span that starts or ends with a backtick (or a space) needs one space of padding, which
  // CommonMark strips again when rendering.
  bool pad = body.front() == '`' || body.back() == '`' || body.front() == ' ' || body.back() == ' ';
  return ticks + (pad ? " " : "") + body + (pad ? " " : "") + ticks;
}

inline std::string code_cell(std::string_view s) {
  std::string span = code(s);
  std::string out;
  out.reserve(span.size());
  for (char c : span) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

inline std::string fence(std::string_view content) {
  return std::string(std::max<size_t>(3, detail::longest_backtick_run(content) + 1), '`');
}

}  // namespace helmgate::core::md
