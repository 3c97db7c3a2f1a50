#pragma once
// Runs blocking queue calls (job lookups, listings, stats) on a small pool of their own threads and
// connections, so the HTTP I/O threads never wait on Redis.
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "queue/queue.hpp"

namespace helmgate::handlers {

class QueueRunner {
 public:
  QueueRunner(queue::RedisUrl url, queue::Options opts, int threads = 2);
  ~QueueRunner();
  // fn runs on a pool thread with a connection of its own.
  void post(std::function<void(queue::Queue&)> fn);

 private:
  std::unique_ptr<queue::Queue> borrow();
  void give_back(std::unique_ptr<queue::Queue> q);

  queue::RedisUrl url_;
  queue::Options opts_;
  boost::asio::thread_pool pool_;
  std::mutex mu_;
  std::vector<std::unique_ptr<queue::Queue>> idle_;
};

}  // namespace helmgate::handlers
