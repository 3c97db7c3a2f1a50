// A worker process for the crash test: runs a Worker whose runner records each execution in Redis
// (SADD {crash}:done <id>, INCR {crash}:runs:<id>: one hash tag, so one Cluster slot) and exits cleanly on SIGTERM. The test SIGKILLs it.
//   queue_crash_worker <redis-url> <key-prefix> <concurrency> <visibility-ms> <worker-timeout-ms> <worker-id>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "queue/queue.hpp"

using namespace helmgate;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: %s <redis-url> <prefix> <concurrency> <visibility-ms> <worker-timeout-ms> <id>\n",
                 argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  auto url = queue::RedisUrl::parse(argv[1]);
  if (!url) {
    std::fprintf(stderr, "%s\n", url.error().message.c_str());
    return 2;
  }
  queue::Options opts;
  opts.key_prefix = argv[2];
  opts.visibility_timeout = std::chrono::milliseconds(std::stoi(argv[4]));
  opts.worker_timeout = std::chrono::milliseconds(std::stoi(argv[5]));
  opts.max_attempts = 20;
  opts.backoff_base = std::chrono::milliseconds(10);
  opts.backoff_max = std::chrono::milliseconds(100);

  // Block the signals before any thread starts so only sigwait below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  const queue::RedisUrl redis_url = url->for_prefix(opts.key_prefix);
  queue::RunnerTable runners;
  runners["crash"] = [redis_url](queue::JobContext& ctx) {
    thread_local queue::Redis redis(redis_url);
    thread_local std::mt19937 rng{std::random_device{}()};
    const std::string& id = ctx.job().id;
    auto r = redis.pipeline({{"SADD", "{crash}:done", id}, {"INCR", "{crash}:runs:" + id}});
    if (!r) return queue::RunOutcome::retry_later(r.error().message);
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
    return queue::RunOutcome::ok();
  };
  queue::Worker worker(redis_url, opts, queue::WorkerOptions{argv[6], std::stoi(argv[3])}, runners);
  worker.start();
  int sig = 0;
  sigwait(&set, &sig);
  worker.stop();
  worker.join();
  return 0;
}
