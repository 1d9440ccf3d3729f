#pragma once
// A kernel's operations side, when KERNEL_HTTP_PORT is not `off`: its metrics, the state it
// shares with the loop, and the HTTP server. run(), --samples and the test fixture build it
// the same way, before the loop starts, so the port is checked (exit 69) before connecting
// and /healthz and /readyz answer during start-up.
#include <memory>
#include <string_view>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "http/ops_server.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

class Operations {
 public:
  /// nullptr when KERNEL_HTTP_PORT is off. Throws PortUnavailable. `kernel_version` is
  /// KernelSpec::version, for kernel_info (the name is in `settings`).
  static std::unique_ptr<Operations> start_if_enabled(const Settings& settings, std::string_view kernel_version,
                                                      std::shared_ptr<spdlog::logger> logger);

  KernelMetrics& metrics() noexcept { return metrics_; }
  OpsState& state() noexcept { return state_; }
  /// What the loop publishes to.
  Publication publication() noexcept { return {&state_, &metrics_}; }
  int port() const noexcept { return server_ ? server_->port() : -1; }

  explicit Operations(int max_retries) : metrics_(max_retries) {}

 private:
  KernelMetrics metrics_;
  OpsState state_;
  std::unique_ptr<OpsServer> server_;  // last: stopped before what it reads goes away
};

/// The loop's Publication for `operations`, which may be null (HTTP off).
inline Publication publication_of(Operations* operations) noexcept {
  return operations ? operations->publication() : Publication{};
}

}  // namespace kernel::detail
