#include "http/ops_server.hpp"

#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <ostream>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace kernel::detail {

namespace {

using nlohmann::json;

/// httplib's ThreadPool queues without bound; this one blocks the acceptor when `max_queued`
/// connections wait, so a flood waits in the kernel's listen backlog instead of in memory.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> job) override {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_ || stopping_; });
    jobs_.push_back(std::move(job));
    lock.unlock();
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;  // stopping, and nothing left to serve
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      job();  // serves one connection and closes it (never throws: httplib catches)
    }
  }

  std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

void reply(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

/// SHA-256 of both sides, compared with CRYPTO_memcmp: the time taken says nothing about the
/// token, not even its length.
bool token_matches(std::string_view given, std::string_view expected) {
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int a_len = 0, b_len = 0;
  if (!EVP_Digest(given.data(), given.size(), a, &a_len, EVP_sha256(), nullptr) ||
      !EVP_Digest(expected.data(), expected.size(), b, &b_len, EVP_sha256(), nullptr) || a_len != b_len) {
    return false;
  }
  return CRYPTO_memcmp(a, b, a_len) == 0;
}

json pause_reasons(std::uint8_t bits) {
  // The bits of PauseReason (loop/kernel_loop.hpp).
  json reasons = json::array();
  if (bits & 1) reasons.push_back("retry");
  if (bits & 2) reasons.push_back("operator");
  if (bits & 4) reasons.push_back("breaker");
  if (bits & 8) reasons.push_back("backpressure");
  return reasons;
}

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::starting: return "starting";
    case Phase::ready: return "ready";
    case Phase::stopping: return "stopping";
  }
  return "starting";
}

/// Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, which would let a second kernel
/// bind the same port instead of failing.
void socket_options(socket_t socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

OpsServer::OpsServer(OpsServerOptions options, OpsState& state, KernelMetrics& metrics,
                     std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)),
      state_(state),
      metrics_(metrics),
      log_(std::move(logger)),
      server_(std::make_unique<httplib::Server>()) {}

OpsServer::~OpsServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void OpsServer::start() {
  const auto threads = options_.threads;
  server_->new_task_queue = [threads] { return new BoundedPool(threads, 64); };
  server_->set_socket_options(socket_options);
  server_->set_read_timeout(options_.io_timeout);
  server_->set_write_timeout(options_.io_timeout);
  server_->set_keep_alive_timeout(options_.io_timeout.count());
  server_->set_keep_alive_max_count(100);
  server_->set_payload_max_length(64 * 1024);  // admin requests carry no body
  route();

  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else if (server_->bind_to_port(options_.host.c_str(), options_.port)) {
    port_ = options_.port;
  }
  if (port_ <= 0) {
    throw PortUnavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                          " for health, metrics and admin (in use?); set KERNEL_HTTP_PORT to a free port, "
                          "0 for any, or off");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() does nothing until the server runs: wait for it, so a quick stop after
  // start cannot be lost (and the port answers once start() returns).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  log_->info("health, metrics and admin on http://{}:{} (/healthz, /readyz, /metrics, /admin/status){}",
             options_.host, port_,
             options_.admin_token.empty() ? "; admin pause/resume off: KERNEL_ADMIN_TOKEN is unset" : "");
}

void OpsServer::route() {
  auto& server = *server_;

  server.Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(state_.since_heartbeat());
    const bool alive = since < options_.stall_after;
    reply(response, alive ? 200 : 503,
          {{"status", alive ? "alive" : "stalled"}, {"last_poll_ms_ago", since.count()},
           {"stalled_after_ms", options_.stall_after.count()}});
  });

  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    switch (state_.phase()) {
      case Phase::ready:
        reply(response, 200, {{"ready", true}, {"reason", "member of group " + options_.group_id}});
        return;
      case Phase::starting:
        reply(response, 503,
              {{"ready", false}, {"reason", "starting: not yet a member of group " + options_.group_id}});
        return;
      case Phase::stopping:
        reply(response, 503, {{"ready", false}, {"reason", "shutting down"}});
        return;
    }
  });

  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_.serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });

  server.Get("/admin/status", [this](const httplib::Request&, httplib::Response& response) {
    const auto status = state_.status();
    json partitions = json::array();
    for (const auto& p : status.partitions) {
      auto optional = [](std::int64_t value) { return value < 0 ? json(nullptr) : json(value); };
      partitions.push_back({{"topic", p.topic},
                            {"partition", p.partition},
                            {"position", optional(p.position)},
                            {"committed", optional(p.committed)},
                            {"low_watermark", optional(p.low_watermark)},
                            {"high_watermark", optional(p.high_watermark)},
                            {"lag", optional(p.lag)},
                            {"in_flight", p.in_flight},
                            {"paused", pause_reasons(p.paused)}});
    }
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(state_.since_heartbeat());
    reply(response, 200,
          {{"phase", phase_name(state_.phase())},
           {"group", options_.group_id},
           {"operator_paused", state_.operator_pause_wanted()},
           {"in_flight", status.in_flight},
           {"pending_outputs", status.pending_outputs},
           {"last_poll_ms_ago", since.count()},
           {"breaker", nullptr},  // no circuit breaker yet
           {"published_at_ms", status.published_at_ms},
           {"partitions", std::move(partitions)}});
  });

  auto admin = [this](bool pause) {
    return [this, pause](const httplib::Request& request, httplib::Response& response) {
      if (options_.admin_token.empty()) {
        reply(response, 403,
              {{"error", "admin endpoints are off: set KERNEL_ADMIN_TOKEN and send it as "
                         "'Authorization: Bearer <token>'"}});
        return;
      }
      const auto header = request.get_header_value("Authorization");
      constexpr std::string_view scheme = "Bearer ";
      if (header.size() <= scheme.size() || header.compare(0, scheme.size(), scheme) != 0 ||
          !token_matches(std::string_view(header).substr(scheme.size()), options_.admin_token)) {
        log_->warn("admin {} from {} refused: {}", pause ? "pause" : "resume", request.remote_addr,
                   header.empty() ? "no token" : "wrong token");
        response.set_header("WWW-Authenticate", "Bearer");
        reply(response, 401, {{"error", "missing or wrong bearer token"}});
        return;
      }
      log_->warn("admin {} requested from {}", pause ? "pause" : "resume", request.remote_addr);
      const auto generation = state_.request_operator_pause(pause);
      // Applied by the loop within one poll, unless a handler call is running long.
      const bool applied = state_.wait_applied(generation, std::chrono::seconds(5));
      reply(response, applied ? 200 : 202,
            {{"operator_paused", pause},
             {"applied", applied},
             {"note", applied ? "applied" : "requested; the loop applies it after the current handler call"}});
    };
  };
  server.Post("/admin/pause", admin(true));
  server.Post("/admin/resume", admin(false));
  auto post_only = [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Allow", "POST");
    reply(response, 405, {{"error", "use POST"}});
  };
  server.Get("/admin/pause", post_only);
  server.Get("/admin/resume", post_only);

  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!response.body.empty()) return;
    const char* what = response.status == 404 ? "not found" : response.status == 431 ? "headers too large" : "bad request";
    reply(response, response.status,
          {{"error", what}, {"path", request.path.size() > 200 ? request.path.substr(0, 200) : request.path}});
  });
  server.set_exception_handler([this](const httplib::Request& request, httplib::Response& response,
                                      std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log_->error("HTTP {} {}: {}", request.method, request.path, e.what());
    } catch (...) {
      log_->error("HTTP {} {}: unknown exception", request.method, request.path);
    }
    reply(response, 500, {{"error", "internal error"}});
  });
}

int health_check(int port, std::ostream& out) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  auto result = client.Get("/healthz");
  if (!result) {
    out << "unhealthy: nothing answers on 127.0.0.1:" << port << " (" << httplib::to_string(result.error()) << ")\n";
    return 1;
  }
  if (result->status == 200) {
    out << "healthy: " << result->body << "\n";
    return 0;
  }
  out << "unhealthy: HTTP " << result->status << " " << result->body << "\n";
  return 1;
}

}  // namespace kernel::detail
