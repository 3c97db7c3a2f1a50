#include "engine/volatile_verdict.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "core/files.hpp"
#include "core/gzip.hpp"
#include "core/redact.hpp"

namespace helmgate::engine {

namespace {

// Compares the two renders of one request; stores and returns the verdict (nullopt: not settled).
std::optional<diff::Volatility> settle(render::Renderer& renderer, const std::string& key, const std::string& first,
                                       const core::Result<render::RenderResult>& second) {
  if (!second) return std::nullopt;
  // Only paths are kept: the process's own marker key is fine for Secret data here.
  auto v = diff::find_volatile(first, second->manifest, diff::ParseOptions{});
  if (!v) return std::nullopt;
  renderer.store_verdict(key, v->serialize());
  return *v;
}

// Template functions whose result differs from one render of identical inputs to the next (sprig's
// random, crypto and clock functions). `lookup` is not among them: `helm template` answers it with
// nothing, every time.
bool varying_function(std::string_view token) {
  static const std::set<std::string, std::less<>> kNames = {
      "randAlphaNum", "randAlpha", "randNumeric", "randAscii", "randInt", "randBytes", "uuidv4",
      "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert",
      "genSignedCertWithKey", "now", "htpasswd", "bcrypt", "encryptAES", "getHostByName", "shuffle"};
  return kNames.count(token) != 0;
}

bool names_varying_function(std::string_view text) {
  size_t i = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  while (i < text.size()) {
    while (i < text.size() && !ident(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && ident(text[i])) ++i;
    if (i > start && varying_function(text.substr(start, i - start))) return true;
  }
  return false;
}

// A template file holding one document that is a test hook: `helm template --skip-tests` leaves it out.
bool test_hook_only(const std::string& text) {
  static const std::regex kHook(R"re(["']?helm\.sh/hook["']?\s*:\s*["']?test)re");
  static const std::regex kSeparator(R"(\n---)");
  return std::regex_search(text, kHook) && !std::regex_search(text, kSeparator);
}

// Whether a chart directory could render differently from identical inputs: a file calls one of those
// functions (outside test hooks and Markdown), or the chart vendors a dependency as an archive, which this
// scan does not open. Cached per directory: materialized trees are named by their content.
bool chart_dir_may_vary(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, bool> seen;
  {
    std::lock_guard lk(mu);
    if (auto it = seen.find(dir); it != seen.end()) return it->second;
  }
  namespace fs = std::filesystem;
  bool vary = false;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !vary && !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto ext = it->path().extension().string();
    if (ext == ".md") continue;
    if (ext == ".tgz" || ext == ".gz") {
      vary = true;
      break;
    }
    const auto read = core::read_file(it->path().string());
    if (!read) {
      vary = true;  // unreadable: assume the worst
      break;
    }
    const std::string& text = *read;
    if (!names_varying_function(text)) continue;
    vary = !test_hook_only(text);
  }
  if (ec) vary = true;  // unreadable: assume the worst, a second render settles it
  std::lock_guard lk(mu);
  seen.emplace(dir, vary);
  return vary;
}

// Whether a pulled chart archive (a tar inside gzip) could render differently: the same scan as a chart
// directory over its files. A nested archive (a vendored dependency, known by its gzip bytes whatever its
// name), a member the walk cannot read, or an archive that does not unpack counts as varying. Cached per
// archive digest (a version range may pull other content to the same path).
bool chart_archive_may_vary(const std::string& path, const std::string& digest) {
  static std::mutex mu;
  static std::map<std::string, bool> seen;
  {
    std::lock_guard lk(mu);
    if (auto it = seen.find(digest); it != seen.end()) return it->second;
  }
  const bool vary = [&] {
    // Bounded like the chart archives helm itself accepts: a larger one (or a gzip bomb) is not read.
    constexpr size_t kMaxBytes = 64u << 20;
    const auto archive = core::read_file(path, kMaxBytes);
    if (!archive) return true;
    auto tar = core::gunzip_bounded(*archive, kMaxBytes, path, "the chart archive");
    if (!tar) return true;
    const std::string_view t = *tar;
    auto field = [](const char* p, size_t n) { return std::string(p, strnlen(p, n)); };
    bool name_known = true;  // false after a GNU long name or a pax header: the next member's name is elsewhere
    for (size_t off = 0; off + 512 <= t.size();) {
      const char* h = t.data() + off;
      if (std::all_of(h, h + 512, [](char c) { return c == '\0'; })) return false;  // the end of the archive
      size_t size = 0;
      for (const char* p = h + 124; p < h + 136 && *p != '\0' && *p != ' '; ++p) {
        if (*p < '0' || *p > '7') return true;
        size = size * 8 + static_cast<size_t>(*p - '0');
      }
      std::string name = field(h, 100);
      if (std::string_view(h + 257, 5) == "ustar" && h[345] != '\0') name = field(h + 345, 155) + "/" + name;
      const char type = h[156];
      off += 512;
      if (size > t.size() - off) return true;
      const std::string_view content = t.substr(off, size);
      off += (size + 511) / 512 * 512;
      if (type == 'L' || type == 'x' || type == 'g') {
        name_known = false;
        continue;
      }
      if (type != '0' && type != '\0') {
        name_known = true;
        continue;  // directories and links carry no text
      }
      const bool md = name_known && name.size() > 3 && name.compare(name.size() - 3, 3, ".md") == 0;
      name_known = true;
      if (core::starts_gzip(content)) return true;
      if (md || !names_varying_function(content)) continue;
      if (!test_hook_only(std::string(content))) return true;
    }
    return true;  // no end-of-archive blocks: not what helm pull writes
  }();
  std::lock_guard lk(mu);
  seen.emplace(digest, vary);
  return vary;
}

// Whether a second render of this request could differ from the first; values count because a chart may
// render them with `tpl`.
bool may_vary(render::Renderer& renderer, const render::RenderRequest& request) {
  if (names_varying_function(request.values_json)) return true;
  if (request.chart.origin == render::ChartOrigin::local_dir) return chart_dir_may_vary(request.chart.dir);
  auto archive = renderer.pulled_archive(request.chart);
  return !archive || archive->digest.empty() || chart_archive_may_vary(archive->path, archive->digest);
}

}  // namespace

std::optional<diff::Volatility> known_volatility(render::Renderer& renderer, const std::string& render_key) {
  if (render_key.empty()) return std::nullopt;
  std::string text = renderer.lookup_verdict(render_key);
  if (text.empty()) return std::nullopt;
  return diff::Volatility::parse(text);
}

size_t settle_volatility(render::Renderer& renderer, const std::vector<render::RenderRequest>& requests,
                         const std::vector<core::Result<render::RenderResult>>& results,
                         const std::vector<std::pair<size_t, size_t>>& pairs) {
  std::vector<size_t> jobs;
  for (const auto& [b, h] : pairs) {
    if (b >= results.size() || h >= results.size() || !results[b] || !results[h]) continue;
    if (results[b]->manifest == results[h]->manifest) continue;  // nothing differs: nothing to explain
    for (size_t j : {b, h}) {
      bool queued = std::any_of(jobs.begin(), jobs.end(), [&](size_t k) { return results[k]->key == results[j]->key; });
      if (queued || known_volatility(renderer, results[j]->key)) continue;
      // A chart that calls no random or clock function renders the same every time: its verdict is empty
      // without a second render (and known, so content that the other side made random is a change).
      if (may_vary(renderer, requests[j])) {
        jobs.push_back(j);
      } else {
        renderer.store_verdict(results[j]->key, diff::Volatility{}.serialize());
      }
    }
  }
  if (jobs.empty()) return 0;
  std::vector<render::RenderRequest> again;
  for (size_t j : jobs) {
    again.push_back(requests[j]);
    again.back().fresh = true;
  }
  auto second = renderer.render_all(again);
  for (size_t i = 0; i < jobs.size(); ++i) settle(renderer, results[jobs[i]]->key, results[jobs[i]]->manifest, second[i]);
  return jobs.size();
}

diff::Volatility diff_volatility(render::Renderer& renderer, const std::string& base_key, const std::string& head_key) {
  auto head = known_volatility(renderer, head_key);
  if (!head) return {};
  auto base = base_key == head_key ? head : known_volatility(renderer, base_key);
  return base ? head->intersect(*base) : *head;
}

void set_release_diff(diff::ReleaseReport& rr, const std::vector<diff::Resource>& base,
                      const std::vector<diff::Resource>& head, const diff::Volatility& v) {
  auto d = diff::diff_volatile(base, head, v);
  rr.resources = std::move(d.changes);
  rr.volatiles = std::move(d.volatiles);
  if (rr.resources.empty() && !rr.volatiles.empty() && rr.errors.empty() && rr.status == diff::ReleaseStatus::changed) {
    rr.status = diff::ReleaseStatus::unchanged;
  }
}

std::string release_digest(const std::string& release_name, const std::string& target_namespace,
                           const std::string& manifest, const std::string& values_json, const diff::Volatility& v) {
  const std::string values = "\nvalues:" + core::sha256_hex(values_json);
  if (!v.empty()) {
    diff::ParseOptions po;
    po.secret_key = "helmgate-release-digest-v1";  // the same in every process: digests are stored
    if (auto parsed = diff::parse_manifest(manifest, po); parsed) {
      auto masked = diff::mask_volatile(*parsed, v);
      std::sort(masked.begin(), masked.end(), [](const diff::Resource& a, const diff::Resource& b) {
        return a.key() != b.key() ? a.key() < b.key() : a.text < b.text;
      });
      std::string material = "helmgate-masked-v1\n" + release_name + "\n" + target_namespace + "\n";
      for (const auto& r : masked) material += r.key() + "\n" + r.text + "\n";
      return core::sha256_hex(material + values);
    }
  }
  return core::sha256_hex(release_name + "\n" + target_namespace + "\n" + manifest + values);
}

ApplyDigest apply_digest(render::Renderer& renderer, const render::RenderRequest& request,
                         const render::RenderResult& rendered, const std::string& release_name,
                         const std::string& target_namespace, const std::string& values_json,
                         const std::string& applied) {
  ApplyDigest out;
  auto v = known_volatility(renderer, rendered.key);
  out.digest =
      release_digest(release_name, target_namespace, rendered.manifest, values_json, v ? *v : diff::Volatility{});
  if (!v && out.digest != applied && may_vary(renderer, request)) {
    render::RenderRequest again = request;
    again.fresh = true;
    out.rendered_again = true;
    v = settle(renderer, rendered.key, rendered.manifest, renderer.render(again));
    if (v) out.digest = release_digest(release_name, target_namespace, rendered.manifest, values_json, *v);
  }
  out.masked = v && !v->empty();
  return out;
}

}  // namespace helmgate::engine
