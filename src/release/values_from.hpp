#pragma once
// Discovery, room (d): valuesFrom. Reads one ConfigMap or Secret key a HelmRelease names, from the objects
// the cluster declares, as Flux does: the data string as the API server holds it (every value a string),
// parsed by sigs.k8s.io/yaml and merged, or set at targetPath by Helm's strvals. Secret content is added
// to the release's sensitive values.
#include "release/documents.hpp"
#include "release/release.hpp"
#include "release/typed_json.hpp"

namespace helmgate::release {

// Merges vs into `merged` (spec_values first for a targetPath entry, as Flux's ChartValuesFromReferences
// does) and records it in r.values_from (found, content_id) and its file in r.inputs. Missing and not
// optional, not a string, or not a map of values: an error of r at `where` or at the object's file:line.
void add_values_source(Release& r, typed::Value& merged, const typed::Value& spec_values, ValuesSource vs,
                       const Location& where, const ObjectIndex& objects);

}  // namespace helmgate::release
