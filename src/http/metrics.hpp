#pragma once
// Prometheus text exposition (format 0.0.4): a writer, and the HTTP request metrics the server
// records itself. Other components add their families at scrape time through PromWriter.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helmgate::http {

class PromWriter {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels, double value);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class RequestMetrics {
 public:
  void observe(const std::string& route, unsigned status, double seconds);
  void write(PromWriter& w) const;

  // Connection-level events the server reports (Server::set_metrics).
  void connections_open(uint64_t n);
  void connection_rejected();                    // past server.max_connections: 503 and closed
  void accept_failed(const std::string& error);  // accept(2) failed (EMFILE, ENFILE, ...)

 private:
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  struct Hist {
    std::vector<uint64_t> counts = std::vector<uint64_t>(std::size(kBuckets) + 1, 0);
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_;
  std::map<std::string, Hist> durations_;
  uint64_t connections_open_ = 0;
  uint64_t connections_rejected_ = 0;
  std::map<std::string, uint64_t> accept_errors_;
};

}  // namespace helmgate::http
