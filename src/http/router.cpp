#include "http/router.hpp"

#include "core/json.hpp"

namespace helmgate::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view Context::path() const {
  std::string_view t = request.target();
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string Context::query(std::string_view key) const {
  std::string_view t = request.target();
  size_t q = t.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view qs = t.substr(q + 1);
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == key) {
      return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    qs = qs.substr(amp + 1);
  }
  return {};
}

std::string Context::header(std::string_view name) const {
  auto it = request.find(name);
  return it == request.end() ? std::string() : std::string(it->value());
}

void Router::add(beast_http::verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, split_path(pattern), std::move(handler)};
  routes_.push_back(std::move(r));
}

const Handler* Router::match(Context& ctx, unsigned* status) const {
  auto segs = split_path(ctx.path());
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = url_decode(segs[i]);
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method != ctx.request.method()) continue;
    ctx.params = std::move(params);
    ctx.route = r.pattern;
    return &r.handler;
  }
  *status = path_matched ? 405 : 404;
  return nullptr;
}

Response json_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
  Response res{static_cast<beast_http::status>(status), version};
  res.set(beast_http::field::content_type, "application/json");
  res.set(beast_http::field::server, "helmgate");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

Response error_response(unsigned status, std::string_view reason, unsigned version, bool keep_alive) {
  return json_response(status, "{\"error\":" + core::json::quote(reason) + "}", version, keep_alive);
}

Response text_response(unsigned status, std::string body, std::string_view content_type) {
  Response res{static_cast<beast_http::status>(status), 11};
  res.set(beast_http::field::content_type, content_type);
  res.set(beast_http::field::server, "helmgate");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string wire_text(const Response& res) {
  size_t size = 32 + res.body().size();
  for (const auto& f : res) size += f.name_string().size() + f.value().size() + 4;
  std::string out;
  out.reserve(size);
  out += "HTTP/";
  out += static_cast<char>('0' + res.version() / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + res.version() % 10);
  out += ' ';
  out += std::to_string(res.result_int());
  out += ' ';
  out += res.reason();
  out += "\r\n";
  for (const auto& f : res) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  out += res.body();
  return out;
}

}  // namespace helmgate::http
