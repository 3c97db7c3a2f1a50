#include "forge/forge.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace helmgate::forge {

namespace {

constexpr std::string_view kMarkerPrefix = "<!-- helmgate:preview:";

// Keys end up inside an HTML comment: nothing that could close it or break the parse.
std::string clean_key(std::string_view key) {
  std::string out;
  for (char c : key) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' || c == ':' || c == '-';
    out += ok ? c : '_';
  }
  while (out.find("--") != std::string::npos) out.replace(out.find("--"), 2, "-_");
  return out.empty() ? "default" : out;
}

}  // namespace

bool same_login(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view to_string(ReviewState s) {
  switch (s) {
    case ReviewState::approved: return "approved";
    case ReviewState::changes_requested: return "changes_requested";
    case ReviewState::commented: return "commented";
    case ReviewState::dismissed: return "dismissed";
    case ReviewState::pending: return "pending";
    case ReviewState::other: return "other";
  }
  return "other";
}

ReviewState parse_review_state(std::string_view s) {
  if (s == "APPROVED") return ReviewState::approved;
  if (s == "CHANGES_REQUESTED" || s == "REQUEST_CHANGES") return ReviewState::changes_requested;
  if (s == "COMMENTED" || s == "COMMENT") return ReviewState::commented;
  if (s == "DISMISSED") return ReviewState::dismissed;
  if (s == "PENDING") return ReviewState::pending;
  return ReviewState::other;
}

core::Result<bool> ForgeClient::team_member(std::string_view org, std::string_view team, std::string_view) {
  return core::Error(core::errc::invalid_config, name() + ": cannot tell team membership (" + std::string(org) + "/" +
                                                     std::string(team) + "); name the team's users instead");
}

core::Result<PullRequestState> ForgeClient::pull_request_state(const RepoRef& repo, int64_t pr) {
  PullRequestState st;
  auto p = pull_request(repo, pr);
  if (!p) return p.error();
  st.pr = std::move(*p);
  auto r = reviews(repo, pr);
  if (!r) return r.error();
  st.reviews = std::move(*r);
  return st;
}

core::Result<RepoRef> RepoRef::parse(std::string_view full_name) {
  auto slash = full_name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == full_name.size() ||
      full_name.find('/', slash + 1) != std::string_view::npos) {
    return core::Error(core::errc::bad_request,
                       "repository '" + std::string(full_name) + "' is not of the form owner/name");
  }
  return RepoRef{std::string(full_name.substr(0, slash)), std::string(full_name.substr(slash + 1))};
}

std::string_view to_string(CommitState s) {
  switch (s) {
    case CommitState::pending: return "pending";
    case CommitState::success: return "success";
    case CommitState::failure: return "failure";
    case CommitState::error: return "error";
  }
  return "error";
}

std::string_view to_string(Permission p) {
  switch (p) {
    case Permission::none: return "none";
    case Permission::read: return "read";
    case Permission::write: return "write";
    case Permission::admin: return "admin";
  }
  return "none";
}

std::string_view to_string(Reaction r) {
  switch (r) {
    case Reaction::plus_one: return "+1";
    case Reaction::minus_one: return "-1";
    case Reaction::laugh: return "laugh";
    case Reaction::confused: return "confused";
    case Reaction::heart: return "heart";
    case Reaction::hooray: return "hooray";
    case Reaction::rocket: return "rocket";
    case Reaction::eyes: return "eyes";
  }
  return "eyes";
}

std::string part_marker(std::string_view key, size_t n, size_t m) {
  return std::string(kMarkerPrefix) + clean_key(key) + " part " + std::to_string(n) + "/" + std::to_string(m) + " -->";
}

std::optional<size_t> parse_part_marker(std::string_view body, std::string_view key) {
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r')) body.remove_prefix(1);
  std::string head = std::string(kMarkerPrefix) + clean_key(key) + " part ";
  if (body.substr(0, head.size()) != head) return std::nullopt;
  body.remove_prefix(head.size());
  size_t n = 0, digits = 0;
  while (digits < body.size() && digits < 6 && std::isdigit(static_cast<unsigned char>(body[digits]))) {
    n = n * 10 + static_cast<size_t>(body[digits] - '0');
    ++digits;
  }
  if (digits == 0 || n == 0 || digits >= body.size() || body[digits] != '/') return std::nullopt;
  return n;
}

UpsertPlan plan_upsert(const std::vector<Comment>& existing, std::string_view key, const std::vector<std::string>& bodies,
                       std::string_view self) {
  std::map<size_t, std::vector<const Comment*>> by_part;
  for (const auto& c : existing) {
    if (self.empty() || !same_login(c.author, self)) continue;  // not ours, whatever it carries
    if (auto n = parse_part_marker(c.body, key)) by_part[*n].push_back(&c);
  }
  UpsertPlan plan;
  for (auto& [n, list] : by_part) {
    std::sort(list.begin(), list.end(), [](const Comment* a, const Comment* b) { return a->id < b->id; });
  }
  for (size_t n = 1; n <= bodies.size(); ++n) {
    auto it = by_part.find(n);
    if (it == by_part.end()) {
      plan.create.push_back(n);
      continue;
    }
    // The oldest keeps its place in the conversation; later copies come from an interrupted run.
    const Comment* slot = it->second.front();
    (slot->body == bodies[n - 1] ? plan.keep : plan.edit).push_back({n, slot->id});
    for (size_t i = 1; i < it->second.size(); ++i) plan.remove.push_back(it->second[i]->id);
  }
  for (const auto& [n, list] : by_part) {
    if (n <= bodies.size()) continue;
    for (const auto* c : list) plan.remove.push_back(c->id);
  }
  return plan;
}

core::Result<UpsertResult> ForgeClient::upsert_comment(const RepoRef& repo, int64_t pr, std::string_view marker_key,
                                                       std::vector<std::string> parts) {
  const std::string where = name() + ": preview comment '" + std::string(marker_key) + "' on " + repo.full_name() +
                            "#" + std::to_string(pr);
  std::vector<std::string> bodies;
  bodies.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() > part_limit()) {
      return core::Error(core::errc::payload_too_large,
                         where + ": part " + std::to_string(i + 1) + " has " + std::to_string(parts[i].size()) +
                             " bytes, more than the " + std::to_string(part_limit()) +
                             " this forge allows per part; split the report at part_limit()");
    }
    bodies.push_back(part_marker(marker_key, i + 1, parts.size()) + "\n" + parts[i]);
  }
  auto self = self_login();
  if (!self) return core::Error(self.error().code, where + ": who we post as is unknown: " + self.error().message);
  auto existing = list_comments(repo, pr);
  if (!existing) return existing.error();
  auto plan = plan_upsert(*existing, marker_key, bodies, *self);

  UpsertResult out;
  out.comment_ids.assign(bodies.size(), 0);
  for (const auto& k : plan.keep) out.comment_ids[k.part - 1] = k.comment_id;
  out.unchanged = static_cast<int>(plan.keep.size());
  std::map<size_t, int64_t> edits;
  for (const auto& e : plan.edit) edits[e.part] = e.comment_id;
  // Parts in order, so newly created ones follow each other in the conversation.
  for (size_t n = 1; n <= bodies.size(); ++n) {
    if (auto it = edits.find(n); it != edits.end()) {
      auto r = edit_comment(repo, it->second, bodies[n - 1]);
      if (!r) return r.error();
      out.comment_ids[n - 1] = it->second;
      ++out.updated;
    } else if (std::find(plan.create.begin(), plan.create.end(), n) != plan.create.end()) {
      auto c = create_comment(repo, pr, bodies[n - 1]);
      if (!c) return c.error();
      out.comment_ids[n - 1] = c->id;
      ++out.created;
    }
  }
  for (int64_t id : plan.remove) {
    auto r = delete_comment(repo, id);
    // Someone (or a concurrent run) deleted it already: the goal is reached.
    if (!r && r.error().code != core::make_error_code(core::errc::not_found)) return r.error();
    ++out.deleted;
  }
  return out;
}

std::string one_line(std::string_view text, size_t max) {
  std::string s(text.substr(0, text.find_first_of("\r\n")));
  if (s.size() <= max && s.size() == text.size()) return s;
  const std::string ellipsis = "\xE2\x80\xA6";
  if (s.size() + ellipsis.size() > max) {
    size_t cut = max >= ellipsis.size() ? max - ellipsis.size() : 0;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    s.resize(cut);
  }
  return s + ellipsis;
}

}  // namespace helmgate::forge
