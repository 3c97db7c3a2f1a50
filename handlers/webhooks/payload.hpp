#pragma once
// Building blocks of the webhook payload parsers: field access that remembers the first missing or
// mistyped field, and the sections of the payload shape GitHub defined and Gitea (like Gogs and Forgejo)
// follows. A forge with another shape writes its own readers in its own file with Fields.
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/json_select.hpp"
#include "handlers/webhooks/forges.hpp"

namespace helmgate::handlers::webhooks {

// Every path a forge's parse function may read, for the payload's one selective read (core::json::select).
const core::json::PathSet& payload_paths();

// Reads the values selected from a payload at payload_paths(); a path outside them is a mistake in this
// code, reported as the field's error ("internal: ...") so that the corpus tests find it.
class Fields {
 public:
  explicit Fields(const core::json::Selection& selection) : selection_(selection) {}

  // The payload was read without encoding checks (the hot path); each kept string is checked here.
  std::string required_string(std::string_view path);
  std::string optional_string(std::string_view path);
  int64_t required_int(std::string_view path);
  bool optional_bool(std::string_view path);
  bool has_object(std::string_view path);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const core::json::Selected* at(std::string_view path);
  std::string checked(std::string_view path, const core::json::Selected* v);
  void note(std::string_view path, const char* type);
  const core::json::Selection& selection_;
  std::string error_;
};

// GitHub-shaped sections; each sets ev.kind.
void read_ping(Fields& f, core::Event& ev);
void read_push(Fields& f, core::Event& ev);          // ref_deleted from "deleted" or an all-zero "after"
void read_pull_request(Fields& f, core::Event& ev);  // action required, as the forge spells it
void read_comment(Fields& f, core::Event& ev);       // comment_on_pull from issue.pull_request
void read_other(Fields& f, core::Event& ev);         // EventKind::other, the repository name if any

// The table's entries, one file each.
WebhookForge github_webhook();
WebhookForge gitea_webhook();

}  // namespace helmgate::handlers::webhooks
