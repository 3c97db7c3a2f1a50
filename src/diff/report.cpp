#include "diff/report.hpp"

#include <algorithm>
#include <sstream>

#include "core/json.hpp"
#include "core/markdown.hpp"

namespace helmgate::diff {

std::string Problem::where() const {
  if (file.empty()) return {};
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (line > 0 && column > 0) s += ":" + std::to_string(column);
  return s;
}

std::string_view to_string(ReleaseStatus s) {
  switch (s) {
    case ReleaseStatus::added: return "added";
    case ReleaseStatus::changed: return "changed";
    case ReleaseStatus::removed: return "removed";
    case ReleaseStatus::unchanged: return "unchanged";
    case ReleaseStatus::error: return "error";
  }
  return "error";
}

size_t ReleaseReport::count(Change c) const {
  return static_cast<size_t>(std::count_if(resources.begin(), resources.end(), [c](const auto& r) { return r.change == c; }));
}

bool Report::has_changes() const {
  return std::any_of(releases.begin(), releases.end(), [](const auto& r) { return !r.resources.empty(); });
}

bool Report::has_errors() const {
  return !errors.empty() ||
         std::any_of(releases.begin(), releases.end(), [](const auto& r) { return !r.errors.empty(); });
}

namespace {

std::string short_sha(const std::string& s) { return s.substr(0, 12); }

std::string release_id(const ReleaseReport& r) { return r.namespace_ + "/" + r.name; }

std::string html_escape(const std::string& s) { return core::md::html(s); }

std::string counts(const ReleaseReport& r) {
  return "+" + std::to_string(r.count(Change::added)) + " ~" + std::to_string(r.count(Change::changed)) + " -" +
         std::to_string(r.count(Change::removed));
}

// A fence longer than any backtick run in the content, so content cannot close it.
std::string fence_for(const std::string& content) { return core::md::fence(content); }

// Names and text from Git in the comment: names as code (cells: code with '|' escaped), free text
// escaped so that nothing in it is a link, image, HTML tag or emphasis.
std::string code(const std::string& s) { return core::md::code(s); }
std::string code_cell(const std::string& s) { return core::md::code_cell(s); }
std::string text(const std::string& s) { return core::md::text(s); }

// Builds markdown out of atoms, cutting between atoms when a part would exceed the limit and closing /
// reopening the containers (details, table) that are open at the cut.
class MarkdownParts {
 public:
  explicit MarkdownParts(size_t limit) : limit_(limit) {}

  void add(const std::string& atom) {
    size_t closing = details_.empty() ? 0 : kCloseDetails.size();
    if (!cur_.empty() && cur_.size() + atom.size() + closing > limit_ && cur_.size() > reopened_size_) flush();
    cur_ += atom;
  }
  void open_details(const std::string& summary) {
    std::string open = "<details><summary>" + summary + "</summary>\n\n";
    add(open);
    details_ = summary;
  }
  void close_details() {
    cur_ += kCloseDetails;
    details_.clear();
  }
  void set_table_header(std::string header) { table_header_ = std::move(header); }
  void end_table() { table_header_.clear(); }

  // A fenced block, split into several fenced blocks when it cannot fit in one part.
  void add_fenced(const std::string& lang, const std::string& content) {
    std::string fence = fence_for(content);
    std::string open = fence + lang + "\n";
    std::string close = fence + "\n";
    size_t overhead = open.size() + close.size() + kCloseDetails.size() + 256 + details_.size();
    size_t budget = limit_ > overhead * 2 ? limit_ - overhead : limit_ / 2;
    if (open.size() + content.size() + close.size() <= budget) {
      add(open + content + close);
      return;
    }
    std::string chunk;
    std::istringstream in(content);
    for (std::string line; std::getline(in, line);) {
      if (line.size() + 1 > budget / 2) line = line.substr(0, budget / 2) + " … (line truncated)";
      if (!chunk.empty() && chunk.size() + line.size() + 1 > budget) {
        add(open + chunk + close);
        chunk.clear();
      }
      chunk += line + "\n";
    }
    if (!chunk.empty()) add(open + chunk + close);
  }

  std::vector<std::string> finish() {
    if (!details_.empty()) close_details();
    if (!cur_.empty()) parts_.push_back(cur_);
    return parts_;
  }

 private:
  void flush() {
    if (!details_.empty()) cur_ += kCloseDetails;
    parts_.push_back(cur_);
    cur_.clear();
    if (!table_header_.empty()) cur_ += table_header_;
    if (!details_.empty()) cur_ += "<details open><summary>" + details_ + " (continued)</summary>\n\n";
    reopened_size_ = cur_.size();
  }

  static inline const std::string kCloseDetails = "</details>\n\n";
  size_t limit_;
  std::string cur_;
  std::string details_;
  std::string table_header_;
  size_t reopened_size_ = 0;
  std::vector<std::string> parts_;
};

std::string headline(const Report& report) {
  size_t changed = static_cast<size_t>(std::count_if(report.releases.begin(), report.releases.end(),
                                                     [](const auto& r) { return !r.resources.empty(); }));
  size_t errors = report.errors.size();
  for (const auto& r : report.releases) errors += r.errors.size();
  std::string s = std::to_string(changed) + (changed == 1 ? " release" : " releases") + " with changes";
  if (errors > 0) s += ", " + std::to_string(errors) + (errors == 1 ? " error" : " errors");
  if (report.unaffected > 0) s += ", " + std::to_string(report.unaffected) + " unaffected";
  return s;
}

// "`/data/tls.crt`, `/data/tls.key`" (markdown) or "/data/tls.crt, /data/tls.key" (text); the first 8.
std::string volatile_fields(const VolatileResource& v, bool markdown) {
  constexpr size_t kShown = 8;
  std::string s;
  for (size_t i = 0; i < v.fields.size() && i < kShown; ++i) {
    s += (s.empty() ? "" : ", ") + (markdown ? core::md::code(v.fields[i]) : v.fields[i]);
  }
  if (v.fields.size() > kShown) s += ", … (" + std::to_string(v.fields.size() - kShown) + " more)";
  if (v.also_changed) s += std::string(s.empty() ? "" : "; ") + "its other changes are shown above";
  return s.empty() ? s : " (" + s + ")";
}

std::string problem_line(const Problem& p) {
  std::string w = p.where();
  return w.empty() ? p.message : w + ": " + p.message;
}

}  // namespace

std::vector<std::string> to_markdown_parts(const Report& report, size_t limit) {
  // Leave room for the "part i of n" line added at the end.
  constexpr size_t kPartHeader = 64;
  MarkdownParts md(limit > kPartHeader * 4 ? limit - kPartHeader : limit);
  md.add("### helmgate preview: " + headline(report) + "\n\n");
  md.add(code(short_sha(report.base)) + " → " + code(short_sha(report.head)) +
         (report.clusters.empty() ? "" : " · clusters: " + [&] {
           std::string c;
           for (const auto& x : report.clusters) c += (c.empty() ? "" : ", ") + code(x);
           return c;
         }()) +
         "\n\n");
  for (const auto& e : report.errors) md.add("> **Error** " + text(problem_line(e)) + "\n\n");
  for (const auto& n : report.notes) md.add("> **Note** " + text(problem_line(n)) + "\n\n");
  if (!report.releases.empty()) {
    std::string header = "| Cluster | Release | Status | Resources (+ ~ -) | Why |\n|---|---|---|---|---|\n";
    md.add(header);
    md.set_table_header(header);
    for (const auto& r : report.releases) {
      std::string why;
      for (const auto& x : r.reasons) why += (why.empty() ? "" : "; ") + x;
      md.add("| " + code_cell(r.cluster) + " | " + code_cell(release_id(r)) + " | " +
             std::string(to_string(r.status)) + " | " + counts(r) + " | " + text(why) + " |\n");
    }
    md.end_table();
    md.add("\n");
  } else {
    md.add("No release is affected by this change.\n\n");
  }
  for (const auto& r : report.releases) {
    md.open_details("<b>" + html_escape(r.cluster) + "</b> · " + html_escape(release_id(r)) + " — " +
                    std::string(to_string(r.status)) + " (" + counts(r) + ")");
    std::string meta;
    if (!r.chart.empty()) meta += "Chart: " + code(r.chart) + "  \n";
    if (!r.release_name.empty()) {
      meta += "Helm release: " + code(r.release_name) + " in namespace " + code(r.target_namespace) + "  \n";
    }
    for (const auto& x : r.reasons) meta += "Why: " + text(x) + "  \n";
    for (const auto& x : r.notes) meta += "Note: " + text(x) + "  \n";
    md.add(meta + "\n");
    for (const auto& e : r.errors) md.add("> **Error** " + text(problem_line(e)) + "\n\n");
    if (r.resources.empty() && r.errors.empty()) md.add("No resource changes after rendering.\n\n");
    for (const auto& d : r.resources) {
      md.add("**" + std::string(to_string(d.change)) + "** " + code(d.key) + "\n\n");
      md.add_fenced("diff", d.diff);
    }
    for (const auto& v : r.volatiles) {
      md.add("**volatile: changes on every render** " + code(v.key) + volatile_fields(v, true) + "\n\n");
    }
    md.close_details();
  }
  auto parts = md.finish();
  if (parts.size() > 1) {
    for (size_t i = 0; i < parts.size(); ++i) {
      parts[i] = "*helmgate preview, part " + std::to_string(i + 1) + " of " + std::to_string(parts.size()) +
                 "*\n\n" + parts[i];
    }
  }
  return parts;
}

std::string to_markdown(const Report& report) {
  auto parts = to_markdown_parts(report, std::string::npos / 4);
  return parts.empty() ? std::string() : parts.front();
}

std::string to_text(const Report& report, bool color) {
  auto c = [color](const char* code) { return color ? std::string(code) : std::string(); };
  const std::string bold = c("\033[1m"), red = c("\033[31m"), green = c("\033[32m"), cyan = c("\033[36m"),
                    yellow = c("\033[33m"), reset = c("\033[0m");
  std::string out = bold + "helmgate preview: " + headline(report) + reset + "\n";
  out += "base " + short_sha(report.base) + " -> head " + short_sha(report.head) + "\n";
  for (const auto& e : report.errors) out += red + "error: " + reset + problem_line(e) + "\n";
  for (const auto& n : report.notes) out += yellow + "note: " + reset + problem_line(n) + "\n";
  for (const auto& r : report.releases) {
    out += "\n" + bold + "== " + r.cluster + " " + release_id(r) + " (" + std::string(to_string(r.status)) + ", " +
           counts(r) + ")" + reset + "\n";
    if (!r.chart.empty()) out += "   chart: " + r.chart + "\n";
    for (const auto& x : r.reasons) out += "   why: " + x + "\n";
    for (const auto& x : r.notes) out += "   note: " + x + "\n";
    for (const auto& e : r.errors) out += red + "   error: " + reset + problem_line(e) + "\n";
    for (const auto& d : r.resources) {
      out += yellow + "-- " + std::string(to_string(d.change)) + " " + d.key + reset + "\n";
      std::istringstream in(d.diff);
      for (std::string line; std::getline(in, line);) {
        if (line.rfind("+++", 0) == 0 || line.rfind("---", 0) == 0) {
          out += bold + line + reset + "\n";
        } else if (!line.empty() && line[0] == '+') {
          out += green + line + reset + "\n";
        } else if (!line.empty() && line[0] == '-') {
          out += red + line + reset + "\n";
        } else if (line.rfind("@@", 0) == 0) {
          out += cyan + line + reset + "\n";
        } else {
          out += line + "\n";
        }
      }
    }
    for (const auto& v : r.volatiles) {
      out += yellow + "-- volatile: changes on every render " + v.key + reset + volatile_fields(v, false) + "\n";
    }
  }
  return out;
}

std::string to_json(const Report& report) {
  rapidjson::StringBuffer sb;
  core::json::Writer w(sb);
  auto problem = [&w](const Problem& p) {
    w.StartObject();
    core::json::kv(w, "message", p.message);
    core::json::kv(w, "file", p.file);
    core::json::kv(w, "line", static_cast<int64_t>(p.line));
    core::json::kv(w, "column", static_cast<int64_t>(p.column));
    w.EndObject();
  };
  auto strings = [&w](std::string_view key, const std::vector<std::string>& v) {
    core::json::write_str(w, key);
    w.StartArray();
    for (const auto& s : v) core::json::write_str(w, s);
    w.EndArray();
  };
  w.StartObject();
  core::json::kv(w, "schema", "helmgate.preview/v1");
  core::json::kv(w, "repo", report.repo);
  core::json::kv(w, "base", report.base);
  core::json::kv(w, "head", report.head);
  strings("clusters", report.clusters);
  core::json::kv(w, "has_changes", report.has_changes());
  core::json::kv(w, "has_errors", report.has_errors());
  core::json::kv(w, "unaffected", static_cast<int64_t>(report.unaffected));
  core::json::write_str(w, "errors");
  w.StartArray();
  for (const auto& e : report.errors) problem(e);
  w.EndArray();
  core::json::write_str(w, "notes");
  w.StartArray();
  for (const auto& n : report.notes) problem(n);
  w.EndArray();
  core::json::write_str(w, "releases");
  w.StartArray();
  for (const auto& r : report.releases) {
    w.StartObject();
    core::json::kv(w, "cluster", r.cluster);
    core::json::kv(w, "namespace", r.namespace_);
    core::json::kv(w, "name", r.name);
    core::json::kv(w, "release_name", r.release_name);
    core::json::kv(w, "target_namespace", r.target_namespace);
    core::json::kv(w, "chart", r.chart);
    core::json::kv(w, "status", to_string(r.status));
    strings("reasons", r.reasons);
    strings("notes", r.notes);
    core::json::write_str(w, "summary");
    w.StartObject();
    core::json::kv(w, "added", static_cast<int64_t>(r.count(Change::added)));
    core::json::kv(w, "changed", static_cast<int64_t>(r.count(Change::changed)));
    core::json::kv(w, "removed", static_cast<int64_t>(r.count(Change::removed)));
    w.EndObject();
    core::json::write_str(w, "errors");
    w.StartArray();
    for (const auto& e : r.errors) problem(e);
    w.EndArray();
    core::json::write_str(w, "resources");
    w.StartArray();
    for (const auto& d : r.resources) {
      w.StartObject();
      core::json::kv(w, "key", d.key);
      core::json::kv(w, "group", d.group);
      core::json::kv(w, "kind", d.kind);
      core::json::kv(w, "namespace", d.namespace_);
      core::json::kv(w, "name", d.name);
      core::json::kv(w, "change", to_string(d.change));
      core::json::kv(w, "diff", d.diff);
      w.EndObject();
    }
    w.EndArray();
    // Only when there is some, so reports of charts without volatile output keep their shape.
    if (!r.volatiles.empty()) {
      core::json::write_str(w, "volatile");
      w.StartArray();
      for (const auto& v : r.volatiles) {
        w.StartObject();
        core::json::kv(w, "key", v.key);
        strings("fields", v.fields);
        core::json::kv(w, "also_changed", v.also_changed);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

}  // namespace helmgate::diff
