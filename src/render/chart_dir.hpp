#pragma once
// A chart directory materialized from Git, before helm sees it: the gate for untrusted chart files and
// the content hash that names it in the render cache.
#include <string>

#include "core/error.hpp"

namespace helmgate::render {

// Refuses a chart directory holding a symlink, or naming a dependency path that leaves the chart
// directory (file://../x): chart files are untrusted input.
core::Result<void> check_chart_dir(const std::string& dir, const std::string& shown);

// A content hash of every file under dir (names + bytes); used when the caller has no Git tree id.
std::string hash_dir(const std::string& dir);

}  // namespace helmgate::render
