#pragma once
// Volatile output: content that differs between two renders of identical inputs (a certificate from
// genCA/genSelfSignedCert, a name or password from randAlphaNum, lookup results). It is found by
// comparing two renders of the same request (find_volatile), named in a verdict (Volatility: resource
// keys and JSON pointers into the normalized resources, never values), and masked on both sides of a
// diff (diff_volatile) and in the digest of an applied release, so that it alone is never a change.
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "diff/normalize.hpp"
#include "diff/unified.hpp"

namespace helmgate::diff {

// What a masked field reads in a diff.
inline constexpr std::string_view kVolatileMark = "(volatile: changes on every render)";

// A resource whose name is partly random ("rel-seed-x8k2q1"): same group, kind and namespace (any, when
// the pattern has none), a name of `length` characters that starts with prefix and ends with suffix.
// prefix and suffix end at a separator ('-', '.'), so a random character that happened to be equal in
// both renders does not narrow it.
struct VolatileName {
  std::string group, kind, namespace_;
  std::string prefix, suffix;
  size_t length = 0;
  bool matches(const Resource& r) const;
  std::string shown() const;  // "rel-seed-******"
  std::string key() const;    // like Resource::key, with shown() as the name
};

// The verdict for one render request: which parts change on every render.
struct Volatility {
  std::vector<VolatileName> names;
  // Resource key (for a volatile name: VolatileName::key()) -> JSON pointers of fields that change. A key
  // without a namespace also names the resource keyed with its effective namespace.
  std::map<std::string, std::set<std::string>> fields;

  bool empty() const { return names.empty() && fields.empty(); }
  // Only what is volatile in both (the parts a base and a head verdict agree on).
  Volatility intersect(const Volatility& other) const;
  // A line format for the verdict store; parse() gives nullopt for anything else (an old format).
  std::string serialize() const;
  static std::optional<Volatility> parse(std::string_view text);
};

// What differs between two renders of the same inputs. Resources in only one of them are paired by
// group, kind, namespace and a name of the same length (a random suffix); unpaired ones are left out.
Volatility find_volatile(const std::vector<Resource>& first, const std::vector<Resource>& second);
// The same from two helm template outputs (parsed with options; only paths are kept, never values).
core::Result<Volatility> find_volatile(std::string_view first_manifest, std::string_view second_manifest,
                                       const ParseOptions& options);

// Resources with a volatile name renamed to its pattern and volatile fields replaced by kVolatileMark.
// Resources the verdict does not name keep their text byte for byte.
std::vector<Resource> mask_volatile(const std::vector<Resource>& resources, const Volatility& v);

// A resource with volatile content that differed between base and head.
struct VolatileResource {
  std::string key;                  // masked key ("core/ConfigMap/demo/rel-seed-******")
  std::vector<std::string> fields;  // JSON pointers ("/data/tls.crt")
  bool also_changed = false;        // it has a real change too (shown as a diff)
};

struct VolatileDiff {
  std::vector<ResourceDiff> changes;        // real changes, diffed with volatile parts masked
  std::vector<VolatileResource> volatiles;  // what differed only by (or also by) volatile content
};

// diff_resources over the masked resources, plus the resources whose volatile content differed.
VolatileDiff diff_volatile(const std::vector<Resource>& base, const std::vector<Resource>& head,
                           const Volatility& v, int context = 3);

}  // namespace helmgate::diff
