#include "http/operations.hpp"

#include "core/own_metrics.hpp"

namespace kernel::detail {

std::unique_ptr<Operations> Operations::start_if_enabled(const Settings& settings, std::string_view kernel_version,
                                                         std::shared_ptr<spdlog::logger> logger) {
  if (!settings.http_port) return nullptr;
  auto operations = std::make_unique<Operations>(settings.max_retries);
  operations->metrics_.identify(settings.kernel_name, kernel_version);
  auto own =
      std::make_shared<Metrics>(settings.kernel_name, static_cast<std::size_t>(settings.metrics_max_series), logger);
  auto served = own->runtime_state().registry;
  operations->metrics_.serve_own_metrics(std::move(own), std::move(served));
  OpsServerOptions options;
  options.host = settings.http_address;
  options.port = *settings.http_port;
  options.admin_token = settings.admin_token;
  options.group_id = settings.group_id;
  options.stall_after = settings.rebalance_timeout;
  options.session_timeout = settings.session_timeout;
  operations->server_ = std::make_unique<OpsServer>(options, operations->state_, operations->metrics_, logger);
  operations->server_->start();
  return operations;
}

}  // namespace kernel::detail
