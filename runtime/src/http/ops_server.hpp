#pragma once
// The kernel's one HTTP server: /healthz, /readyz, /metrics and the admin endpoints
// (docs/operations.md). It reads only what the loop publishes (OpsState, the metrics
// registry), so a scrape or a flood of bad requests never blocks message handling.
//
// Event-driven (libmicrohttpd, one epoll thread): a connection costs a little memory, not a
// thread. ConnectionGuard bounds who holds connections and for how long, so idle or slow
// clients cannot keep the probes out. The only request that waits for the loop (an admin
// pause) is suspended while it waits, not served on a blocked thread.
#include <chrono>
#include <cstddef>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "http/connection_guard.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

struct MHD_Daemon;
struct MHD_Connection;

namespace kernel::detail {

struct OpsServerOptions {
  std::string host = "0.0.0.0";  ///< an IPv4 or IPv6 address; probes come from outside the pod
  int port = 8080;               ///< 0 picks a free port
  std::string admin_token;       ///< empty: admin endpoints answer 403
  std::string group_id;          ///< for readiness reasons
  /// No loop iteration for this long means stalled (/healthz 503). The loop's iterations are
  /// bounded by a handler call, so this is max.poll.interval.ms: the point where the group
  /// would give the member up too.
  std::chrono::milliseconds stall_after{60000};
  /// Every broker connection down for longer than this means not ready (/readyz 503): the
  /// group has given the member up by then (session.timeout.ms).
  std::chrono::milliseconds session_timeout{10000};
  /// How many connections, from whom, and how long a request may take to arrive.
  ConnectionLimits connections;
  /// A connection whose answer makes no progress for this long is closed (a client that
  /// stopped reading); requests on their way are bounded by connections.request_timeout.
  std::chrono::seconds idle_timeout{10};
  /// An admin pause waits this long for the loop to apply it before answering 202.
  std::chrono::milliseconds admin_wait{5000};
};

/// Stops a daemon: closes its listening socket and every connection (MHD_stop_daemon).
struct StopDaemon {
  void operator()(MHD_Daemon* daemon) const noexcept;
};

/// The port could not be bound (exit 69).
class PortUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OpsServer {
 public:
  OpsServer(OpsServerOptions options, OpsState& state, KernelMetrics& metrics, std::shared_ptr<spdlog::logger> logger);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  /// Binds and starts serving on its own thread. Throws PortUnavailable.
  void start();
  /// The bound port (after start()).
  int port() const noexcept { return port_; }

 private:
  struct Request;    // one request's state (ops_server.cpp)
  class AdminWaits;  // suspended admin requests waiting for the loop (ops_server.cpp)

  int serve(MHD_Connection* connection, Request& request, std::string_view path, std::string_view method);
  /// Why /readyz answers 503 now; empty when the kernel is ready.
  std::string not_ready_reason();
  int readiness(MHD_Connection* connection);
  int status(MHD_Connection* connection);
  int admin(MHD_Connection* connection, Request& request, bool pause);

  OpsServerOptions options_;
  OpsState& state_;
  KernelMetrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<AdminWaits> waits_;
  std::unique_ptr<ConnectionGuard> guard_;
  std::unique_ptr<MHD_Daemon, StopDaemon> daemon_;  // last: stopped before what it serves
  int port_ = -1;
};

/// The address --health-check asks for a server bound to `host`: loopback for the wildcard
/// addresses, else the address itself.
std::string probe_address(const std::string& host);

/// GETs http://HOST:PORT/healthz for `--health-check`: 0 on 200, else 1, with a line on `out`.
int health_check(const std::string& host, int port, std::ostream& out);

}  // namespace kernel::detail
