#include "core/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace helmgate::core {

std::optional<std::string> read_file(const std::string& path, size_t max_bytes) {
  max_bytes = std::min(max_bytes, size_t{1} << 40);  // max_bytes + 1 below stays a size
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) return std::nullopt;
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) return std::nullopt;
  std::string text;
  // One byte past the size read so far tells a file that grew apart from one that ended.
  text.resize(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() > max_bytes) return std::nullopt;
      text.resize(std::min(max_bytes + 1, text.size() * 2));
    }
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return std::nullopt;
  text.resize(got);
  return text;
}

}  // namespace helmgate::core
