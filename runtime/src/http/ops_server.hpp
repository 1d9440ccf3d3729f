#pragma once
// The kernel's one HTTP server (cpp-httplib, its own small thread pool): /healthz, /readyz,
// /metrics and the admin endpoints (docs/operations.md). It reads only what the loop
// publishes (OpsState, the metrics registry), so a scrape or a flood of bad requests never
// blocks message handling.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "metrics/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace httplib {
class Server;
}

namespace kernel::detail {

struct OpsServerOptions {
  std::string host = "0.0.0.0";   ///< probes come from outside the pod
  int port = 8080;                ///< 0 picks a free port
  std::string admin_token;        ///< empty: admin endpoints answer 403
  std::string group_id;           ///< for readiness reasons
  /// No loop iteration for this long means stalled (/healthz 503). The loop's iterations are
  /// bounded by a handler call, so this is max.poll.interval.ms: the point where the group
  /// would give the member up too.
  std::chrono::milliseconds stall_after{60000};
  std::size_t threads = 8;        ///< bounded pool; connections beyond wait in the backlog
  std::chrono::seconds io_timeout{2};  ///< per read and write: slow clients are dropped
};

/// The port could not be bound (exit 69).
class PortUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OpsServer {
 public:
  OpsServer(OpsServerOptions options, OpsState& state, KernelMetrics& metrics,
            std::shared_ptr<spdlog::logger> logger);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  /// Binds and starts serving on its own thread. Throws PortUnavailable.
  void start();
  /// The bound port (after start()).
  int port() const noexcept { return port_; }

 private:
  void route();

  OpsServerOptions options_;
  OpsState& state_;
  KernelMetrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

/// GETs http://127.0.0.1:PORT/healthz for `--health-check`: 0 on 200, else 1, with a line
/// on `out`.
int health_check(int port, std::ostream& out);

}  // namespace kernel::detail
