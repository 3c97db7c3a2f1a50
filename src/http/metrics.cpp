#include "http/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace helmgate::http {
namespace {
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}
}  // namespace

void PromWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PromWriter::sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
                        double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escape_label(v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void RequestMetrics::observe(const std::string& route, unsigned status, double seconds) {
  std::lock_guard lock(mu_);
  const std::string& r = route.empty() ? std::string("unmatched") : route;
  ++requests_[{r, status}];
  auto& h = durations_[r];
  size_t i = 0;
  while (i < std::size(kBuckets) && seconds > kBuckets[i]) ++i;
  ++h.counts[i];
  h.sum += seconds;
  ++h.count;
}

void RequestMetrics::connections_open(uint64_t n) {
  std::lock_guard lock(mu_);
  connections_open_ = n;
}

void RequestMetrics::connection_rejected() {
  std::lock_guard lock(mu_);
  ++connections_rejected_;
}

void RequestMetrics::accept_failed(const std::string& error) {
  std::lock_guard lock(mu_);
  ++accept_errors_[error];
}

void RequestMetrics::write(PromWriter& w) const {
  std::lock_guard lock(mu_);
  w.family("helmgate_http_connections_open", "gauge", "HTTP connections open now.");
  w.sample("helmgate_http_connections_open", {}, static_cast<double>(connections_open_));
  w.family("helmgate_http_connections_rejected_total", "counter",
           "Connections answered 503 and closed because server.max_connections were open.");
  w.sample("helmgate_http_connections_rejected_total", {}, static_cast<double>(connections_rejected_));
  w.family("helmgate_http_accept_errors_total", "counter",
           "Failed accepts by error (descriptor or memory exhaustion make the server back off).");
  for (const auto& [error, n] : accept_errors_) {
    w.sample("helmgate_http_accept_errors_total", {{"error", error}}, static_cast<double>(n));
  }
  w.family("helmgate_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
  for (const auto& [key, n] : requests_) {
    w.sample("helmgate_http_requests_total", {{"route", key.first}, {"code", std::to_string(key.second)}},
             static_cast<double>(n));
  }
  w.family("helmgate_http_request_duration_seconds", "histogram", "Time from request header to response written.");
  for (const auto& [route, h] : durations_) {
    uint64_t cum = 0;
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      cum += h.counts[i];
      w.sample("helmgate_http_request_duration_seconds_bucket", {{"route", route}, {"le", format_value(kBuckets[i])}},
               static_cast<double>(cum));
    }
    w.sample("helmgate_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
             static_cast<double>(h.count));
    w.sample("helmgate_http_request_duration_seconds_sum", {{"route", route}}, h.sum);
    w.sample("helmgate_http_request_duration_seconds_count", {{"route", route}}, static_cast<double>(h.count));
  }
}

}  // namespace helmgate::http
