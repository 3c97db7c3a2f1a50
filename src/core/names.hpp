#pragma once
// One gate for identifiers that come from a repository, a PR or a comment (release names, namespaces,
// object kinds/apiVersions/names, chart names, paths and versions, ConfigMap/Secret keys, cluster
// names). Each check answers "" when the value is acceptable, otherwise the rule it breaks and how, e.g.
// "must be a DNS-1123 label (at most 63 characters of a-z, 0-9 and '-', starting and ending with a letter
// or digit): it starts with '-'". Callers prefix the field and the value (shown()) and turn it into a
// finding with file and line. Nothing accepted here splits a request line (no control characters), and
// nothing that reaches helm or kubectl argv can be taken for an option (those checks refuse a leading '-').
// Two checks follow Kubernetes and accept a leading '-' because their values never reach argv:
// object_name (percent-encoded into API paths only) and data_key (a lookup in a data map only).
#include <string>
#include <string_view>

namespace helmgate::core::names {

// Kubernetes: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters (namespaces, Service names).
std::string dns1123_label(std::string_view v);
// Kubernetes: dot-separated DNS-1123 labels, at most 253 characters (most object names).
std::string dns1123_subdomain(std::string_view v);
// Helm 3/4 release names: a DNS-1123 subdomain of at most 53 characters.
std::string helm_release_name(std::string_view v);
// A namespace: a DNS-1123 label.
std::string namespace_name(std::string_view v);
// An object kind: [A-Za-z][A-Za-z0-9]*, at most 63 characters.
std::string kind(std::string_view v);
// apiVersion: "<version>" or "<group>/<version>"; group a DNS-1123 subdomain, version a DNS-1123 label.
std::string api_version(std::string_view v);
// A ConfigMap/Secret data key (valuesKey): [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..".
std::string data_key(std::string_view v);
// A chart name in a chart repository: [A-Za-z0-9][A-Za-z0-9._-]*, at most 250 characters.
std::string chart_name(std::string_view v);
// A path inside the repository (chart directory, chartFileRef): relative, no ".." segment, no segment
// starting with '-', no control characters, no backslash, at most 4096 characters.
std::string repo_path(std::string_view v);
// A chart version, version constraint or Git ref: no leading '-', no control characters, at most 256
// characters (spaces are allowed: ">=1.0.0 <2.0.0" is a constraint).
std::string chart_version(std::string_view v);
// The name of a rendered object as it reaches the API server: for Namespaces a DNS-1123 label, for
// anything else a path segment (printable ASCII without space, '/', '%', not "." or "..", at most 253
// characters; RBAC names such as "system:aggregate-to-edit" are fine).
std::string object_name(std::string_view kind, std::string_view v);
// A cluster name in configuration or in a comment command: [A-Za-z0-9][A-Za-z0-9._-]*, at most 63.
std::string cluster_name(std::string_view v);
// Kubernetes identities helmgate acts as (Impersonate-User / Impersonate-Group, helm's --kube-as-user /
// --kube-as-group), from configuration or from Git. A user is "system:serviceaccount:<namespace>:<name>"
// (namespace a DNS-1123 label, name a DNS-1123 subdomain) or a plain user name; a group a plain name or
// "system:serviceaccounts[:<namespace>]". Plain names: [A-Za-z0-9][A-Za-z0-9._@:/+=-]*, at most 253
// characters, not starting with "system:" (Kubernetes' own identities, system:masters above all, are never
// a tenant's).
std::string impersonation_user(std::string_view v);
std::string impersonation_group(std::string_view v);
// "system:serviceaccount:<namespace>:<name>": how Kubernetes (and Flux's serviceAccountName) names a
// service account as a user.
std::string service_account_user(std::string_view namespace_, std::string_view name);

// Any byte 0x00-0x1f or 0x7f.
bool has_control_chars(std::string_view v);
// A value made safe to quote in a message: in double quotes, control characters and non-ASCII bytes as
// \n, \r, \t or \xNN, backslash and quote escaped, cut after 80 characters ("..." appended).
std::string shown(std::string_view v);

}  // namespace helmgate::core::names

namespace helmgate::core::names {

// Second line for request targets. Percent-encodes one URL path segment: everything but RFC 3986's
// unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX.
std::string path_segment(std::string_view v);
// "" when v may be written as an HTTP request target or header value; otherwise why not (a control
// character, or for a target a space, would end the line and start another request or header).
std::string request_target_problem(std::string_view target);
std::string header_value_problem(std::string_view value);

}  // namespace helmgate::core::names
