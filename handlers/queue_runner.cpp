#include "handlers/queue_runner.hpp"

#include <boost/asio/post.hpp>

namespace helmgate::handlers {

QueueRunner::QueueRunner(queue::RedisUrl url, queue::Options opts, int threads)
    : url_(std::move(url)), opts_(std::move(opts)), pool_(static_cast<size_t>(threads)) {}

QueueRunner::~QueueRunner() { pool_.join(); }

std::unique_ptr<queue::Queue> QueueRunner::borrow() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return std::make_unique<queue::Queue>(url_, opts_);
  auto q = std::move(idle_.back());
  idle_.pop_back();
  return q;
}

void QueueRunner::give_back(std::unique_ptr<queue::Queue> q) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(q));
}

void QueueRunner::post(std::function<void(queue::Queue&)> fn) {
  boost::asio::post(pool_, [this, fn = std::move(fn)] {
    auto q = borrow();
    fn(*q);
    give_back(std::move(q));
  });
}

}  // namespace helmgate::handlers
