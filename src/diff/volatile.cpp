#include "diff/volatile.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/yaml_bounded.hpp"

namespace helmgate::diff {

namespace {

std::string escape_token(std::string_view t) {
  std::string out;
  for (char c : t) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> pointer_tokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty() || pointer.front() != '/') return tokens;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t next = pointer.find('/', pos);
    if (next == std::string_view::npos) next = pointer.size();
    std::string t;
    for (size_t i = pos; i < next; ++i) {
      if (pointer[i] == '~' && i + 1 < next) {
        t += pointer[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        t += pointer[i];
      }
    }
    tokens.push_back(std::move(t));
    pos = next + 1;
  }
  return tokens;
}

std::optional<size_t> index_of(const std::string& t) {
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  if (t.empty() || t.size() > 9 || !std::all_of(t.begin(), t.end(), digit)) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoul(t));
}

// Every place where a and b differ, as JSON pointers. A map whose keys differ contributes the keys
// present in one only; a list whose length differs is volatile as a whole.
void differences(const YAML::Node& a, const YAML::Node& b, const std::string& at, std::set<std::string>& out) {
  if (a.Type() != b.Type()) {
    out.insert(at);
    return;
  }
  if (a.IsMap()) {
    std::map<std::string, YAML::Node> ma, mb;
    for (const auto& kv : a) ma.emplace(kv.first.IsScalar() ? kv.first.Scalar() : "?", kv.second);
    for (const auto& kv : b) mb.emplace(kv.first.IsScalar() ? kv.first.Scalar() : "?", kv.second);
    for (const auto& [k, va] : ma) {
      std::string p = at + "/" + escape_token(k);
      auto it = mb.find(k);
      if (it == mb.end()) {
        out.insert(p);
      } else {
        differences(va, it->second, p, out);
      }
    }
    for (const auto& [k, vb] : mb) {
      if (ma.count(k) == 0) out.insert(at + "/" + escape_token(k));
    }
  } else if (a.IsSequence()) {
    if (a.size() != b.size()) {
      out.insert(at);
      return;
    }
    for (size_t i = 0; i < a.size(); ++i) differences(a[i], b[i], at + "/" + std::to_string(i), out);
  } else if (a.IsScalar()) {
    if (a.Scalar() != b.Scalar()) out.insert(at);
  }
}

std::set<std::string> text_differences(const std::string& a, const std::string& b) {
  std::set<std::string> out;
  try {
    differences(core::yaml::load(a, core::yaml::Source::rendered), core::yaml::load(b, core::yaml::Source::rendered), "",
                out);
  } catch (const YAML::Exception&) {
    out.insert("");
  }
  out.erase("");  // a whole document of another type: nothing narrower to name
  return out;
}

bool separator(char c) { return c == '-' || c == '.'; }

// The pattern two random names share, or nullopt when they are not of one pattern.
std::optional<VolatileName> name_pattern(const Resource& a, const Resource& b) {
  const std::string& x = a.name;
  const std::string& y = b.name;
  if (x.size() != y.size() || x == y) return std::nullopt;
  size_t p = 0;
  while (p < x.size() && x[p] == y[p]) ++p;
  size_t s = 0;
  while (s < x.size() - p && x[x.size() - 1 - s] == y[y.size() - 1 - s]) ++s;
  // Back to a separator: the random part is a whole token.
  while (p > 0 && !separator(x[p - 1])) --p;
  while (s > 0 && !separator(x[x.size() - s])) --s;
  if (p == 0 && s == 0) return std::nullopt;  // nothing fixed to recognise it by
  VolatileName n;
  n.group = a.group;
  n.kind = a.kind;
  n.namespace_ = a.namespace_;
  n.prefix = x.substr(0, p);
  n.suffix = x.substr(x.size() - s);
  n.length = x.size();
  return n;
}

std::string escape_field(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '\t' || c == '\n' || c == '\r') {
      static const char* hex = "0123456789abcdef";
      out += '%';
      out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += hex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_field(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view line, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t next = line.find(sep, pos);
    out.emplace_back(line.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

// Sets the field at pointer to the mark when it is there.
void mask_pointer(YAML::Node root, const std::string& pointer) {
  auto tokens = pointer_tokens(pointer);
  if (tokens.empty()) return;
  YAML::Node cur = root;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const YAML::Node& c = cur;
    if (c.IsMap() && c[tokens[i]]) {
      cur.reset(c[tokens[i]]);
    } else if (auto idx = index_of(tokens[i]); c.IsSequence() && idx && *idx < c.size()) {
      cur.reset(c[*idx]);
    } else {
      return;
    }
  }
  const YAML::Node& c = cur;
  if (c.IsMap() && c[tokens.back()]) {
    cur[tokens.back()] = std::string(kVolatileMark);
  } else if (auto idx = index_of(tokens.back()); c.IsSequence() && idx && *idx < c.size()) {
    cur[*idx] = std::string(kVolatileMark);
  }
}

struct Masked {
  std::vector<Resource> resources;
  std::map<std::string, std::string> original;  // masked key -> text before masking, for the masked ones
};

// The verdict's fields for a resource. A verdict keyed without a namespace (the chart set none) also
// names the resource keyed with its effective one, so the verdict does not depend on how keys are formed.
std::map<std::string, std::set<std::string>>::const_iterator fields_of(const Volatility& v, const Resource& r) {
  auto f = v.fields.find(r.key());
  if (f != v.fields.end() || r.namespace_.empty()) return f;
  Resource bare = r;
  bare.namespace_.clear();
  return v.fields.find(bare.key());
}

Masked mask(const std::vector<Resource>& resources, const Volatility& v) {
  Masked m;
  std::set<std::string> taken;
  for (const auto& r : resources) taken.insert(r.key());
  for (const auto& r : resources) {
    Resource out = r;
    bool renamed = false;
    for (const auto& n : v.names) {
      if (!n.matches(r)) continue;
      out.name = n.shown();
      // Two resources of one pattern in one render: the second keeps its own name.
      if (taken.count(out.key()) != 0) {
        out.name = r.name;
        break;
      }
      taken.insert(out.key());
      renamed = true;
      break;
    }
    auto f = fields_of(v, out);
    if (renamed || f != v.fields.end()) {
      try {
        YAML::Node doc = core::yaml::load(r.text, core::yaml::Source::rendered);
        if (f != v.fields.end()) {
          for (const auto& p : f->second) mask_pointer(doc, p);
        }
        if (renamed && doc.IsMap() && doc["metadata"] && doc["metadata"].IsMap()) doc["metadata"]["name"] = out.name;
        out.text = canonical_yaml(doc);
      } catch (const YAML::Exception&) {
        // Our own canonical text always parses; if not, compare it as it is.
      }
      m.original[out.key()] = r.text;
    }
    m.resources.push_back(std::move(out));
  }
  return m;
}

}  // namespace

bool VolatileName::matches(const Resource& r) const {
  return r.group == group && r.kind == kind && (r.namespace_ == namespace_ || namespace_.empty()) &&
         r.name.size() == length &&
         r.name.compare(0, prefix.size(), prefix) == 0 &&
         r.name.compare(r.name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string VolatileName::shown() const {
  size_t fixed = prefix.size() + suffix.size();
  return prefix + std::string(length > fixed ? length - fixed : 0, '*') + suffix;
}

std::string VolatileName::key() const {
  Resource r;
  r.group = group;
  r.kind = kind;
  r.namespace_ = namespace_;
  r.name = shown();
  return r.key();
}

Volatility Volatility::intersect(const Volatility& other) const {
  Volatility out;
  for (const auto& n : names) {
    for (const auto& o : other.names) {
      if (n.key() == o.key() && n.prefix == o.prefix && n.suffix == o.suffix) {
        out.names.push_back(n);
        break;
      }
    }
  }
  for (const auto& [key, ptrs] : fields) {
    auto it = other.fields.find(key);
    if (it == other.fields.end()) continue;
    std::set<std::string> both;
    std::set_intersection(ptrs.begin(), ptrs.end(), it->second.begin(), it->second.end(),
                          std::inserter(both, both.begin()));
    if (!both.empty()) out.fields[key] = std::move(both);
  }
  return out;
}

std::string Volatility::serialize() const {
  std::string out = "helmgate-volatile-v1\n";
  for (const auto& n : names) {
    out += "name\t" + escape_field(n.group) + "\t" + escape_field(n.kind) + "\t" + escape_field(n.namespace_) + "\t" +
           escape_field(n.prefix) + "\t" + escape_field(n.suffix) + "\t" + std::to_string(n.length) + "\n";
  }
  for (const auto& [key, ptrs] : fields) {
    for (const auto& p : ptrs) out += "field\t" + escape_field(key) + "\t" + escape_field(p) + "\n";
  }
  return out;
}

std::optional<Volatility> Volatility::parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != "helmgate-volatile-v1") return std::nullopt;
  Volatility v;
  try {
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto f = split(line, '\t');
      if (f[0] == "name" && f.size() == 7) {
        VolatileName n;
        n.group = unescape_field(f[1]);
        n.kind = unescape_field(f[2]);
        n.namespace_ = unescape_field(f[3]);
        n.prefix = unescape_field(f[4]);
        n.suffix = unescape_field(f[5]);
        n.length = std::stoul(f[6]);
        if (n.prefix.size() + n.suffix.size() > n.length) return std::nullopt;
        v.names.push_back(std::move(n));
      } else if (f[0] == "field" && f.size() == 3) {
        v.fields[unescape_field(f[1])].insert(unescape_field(f[2]));
      } else {
        return std::nullopt;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return v;
}

Volatility find_volatile(const std::vector<Resource>& first, const std::vector<Resource>& second) {
  Volatility v;
  std::map<std::string, const Resource*> a, b;
  for (const auto& r : first) a[r.key()] = &r;
  for (const auto& r : second) b[r.key()] = &r;
  std::vector<const Resource*> only_a, only_b;
  for (const auto& [key, r] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      only_a.push_back(r);
    } else if (it->second->text != r->text) {
      auto d = text_differences(r->text, it->second->text);
      if (!d.empty()) v.fields[key] = std::move(d);
    }
  }
  for (const auto& [key, r] : b) {
    if (a.count(key) == 0) only_b.push_back(r);
  }
  // Pair each resource of the first render with the one of the second that shares most of its name.
  std::vector<bool> used(only_b.size(), false);
  for (const Resource* x : only_a) {
    std::optional<VolatileName> best;
    size_t best_i = 0;
    for (size_t i = 0; i < only_b.size(); ++i) {
      const Resource* y = only_b[i];
      if (used[i] || y->group != x->group || y->kind != x->kind || y->namespace_ != x->namespace_) continue;
      auto n = name_pattern(*x, *y);
      if (n && (!best || n->prefix.size() + n->suffix.size() > best->prefix.size() + best->suffix.size())) {
        best = n;
        best_i = i;
      }
    }
    if (!best) continue;
    used[best_i] = true;
    auto d = text_differences(x->text, only_b[best_i]->text);
    d.insert("/metadata/name");
    v.fields[best->key()] = std::move(d);
    v.names.push_back(std::move(*best));
  }
  return v;
}

core::Result<Volatility> find_volatile(std::string_view first_manifest, std::string_view second_manifest,
                                       const ParseOptions& options) {
  auto a = parse_manifest(first_manifest, options);
  if (!a) return a.error();
  auto b = parse_manifest(second_manifest, options);
  if (!b) return b.error();
  return find_volatile(*a, *b);
}

std::vector<Resource> mask_volatile(const std::vector<Resource>& resources, const Volatility& v) {
  if (v.empty()) return resources;
  return mask(resources, v).resources;
}

VolatileDiff diff_volatile(const std::vector<Resource>& base, const std::vector<Resource>& head, const Volatility& v,
                           int context) {
  VolatileDiff out;
  if (v.empty()) {
    out.changes = diff_resources(base, head, context);
    return out;
  }
  Masked mb = mask(base, v);
  Masked mh = mask(head, v);
  out.changes = diff_resources(mb.resources, mh.resources, context);
  std::set<std::string> changed;
  for (const auto& d : out.changes) changed.insert(d.key);
  for (const auto& [key, before] : mb.original) {
    auto it = mh.original.find(key);
    if (it == mh.original.end() || it->second == before) continue;  // not on both sides, or equal this time
    VolatileResource vr;
    vr.key = key;
    vr.also_changed = changed.count(key) != 0;
    for (const auto& r : mh.resources) {
      if (r.key() != key) continue;
      if (auto f = fields_of(v, r); f != v.fields.end()) vr.fields.assign(f->second.begin(), f->second.end());
      break;
    }
    out.volatiles.push_back(std::move(vr));
  }
  return out;
}

}  // namespace helmgate::diff
