#include "diff/unified.hpp"

#include <algorithm>
#include <map>

namespace helmgate::diff {

namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

enum class Op { equal, del, ins };

// Myers' O((N+M)D) shortest edit script. Past max_d edits the texts are treated as wholly replaced: a
// diff that large is not read line by line anyway, and the trace would cost too much memory.
std::vector<Op> edit_script(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  const int max_d = std::min(n + m, 5000);
  const int offset = max_d + 1;
  std::vector<int> v(static_cast<size_t>(2 * max_d + 3), 0);
  std::vector<std::vector<int>> trace;
  int found_d = -1;
  for (int d = 0; d <= max_d && found_d < 0; ++d) {
    trace.push_back(v);
    for (int k = -d; k <= d; k += 2) {
      int x;
      if (k == -d || (k != d && v[static_cast<size_t>(offset + k - 1)] < v[static_cast<size_t>(offset + k + 1)])) {
        x = v[static_cast<size_t>(offset + k + 1)];
      } else {
        x = v[static_cast<size_t>(offset + k - 1)] + 1;
      }
      int y = x - k;
      while (x < n && y < m && a[static_cast<size_t>(x)] == b[static_cast<size_t>(y)]) {
        ++x;
        ++y;
      }
      v[static_cast<size_t>(offset + k)] = x;
      if (x >= n && y >= m) {
        found_d = d;
        break;
      }
    }
  }
  std::vector<Op> ops;
  if (found_d < 0) {
    ops.assign(static_cast<size_t>(n), Op::del);
    ops.insert(ops.end(), static_cast<size_t>(m), Op::ins);
    return ops;
  }
  int x = n;
  int y = m;
  for (int d = found_d; d > 0; --d) {
    const auto& pv = trace[static_cast<size_t>(d)];
    int k = x - y;
    int prev_k;
    if (k == -d || (k != d && pv[static_cast<size_t>(offset + k - 1)] < pv[static_cast<size_t>(offset + k + 1)])) {
      prev_k = k + 1;
    } else {
      prev_k = k - 1;
    }
    int prev_x = pv[static_cast<size_t>(offset + prev_k)];
    int prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      ops.push_back(Op::equal);
      --x;
      --y;
    }
    ops.push_back(x == prev_x ? Op::ins : Op::del);
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) {
    ops.push_back(Op::equal);
    --x;
    --y;
  }
  std::reverse(ops.begin(), ops.end());
  return ops;
}

std::string range(int start, int count) {
  // Unified format: an empty range names the line before it.
  if (count == 0) return std::to_string(start) + ",0";
  if (count == 1) return std::to_string(start + 1);
  return std::to_string(start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view a, std::string_view b, std::string_view label_a,
                         std::string_view label_b, int context) {
  if (a == b) return {};
  auto la = split_lines(a);
  auto lb = split_lines(b);
  auto ops = edit_script(la, lb);
  // Positions of every op in a and b.
  struct Line {
    Op op;
    int ai, bi;
  };
  std::vector<Line> lines;
  int ai = 0, bi = 0;
  for (Op op : ops) {
    lines.push_back({op, ai, bi});
    if (op != Op::ins) ++ai;
    if (op != Op::del) ++bi;
  }
  std::string out = "--- " + std::string(label_a) + "\n+++ " + std::string(label_b) + "\n";
  size_t i = 0;
  const size_t total = lines.size();
  while (i < total) {
    while (i < total && lines[i].op == Op::equal) ++i;
    if (i >= total) break;
    size_t start = i >= static_cast<size_t>(context) ? i - static_cast<size_t>(context) : 0;
    size_t end = i;
    // Extend while the next change is within 2*context equal lines.
    while (end < total) {
      if (lines[end].op != Op::equal) {
        ++end;
        continue;
      }
      size_t run = end;
      while (run < total && lines[run].op == Op::equal) ++run;
      if (run >= total || run - end > static_cast<size_t>(2 * context)) {
        end = std::min(total, end + static_cast<size_t>(context));
        break;
      }
      end = run;
    }
    int a_start = lines[start].ai, b_start = lines[start].bi, a_count = 0, b_count = 0;
    std::string body;
    for (size_t j = start; j < end; ++j) {
      const auto& l = lines[j];
      switch (l.op) {
        case Op::equal:
          body += " " + std::string(la[static_cast<size_t>(l.ai)]) + "\n";
          ++a_count;
          ++b_count;
          break;
        case Op::del:
          body += "-" + std::string(la[static_cast<size_t>(l.ai)]) + "\n";
          ++a_count;
          break;
        case Op::ins:
          body += "+" + std::string(lb[static_cast<size_t>(l.bi)]) + "\n";
          ++b_count;
          break;
      }
    }
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n" + body;
    i = end;
  }
  return out;
}

std::string_view to_string(Change c) {
  switch (c) {
    case Change::added: return "added";
    case Change::removed: return "removed";
    case Change::changed: return "changed";
  }
  return "changed";
}

std::vector<ResourceDiff> diff_resources(const std::vector<Resource>& base, const std::vector<Resource>& head,
                                         int context, std::string_view base_label, std::string_view head_label) {
  const std::string bl = std::string(base_label) + "/", hl = std::string(head_label) + "/";
  std::map<std::string, const Resource*> b, h;
  for (const auto& r : base) b[r.key()] = &r;
  for (const auto& r : head) h[r.key()] = &r;
  std::vector<ResourceDiff> out;
  auto fill = [](ResourceDiff& d, const Resource& r) {
    d.group = r.group;
    d.kind = r.kind;
    d.namespace_ = r.namespace_;
    d.name = r.name;
  };
  for (const auto& [key, r] : b) {
    auto it = h.find(key);
    ResourceDiff d;
    d.key = key;
    fill(d, *r);
    if (it == h.end()) {
      d.change = Change::removed;
      d.diff = unified_diff(r->text, "", bl + key, "/dev/null", context);
    } else if (it->second->text != r->text) {
      d.change = Change::changed;
      d.diff = unified_diff(r->text, it->second->text, bl + key, hl + key, context);
    } else {
      continue;
    }
    out.push_back(std::move(d));
  }
  for (const auto& [key, r] : h) {
    if (b.count(key) != 0) continue;
    ResourceDiff d;
    d.key = key;
    fill(d, *r);
    d.change = Change::added;
    d.diff = unified_diff("", r->text, "/dev/null", hl + key, context);
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
  return out;
}

}  // namespace helmgate::diff
