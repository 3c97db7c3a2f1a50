#pragma once
// A local preview request as the tests make it: repository, base and head, a cache directory of the
// test's own, helm and kubectl from the test environment, and the formats to produce.
#include <string>
#include <vector>

#include "runners/preview_pipeline.hpp"
#include "support/support.hpp"

namespace helmgate::test {

inline runners::PreviewRequest preview_request(const std::string& repo, const std::string& base, const std::string& head,
                                               const std::string& cache_dir, std::vector<runners::PreviewFormat> formats) {
  runners::PreviewRequest req;
  req.repo = repo;
  req.base = base;
  req.head = head;
  req.cache_dir = cache_dir;
  req.helm = require_env("HELMGATE_HELM");
  req.kubectl = require_env("HELMGATE_KUBECTL");
  req.formats = std::move(formats);
  return req;
}

}  // namespace helmgate::test
