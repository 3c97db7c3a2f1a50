#pragma once
// Domain errors and an expected-style result for worker steps. I/O failures keep their
// std::error_code; domain failures use helmgate::core::errc so one table can map them to HTTP codes.
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace helmgate::core {

enum class errc {
  ok = 0,
  bad_request = 1,         // malformed input from a client (payload, query, spec)
  unauthorized,            // missing/bad signature or token
  forbidden,               // authenticated but not allowed
  not_found,
  conflict,                // state does not allow the operation (e.g. replay of a running job)
  payload_too_large,
  unsupported_media_type,
  unavailable,             // a dependency (Redis, forge, cluster) is down: retry later
  timeout,
  invalid_config,
  internal,
};

const std::error_category& helmgate_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), helmgate_category()}; }

// HTTP status for an error code; the one table mapping failures to answers.
int http_status_for(const std::error_code& ec) noexcept;

struct Error {
  std::error_code code;
  std::string message;  // says what failed, where, and what to do; never contains secrets

  Error() = default;
  Error(std::error_code c, std::string m) : code(c), message(std::move(m)) {}
  Error(errc c, std::string m) : code(make_error_code(c)), message(std::move(m)) {}
};

// Minimal expected<T, Error>.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error err) : v_(std::move(err)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace helmgate::core

template <>
struct std::is_error_code_enum<helmgate::core::errc> : std::true_type {};
