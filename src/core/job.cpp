#include "core/job.hpp"

#include "core/json.hpp"
#include "core/redact.hpp"

namespace helmgate::core {

std::string JobSpec::coalesce_key() const {
  if (kind != kind::preview || pr == 0) return {};
  return "preview:" + forge + "/" + repo + "#" + std::to_string(pr);
}

std::string JobSpec::to_json() const {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::kv(w, "kind", kind);
  json::kv(w, "forge", forge);
  json::kv(w, "repo", repo);
  // Never a credential in a stored job, whatever filled the field.
  if (!clone_url.empty()) json::kv(w, "clone_url", strip_userinfo(clone_url));
  if (!delivery_id.empty()) json::kv(w, "delivery_id", delivery_id);
  if (!replay_of.empty()) json::kv(w, "replay_of", replay_of);
  if (pr != 0) json::kv(w, "pr", pr);
  if (!head_sha.empty()) json::kv(w, "head_sha", head_sha);
  if (!head_ref.empty()) json::kv(w, "head_ref", head_ref);
  if (!base_sha.empty()) json::kv(w, "base_sha", base_sha);
  if (!base_ref.empty()) json::kv(w, "base_ref", base_ref);
  if (!ref.empty()) json::kv(w, "ref", ref);
  if (!before.empty()) json::kv(w, "before", before);
  if (!after.empty()) json::kv(w, "after", after);
  if (!pinned_sha.empty()) json::kv(w, "pinned_sha", pinned_sha);
  if (!clusters.empty()) {
    json::write_str(w, "clusters");
    w.StartArray();
    for (const auto& c : clusters) json::write_str(w, c);
    w.EndArray();
  }
  if (!remediate.empty()) {
    json::write_str(w, "remediate");
    w.StartArray();
    for (const auto& r : remediate) json::write_str(w, r);
    w.EndArray();
  }
  if (!command.empty()) json::kv(w, "command", command);
  if (!author.empty()) json::kv(w, "author", author);
  if (comment_id != 0) json::kv(w, "comment_id", comment_id);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Result<JobSpec> JobSpec::from_json(std::string_view text) {
  json::Document doc;
  if (auto err = json::parse(doc, text)) return Error(errc::bad_request, "job spec: " + *err);
  if (!doc.IsObject()) return Error(errc::bad_request, "job spec: not a JSON object");
  JobSpec s;
  auto str = [&](const char* key, std::string& out) {
    if (auto v = json::get_string(doc, key)) out = std::move(*v);
  };
  str("kind", s.kind);
  if (s.kind.empty()) return Error(errc::bad_request, "job spec: missing \"kind\"");
  str("forge", s.forge);
  str("repo", s.repo);
  str("clone_url", s.clone_url);
  s.clone_url = strip_userinfo(s.clone_url);
  str("delivery_id", s.delivery_id);
  str("replay_of", s.replay_of);
  s.pr = json::get_int(doc, "pr").value_or(0);
  str("head_sha", s.head_sha);
  str("head_ref", s.head_ref);
  str("base_sha", s.base_sha);
  str("base_ref", s.base_ref);
  str("ref", s.ref);
  str("before", s.before);
  str("after", s.after);
  str("pinned_sha", s.pinned_sha);
  if (const auto* cs = json::find(doc, "clusters"); cs != nullptr && cs->IsArray()) {
    for (const auto& c : cs->GetArray()) {
      if (!c.IsString()) return Error(errc::bad_request, "job spec: \"clusters\" must be a list of names");
      s.clusters.emplace_back(c.GetString(), c.GetStringLength());
    }
  }
  if (const auto* rs = json::find(doc, "remediate"); rs != nullptr && rs->IsArray()) {
    for (const auto& r : rs->GetArray()) {
      if (!r.IsString()) return Error(errc::bad_request, "job spec: \"remediate\" must be a list of release ids");
      s.remediate.emplace_back(r.GetString(), r.GetStringLength());
    }
  }
  str("command", s.command);
  str("author", s.author);
  s.comment_id = json::get_int(doc, "comment_id").value_or(0);
  return s;
}

bool is_terminal_state(std::string_view s) {
  return s == state::succeeded || s == state::dead || s == state::superseded;
}

}  // namespace helmgate::core
