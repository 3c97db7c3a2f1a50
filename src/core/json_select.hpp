#pragma once
// A JSON reader for the webhook hot path that builds no document: it checks the syntax of the whole text
// (RFC 8259, as core::json's parser does without encoding checks) and keeps only the values found at a few
// dotted paths chosen beforehand. Everything else is skipped over at the speed of a string scan, so a
// payload of mostly URLs and shas costs a fraction of building its document.
//
// Differences from core::json::parse_bounded (without encoding checks): a NUL byte anywhere is an error (the
// document parser takes it for the end of the text), so is a byte order mark (which it skips; the webhook
// path's in-place parse refused it too), and numbers are checked for their syntax only (a number too large
// for a double is not refused where no field is read from it).
#include "core/json.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace helmgate::core::json {

// The dotted paths a reader wants ("pull_request.head.sha"), as a tree of member names; each path has a
// slot, its index in the list given.
class PathSet {
 public:
  PathSet(std::initializer_list<std::string_view> paths);
  size_t size() const { return size_; }
  // The slot of a path given at construction; nullopt for any other.
  std::optional<size_t> slot(std::string_view path) const;

 private:
  friend class SelectReader;
  struct Node {
    std::string name;
    std::vector<uint32_t> children;  // indexes into nodes_
    int32_t slot = -1;
  };
  std::vector<Node> nodes_;  // nodes_[0] is the root (the document itself)
  std::vector<std::string> paths_;
  size_t size_ = 0;
};

// What was found at one path. A member named twice keeps its first value, as the document's lookup does.
struct Selected {
  enum class Type : uint8_t { missing, null, boolean, number, string, array, object };
  Type type = Type::missing;
  bool boolean = false;
  bool is_int64 = false;  // a number without fraction or exponent that fits in int64
  int64_t int64 = 0;
  std::string string;  // escapes decoded; the bytes are not checked for UTF-8 (core::json::valid_utf8)
};

struct Selection {
  explicit Selection(const PathSet& p) : paths(&p), values(p.size()) {}
  explicit Selection(const PathSet&&) = delete;  // the set must outlive the selection
  const PathSet* paths;
  std::vector<Selected> values;  // by slot
  bool root_is_object = false;
  // The value at a path of the set; nullptr for a path not in it.
  const Selected* at(std::string_view path) const;
};

// Reads `text` whole, filling `out` (whose values must be fresh). Objects and arrays nest at most
// `max_depth` levels (at most 128: the reader recurses). Failure messages read as core::json's:
// "offset N: reason", or too_deep set.
std::optional<ParseFailure> select(std::string_view text, Selection& out, unsigned max_depth);

}  // namespace helmgate::core::json
