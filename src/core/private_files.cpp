#include "core/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace helmgate::core {

namespace fs = std::filesystem;

bool ensure_private_dir(const std::string& dir) {
  if (dir.empty()) return false;
  fs::path p = fs::path(dir).lexically_normal();
  fs::path acc;
  for (const auto& part : p) {
    acc /= part;
    if (acc == acc.root_path()) continue;
    if (::mkdir(acc.c_str(), 0700) == 0) {
      ::chmod(acc.c_str(), 0700);  // the umask may have taken bits off: exactly 0700
    } else if (errno != EEXIST) {
      return false;
    }
  }
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  if ((st.st_mode & 07777) == 0700) return true;
  // Never narrow a shared directory (a cache dir set to /tmp by mistake): only our own, non-sticky ones.
  if (st.st_uid != ::geteuid() || (st.st_mode & S_ISVTX) != 0) return false;
  if (::chmod(p.c_str(), 0700) != 0) return false;
  return true;
}

bool write_private_file(const std::string& path, std::string_view data) {
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    if (!fs::is_directory(p.parent_path(), ec) && !ensure_private_dir(p.parent_path().string())) return false;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) ok = false;
  return ok;
}

}  // namespace helmgate::core
