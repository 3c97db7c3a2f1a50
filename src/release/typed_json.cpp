#include "release/typed_json.hpp"

#include <cmath>

#include "core/yaml_bounded.hpp"
#include "release/typed_scalar.hpp"

namespace helmgate::release::typed {

using namespace detail;

namespace {

std::string join_path(const std::vector<std::string>& p) {
  std::string out;
  for (const auto& x : p) {
    if (!out.empty() && x[0] != '[') out += ".";
    out += x;
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const Limits& l) : lim_(l) {}
  Converted run(const YAML::Node& n) {
    Converted c;
    if (!convert(n, c.value, 0)) {
      c.ok = false;
      c.error = err_;
      c.value = Value();
    }
    return c;
  }

 private:
  bool fail(const YAML::Node& n, const std::string& msg) {
    if (!failed_) {
      failed_ = true;
      err_.message = msg;
      err_.path = join_path(path_);
      auto m = n.Mark();
      err_.line = m.line;
      err_.column = m.column;
    }
    return false;
  }

  bool scalar(const YAML::Node& n, Resolved& r) {
    const std::string& tag = n.Tag();
    // kubectl sends a byte that is not UTF-8 as U+FFFD (Go's encoding/json): the typed value holds what
    // is sent, so it reads back the same and keys differing only there are one key (the later wins;
    // kubectl keeps the one whose raw bytes sort last).
    const std::string text = valid_utf8(n.Scalar());
    if (tag == "?") {
      r = resolve("", text);
    } else if (tag.rfind(kTagPrefix, 0) == 0) {
      r = resolve(tag, text);
    } else {
      r = Resolved();
      r.s = text;  // quoted or block scalar, or a tag nobody resolves: a string
    }
    if (r.kind == Resolved::Kind::error) return fail(n, r.error);
    return true;
  }

  bool convert(const YAML::Node& n, Value& out, size_t depth) {
    if (++nodes_ > lim_.max_nodes) {
      return fail(n, "more than " + std::to_string(lim_.max_nodes) + " nodes after expanding aliases");
    }
    if (depth > lim_.max_depth) return fail(n, "nested deeper than " + std::to_string(lim_.max_depth) + " levels");
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: out = Value(); return true;
      case YAML::NodeType::Scalar: {
        Resolved r;
        if (!scalar(n, r)) return false;
        switch (r.kind) {
          case Resolved::Kind::null: out = Value(); return true;
          case Resolved::Kind::boolean: out = Value::boolean(r.b); return true;
          case Resolved::Kind::integer: out = Value::integer(r.i); return true;
          case Resolved::Kind::uinteger: out = Value::number(static_cast<double>(r.u)); return true;
          case Resolved::Kind::floating:
            if (std::isnan(r.d) || std::isinf(r.d)) {
              return fail(n, "'" + n.Scalar() + "' is " + (std::isnan(r.d) ? "NaN" : r.d > 0 ? "+Inf" : "-Inf") +
                                 ", which JSON cannot hold: kubectl and the API server refuse it (quote it to make it a string)");
            }
            out = Value::number(r.d);
            return true;
          default: out = Value::string(r.s); return true;
        }
      }
      case YAML::NodeType::Sequence: {
        out = Value();
        out.type = Value::Type::array;
        size_t i = 0;
        for (const auto& x : n) {
          path_.push_back("[" + std::to_string(i++) + "]");
          Value v;
          if (!convert(x, v, depth + 1)) return false;
          out.a.push_back(std::move(v));
          path_.pop_back();
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out = Value::object();
        for (const auto& kv : n) {
          const YAML::Node& k = kv.first;
          bool merge = k.IsScalar() && k.Scalar() == "<<" &&
                       (k.Tag() == "?" || k.Tag() == std::string(kTagPrefix) + "merge");
          if (merge) {
            path_.push_back("<<");
            if (!merge_into(kv.second, out, depth)) return false;
            path_.pop_back();
            continue;
          }
          std::string key;
          if (!key_string(k, key)) return false;
          path_.push_back(key);
          Value v;
          if (!convert(kv.second, v, depth + 1)) return false;
          out.o[key] = std::move(v);
          path_.pop_back();
        }
        return true;
      }
    }
    return true;
  }

  // go-yaml v2: `<<: map` sets the map's keys in place (later keys of the mapping override them, and
  // they override earlier ones); `<<: [m1, m2]` applies m2 then m1, so earlier maps win.
  bool merge_into(const YAML::Node& v, Value& out, size_t depth) {
    auto one = [&](const YAML::Node& m) {
      if (!m.IsMap()) return fail(m, "map merge requires map or sequence of maps as the value");
      Value tmp;
      if (!convert(m, tmp, depth + 1)) return false;
      for (auto& [k, x] : tmp.o) out.o[k] = x;
      return true;
    };
    if (v.IsMap()) return one(v);
    if (v.IsSequence()) {
      for (size_t i = v.size(); i-- > 0;) {
        if (!one(v[i])) return false;
      }
      return true;
    }
    return fail(v, "map merge requires map or sequence of maps as the value");
  }

  // sigs.k8s.io/yaml: string, int, float and bool keys become strings; any other key is an error.
  bool key_string(const YAML::Node& k, std::string& out) {
    if (k.IsNull()) return fail(k, "unsupported map key of type <nil> (null): kubectl refuses it; quote the key");
    if (!k.IsScalar()) return fail(k, "invalid map key (a map or list): kubectl refuses it");
    Resolved r;
    if (!scalar(k, r)) return false;
    switch (r.kind) {
      case Resolved::Kind::null:
        return fail(k, "unsupported map key of type <nil> ('" + k.Scalar() + "'): kubectl refuses it; quote the key");
      case Resolved::Kind::boolean: out = r.b ? "true" : "false"; return true;
      case Resolved::Kind::integer: out = std::to_string(r.i); return true;
      case Resolved::Kind::uinteger:
        return fail(k, "unsupported map key of type uint64 ('" + k.Scalar() + "'): kubectl refuses it; quote the key");
      case Resolved::Kind::floating: out = format_yaml_key(r.d); return true;
      default: out = r.s; return true;
    }
  }

  Limits lim_;
  size_t nodes_ = 0;
  bool failed_ = false;
  ConvertError err_;
  std::vector<std::string> path_;
};

void json_into(const Value& v, std::string& out) {
  switch (v.type) {
    case Value::Type::null: out += "null"; return;
    case Value::Type::boolean: out += v.b ? "true" : "false"; return;
    case Value::Type::integer: out += std::to_string(v.i); return;
    case Value::Type::number: out += format_json_number(v.d); return;
    case Value::Type::string: out += quote(v.s); return;
    case Value::Type::array: {
      out += "[";
      bool first = true;
      for (const auto& x : v.a) {
        if (!first) out += ",";
        first = false;
        json_into(x, out);
      }
      out += "]";
      return;
    }
    case Value::Type::object: {
      out += "{";
      bool first = true;
      for (const auto& [k, x] : v.o) {
        if (!first) out += ",";
        first = false;
        out += quote(k);
        out += ":";
        json_into(x, out);
      }
      out += "}";
      return;
    }
  }
}

}  // namespace

bool Value::operator==(const Value& x) const {
  if (type != x.type) return false;
  switch (type) {
    case Type::null: return true;
    case Type::boolean: return b == x.b;
    case Type::integer: return i == x.i;
    case Type::number: return d == x.d;
    case Type::string: return s == x.s;
    case Type::array: return a == x.a;
    case Type::object: return o == x.o;
  }
  return false;
}

Converted from_yaml(const YAML::Node& node, const Limits& limits) { return Converter(limits).run(node); }

Converted from_yaml_text(const std::string& text, const Limits& limits) {
  YAML::Node n;
  try {
    n = core::yaml::load(text);
  } catch (const core::yaml::LimitExceeded& e) {
    // Already says which limit and its configuration key.
    Converted c;
    c.ok = false;
    c.error.message = e.msg;
    c.error.line = e.mark.line;
    c.error.column = e.mark.column;
    return c;
  } catch (const YAML::Exception& e) {
    Converted c;
    c.ok = false;
    c.error.message = "invalid YAML: " + e.msg;
    c.error.line = e.mark.line;
    c.error.column = e.mark.column;
    return c;
  }
  return from_yaml(n, limits);
}

Converted scalar_value(const YAML::Node& scalar) { return Converter(Limits{}).run(scalar); }

std::string to_json(const Value& v) {
  std::string out;
  json_into(v, out);
  return out;
}

void collect_leaves(const Value& v, std::vector<std::string>& out) {
  switch (v.type) {
    case Value::Type::null: return;
    case Value::Type::boolean: out.emplace_back(v.b ? "true" : "false"); return;
    case Value::Type::integer: out.push_back(std::to_string(v.i)); return;
    case Value::Type::number: out.push_back(format_json_number(v.d)); return;
    case Value::Type::string: out.push_back(v.s); return;
    case Value::Type::array:
      for (const auto& x : v.a) collect_leaves(x, out);
      return;
    case Value::Type::object:
      for (const auto& [k, x] : v.o) collect_leaves(x, out);
      return;
  }
}

}  // namespace helmgate::release::typed
