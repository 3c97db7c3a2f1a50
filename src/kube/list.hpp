#pragma once
// Listing objects of one resource type, page by page (limit/continue), so that a cluster with thousands
// of objects is read with bounded memory: each page is parsed, handed item by item to the caller, and
// dropped before the next one is read. Used by the fleet pieces (Helm's release records, the inventory).
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "kube/client.hpp"

namespace helmgate::kube {

struct ListRequest {
  // The collection's path without namespace: "/api/v1/secrets", "/apis/apps/v1/deployments".
  std::string group_version_path;  // "/api/v1" or "/apis/apps/v1"
  std::string plural;              // "secrets"
  std::string namespace_;          // empty: every namespace
  std::string label_selector;      // "owner=helm"
  std::string field_selector;      // "type=helm.sh/release.v1"
  size_t page_size = 250;
  size_t max_items = 200'000;      // past this the list fails (a runaway cluster, not a fleet)
  std::string describe() const;    // "secrets in namespace x (owner=helm)"
};

// The request target of one page ("continue" token empty for the first).
std::string list_target(const ListRequest& req, const std::string& continue_token);

// Calls `each` for every item of every page, in the server's order. A failure of `each` stops the list
// and is returned. Errors name the cluster, the collection and the server's answer. pages (when given)
// counts the requests made.
core::Result<void> list_objects(Client& client, const ListRequest& req,
                                const std::function<core::Result<void>(const core::json::Value& item)>& each,
                                size_t* pages = nullptr);

// Small helpers over an item.
std::string str_at(const core::json::Value& v, std::string_view dotted);
int64_t int_at(const core::json::Value& v, std::string_view dotted, int64_t def = 0);
// A string map (labels, annotations) member; "" when absent.
std::string map_value(const core::json::Value& v, std::string_view dotted_map, const std::string& key);

}  // namespace helmgate::kube
