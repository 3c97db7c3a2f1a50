#pragma once
// The preview comment as the forge takes it: the report's markdown split into parts of a size limit and
// scrubbed, extra sections (validation per cluster) packed after it, and links to the posted comment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "diff/normalize.hpp"
#include "diff/report.hpp"

namespace helmgate::runners {

// The report's markdown in parts of at most limit bytes (0: one part), each scrubbed with the redactor.
std::vector<std::string> markdown_parts(const diff::Report& report, size_t limit, const diff::Redactor& redactor);

// Markdown parts joined the way the CLI prints them (a marker line between comments).
std::string preview_join_markdown(const std::vector<std::string>& parts);

// Parts of at most limit bytes: the report's parts as they are, then each extra section (validation per
// cluster) appended to the last part when it fits, else in a new part; a section longer than a whole
// part is cut with a note (its fences and <details> closed) so no comment is ever refused.
std::vector<std::string> pack_parts(std::vector<std::string> parts, const std::vector<std::string>& sections,
                                    size_t limit);

// The web address of a comment, for the job's result and logs ("" when the forge kind is unknown).
std::string comment_url(const config::Forge* forge, const std::string& repo, int64_t pr, int64_t comment_id);

}  // namespace helmgate::runners
