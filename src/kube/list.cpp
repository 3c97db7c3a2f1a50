#include "kube/list.hpp"

#include "core/names.hpp"

namespace helmgate::kube {

std::string ListRequest::describe() const {
  std::string out = plural + (namespace_.empty() ? std::string(" in every namespace") : " in namespace " + namespace_);
  std::string sel = label_selector;
  if (!field_selector.empty()) sel += (sel.empty() ? "" : ",") + field_selector;
  return sel.empty() ? out : out + " (" + sel + ")";
}

std::string list_target(const ListRequest& req, const std::string& continue_token) {
  using core::names::path_segment;
  std::string t = req.group_version_path;
  if (!req.namespace_.empty()) t += "/namespaces/" + path_segment(req.namespace_);
  t += "/" + path_segment(req.plural) + "?limit=" + std::to_string(req.page_size == 0 ? 250 : req.page_size);
  if (!req.label_selector.empty()) t += "&labelSelector=" + path_segment(req.label_selector);
  if (!req.field_selector.empty()) t += "&fieldSelector=" + path_segment(req.field_selector);
  if (!continue_token.empty()) t += "&continue=" + path_segment(continue_token);
  return t;
}

core::Result<void> list_objects(Client& client, const ListRequest& req,
                                const std::function<core::Result<void>(const core::json::Value& item)>& each,
                                size_t* pages) {
  if (!req.namespace_.empty()) {
    if (auto why = core::names::namespace_name(req.namespace_); !why.empty()) {
      return core::Error(core::errc::bad_request,
                         "cluster " + client.cluster() + ": namespace " + core::names::shown(req.namespace_) + " " + why);
    }
  }
  std::string token;
  size_t seen = 0;
  for (int page = 0;; ++page) {
    auto r = client.request("GET", list_target(req, token));
    if (pages != nullptr) ++*pages;
    if (!r) return r.error();
    if (r->status != 200) {
      std::string msg = "cluster " + client.cluster() + ": list " + req.describe() + ": " + std::to_string(r->status);
      if (auto st = parse_status(r->body)) msg += " " + st->reason + (st->message.empty() ? "" : ": " + st->message);
      if (r->status == 403) msg += " (the identity in " + client.config().source + " may not list these)";
      return core::Error(errc_for_status(r->status), msg);
    }
    core::json::Document doc;
    if (auto bad = core::json::parse_unvalidated(doc, r->body); bad || !doc.IsObject()) {
      return core::Error(core::errc::internal, "cluster " + client.cluster() + ": list " + req.describe() +
                                                   ": the answer is not JSON" + (bad ? " (" + *bad + ")" : ""));
    }
    r->body.clear();
    r->body.shrink_to_fit();
    const auto* items = core::json::find(doc, "items");
    if (items != nullptr && items->IsArray()) {
      for (const auto& item : items->GetArray()) {
        if (++seen > req.max_items) {
          return core::Error(core::errc::payload_too_large, "cluster " + client.cluster() + ": list " + req.describe() +
                                                                ": more than " + std::to_string(req.max_items) + " objects");
        }
        if (!item.IsObject()) continue;
        if (auto ok = each(item); !ok) return ok.error();
      }
    }
    token = core::json::get_string(doc, "metadata.continue").value_or("");
    if (token.empty()) return {};
    if (page > 100'000) return core::Error(core::errc::internal, "cluster " + client.cluster() + ": list " + req.describe() + ": does not end");
  }
}

std::string str_at(const core::json::Value& v, std::string_view dotted) {
  return core::json::get_string(v, dotted).value_or("");
}

int64_t int_at(const core::json::Value& v, std::string_view dotted, int64_t def) {
  return core::json::get_int(v, dotted).value_or(def);
}

std::string map_value(const core::json::Value& v, std::string_view dotted_map, const std::string& key) {
  const auto* m = core::json::find(v, dotted_map);
  if (m == nullptr || !m->IsObject()) return {};
  auto it = m->FindMember(key.c_str());
  if (it == m->MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace helmgate::kube
