#include "release/duplicates.hpp"

#include <map>

namespace helmgate::release {

DefinitionChoice choose_definitions(const std::vector<Definition>& defs,
                                    const std::function<bool(const Definition& a, const Definition& b)>& includes) {
  DefinitionChoice out;
  out.keep.assign(defs.size(), false);
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < defs.size(); ++i) groups[defs[i].key].push_back(i);
  auto better = [&](const Definition& a, const Definition& b) {
    if (a.followed != b.followed) return a.followed;
    return includes(a, b) && !includes(b, a);
  };
  for (const auto& [key, idx] : groups) {
    size_t best = idx.front();
    for (size_t i : idx) {
      if (better(defs[i], defs[best])) best = i;
    }
    out.keep[best] = true;
    const Definition& w = defs[best];
    for (size_t i : idx) {
      const Definition& o = defs[i];
      if (i == best || o.digest == w.digest || better(w, o)) continue;
      out.notes.push_back("HelmRelease " + key + " is declared more than once with different specs (" + w.file +
                          " under '" + w.root + "' and " + o.file + " under '" + o.root +
                          "'); Flux would refuse the duplicate or apply whichever ran last; this preview shows the one under '" +
                          w.root + "'");
    }
  }
  return out;
}

}  // namespace helmgate::release
