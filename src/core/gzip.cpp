#include "core/gzip.hpp"

#include <zlib.h>

#include <memory>

namespace helmgate::core {

Result<std::string> gunzip_bounded(std::string_view gz, size_t max_out, const std::string& where,
                                   const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Error(errc::internal, where + ": zlib could not start");
  const std::unique_ptr<z_stream, int (*)(z_stream*)> end(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  auto cannot = [&](const std::string& why) {
    return Error(errc::bad_request, where + ": cannot gunzip " + what + ": " + why);
  };
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return cannot(rc == Z_BUF_ERROR ? "the gzip data is truncated" : zs.msg != nullptr ? zs.msg : "corrupt gzip data");
    }
    size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > max_out) {
      return Error(errc::payload_too_large, where + ": " + what + " inflates to more than " +
                                                std::to_string(max_out >> 20) + " MiB (from " +
                                                std::to_string(gz.size()) + " compressed bytes); not read");
    }
    out.append(buf, got);
    if (rc == Z_OK && got == 0 && zs.avail_in == 0) return cannot("the gzip data is truncated");
  }
  return out;
}

}  // namespace helmgate::core
