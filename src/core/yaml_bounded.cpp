#include "core/yaml_bounded.hpp"

#include <fstream>
#include <istream>
#include <limits>
#include <streambuf>
#include <system_error>
#include <filesystem>

namespace helmgate::core {

namespace yaml {

namespace {

// An istream over text that is not copied.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());
    setg(p, p, p + s.size());
  }
};

class ViewStream : public std::istream {
 public:
  explicit ViewStream(std::string_view s) : std::istream(nullptr), buf_(s) { rdbuf(&buf_); }

 private:
  ViewBuf buf_;
};

// Counts what loading would build, aliases expanded, and stops at the first limit crossed.
class Meter : public YAML::EventHandler {
 public:
  explicit Meter(const YamlLimits& l) : lim_(l) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > lim_.max_documents) {
      fail(mark, "more than " + with_commas(lim_.max_documents) + " YAML documents in one file", "max_documents");
    }
    anchors_.clear();  // anchors are per document
    anchor_bytes_.clear();
    names_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    leaf(mark, anchor, value.size());
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || anchors_[anchor] == 0) return;  // unknown: the parser reports it
    if (anchors_[anchor] == kOpen) {
      fail(mark, "YAML alias *" + name(anchor) + " refers to a node that contains it (a recursive alias)", "");
    }
    add(mark, anchors_[anchor], anchor_bytes_[anchor], true);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

  void OnAnchor(const YAML::Mark&, const std::string& anchor_name) override { pending_name_ = anchor_name; }

 private:
  static constexpr uint64_t kOpen = std::numeric_limits<uint64_t>::max();

  struct Frame {
    YAML::anchor_t anchor;
    uint64_t start;        // total_ before this node
    uint64_t start_bytes;  // bytes_ before this node
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what, const char* key) const {
    std::string msg = what;
    if (*key != '\0') msg += " (" + lim_.key + "_" + key + ")";
    throw LimitExceeded(mark, msg);
  }

  std::string name(YAML::anchor_t a) const {
    return a < names_.size() && !names_[a].empty() ? names_[a] : std::to_string(a);
  }

  void remember(YAML::anchor_t anchor, uint64_t value, uint64_t bytes) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= anchors_.size()) {
      anchors_.resize(anchor + 1, 0);
      anchor_bytes_.resize(anchor + 1, 0);
      names_.resize(anchor + 1);
    }
    anchors_[anchor] = value;
    anchor_bytes_[anchor] = bytes;
    if (!pending_name_.empty()) names_[anchor] = std::move(pending_name_);
    pending_name_.clear();
  }

  // Nodes and scalar bytes, aliases expanded: a few aliases of one long scalar are few nodes but as
  // many copies of the text once merged or printed, so the expanded text is bounded too.
  void add(const YAML::Mark& mark, uint64_t n, uint64_t bytes, bool alias) {
    total_ += n;  // cannot overflow: both terms are at most the limit here
    bytes_ += bytes;
    if (total_ > lim_.max_nodes) {
      fail(mark,
           alias ? "YAML alias expansion exceeds " + with_commas(lim_.max_nodes) + " nodes"
                 : "YAML has more than " + with_commas(lim_.max_nodes) + " nodes",
           "max_nodes");
    }
    if (bytes_ > lim_.max_bytes) {
      fail(mark, "YAML alias expansion exceeds " + with_commas(lim_.max_bytes) + " bytes of text", "max_bytes");
    }
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, uint64_t bytes) {
    add(mark, 1, bytes, false);
    remember(anchor, 1, bytes);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() + 1 > lim_.max_depth) {
      fail(mark, "YAML nests deeper than " + with_commas(lim_.max_depth) + " levels", "max_depth");
    }
    add(mark, 1, 0, false);
    remember(anchor, kOpen, 0);
    stack_.push_back({anchor, total_ - 1, bytes_});
  }

  void close() {
    if (stack_.empty()) return;
    Frame f = stack_.back();
    stack_.pop_back();
    if (f.anchor != YAML::NullAnchor && f.anchor < anchors_.size()) {
      anchors_[f.anchor] = total_ - f.start;
      anchor_bytes_[f.anchor] = bytes_ - f.start_bytes;
    }
  }

  const YamlLimits& lim_;
  uint64_t documents_ = 0;
  uint64_t total_ = 0;
  uint64_t bytes_ = 0;
  std::vector<Frame> stack_;
  std::vector<uint64_t> anchors_;  // expanded size by anchor id; 0 unknown, kOpen while being parsed
  std::vector<uint64_t> anchor_bytes_;  // expanded scalar bytes by anchor id
  std::vector<std::string> names_;
  std::string pending_name_;
};

void check_size(std::string_view text, const YamlLimits& l) {
  if (text.size() > l.max_bytes) {
    throw LimitExceeded(YAML::Mark::null_mark(), "YAML text is " + with_commas(text.size()) +
                                                     " bytes, over the limit of " + with_commas(l.max_bytes) +
                                                     " (" + l.key + "_max_bytes)");
  }
}

const YamlLimits& pick(const Limits& all, Source s) { return s == Source::rendered ? all.rendered : all.yaml; }

}  // namespace

void check(std::string_view text, const YamlLimits& limits) {
  check_size(text, limits);
  ViewStream in(text);
  YAML::Parser parser(in);
  Meter meter(limits);
  while (parser.HandleNextDocument(meter)) {
  }
}

std::vector<YAML::Node> load_all(std::string_view text, const YamlLimits& limits) {
  check(text, limits);
  ViewStream in(text);
  return YAML::LoadAll(in);
}

YAML::Node load(std::string_view text, const YamlLimits& limits) {
  // Every document is measured, although YAML::Load keeps the first only.
  check(text, limits);
  ViewStream in(text);
  return YAML::Load(in);
}

std::vector<YAML::Node> load_all(std::string_view text, Source source) {
  return load_all(text, pick(core::limits(), source));
}

YAML::Node load(std::string_view text, Source source) { return load(text, pick(core::limits(), source)); }

YAML::Node load_file(const std::string& path, Source source) {
  const Limits all = core::limits();
  const YamlLimits& l = pick(all, source);
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw YAML::BadFile(path);
  if (size > l.max_bytes) {
    throw LimitExceeded(YAML::Mark::null_mark(), "YAML file is " + with_commas(size) + " bytes, over the limit of " +
                                                     with_commas(l.max_bytes) + " (" + l.key + "_max_bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw YAML::BadFile(path);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<size_t>(in.gcount()));
  return load(text, l);
}

}  // namespace yaml
}  // namespace helmgate::core
