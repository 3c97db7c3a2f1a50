#pragma once
// Flux's post-build variable substitution (kustomize-controller, spec.postBuild), as fluxcd/pkg's envsubst
// (a fork of drone/envsubst) does it. Forms:
//   ${var}            ${#var} (length in bytes)       ${var^} ${var^^} ${var,} ${var,,} (case)
//   ${var:n} ${var:n:len} (substring, bytes)          ${var#glob} ${var##glob} ${var%glob} ${var%%glob}
//   ${var=d} ${var:=d} ${var:-d} ${var:?d} ${var:+d}  (all: "d when the value is empty")
//   ${var/str/rep} ${var//str/rep} ${var/#str/rep} ${var/%str/rep} (literal strings, not globs)
//   $${x} is a literal ${x} and $$ a literal $; $var without braces is left alone.
// The defaults and arguments may themselves hold ${...}. Anything else after "${" (${var-d}, ${ var},
// ${var/a} without the second slash, an unclosed brace) is a parse error, and Flux then fails the
// whole Kustomization; so does, in strict mode (the StrictPostBuildSubstitutions feature gate, on by
// default since kustomize-controller v1.9), a variable that is not set and has no default operator.
// Not modelled: Unicode case mapping beyond ASCII (Go maps every letter; here non-ASCII stays as is).
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace helmgate::release::subst {

// The value of a variable, or nullopt when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

// One text. strict: a variable that is not set is an error unless its operator supplies a fallback
// (-, =, ?, + with or without ':'); otherwise it reads as "".
core::Result<std::string> envsubst(const std::string& text, const Lookup& lookup, bool strict);

// Variable names Flux accepts in substitute/substituteFrom: ^[_[:alpha:]][_[:alpha:][:digit:]]*$
bool valid_var_name(const std::string& name);

struct Options {
  bool strict = true;   // kustomize-controller's StrictPostBuildSubstitutions (default on since v1.9)
  bool always = false;  // spec.postBuild.substituteStrategy: Always
};

// kustomize-controller's SubstituteVariables over a multi-document YAML stream: invalid variable names
// are an error; newlines are removed from the values; nothing happens when there is no variable (unless
// `always`); a document labelled or annotated kustomize.toolkit.fluxcd.io/substitute: disabled is left
// alone. An error names the document (kind/name) and what failed.
core::Result<std::string> substitute_documents(const std::string& text, const std::map<std::string, std::string>& vars,
                                               const Options& options);

}  // namespace helmgate::release::subst
