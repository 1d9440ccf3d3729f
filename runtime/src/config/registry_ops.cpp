// The registry's rows for the ops endpoints: health, metrics and admin (registry_rows.hpp).
// Part of kernel_config.
#include "config/registry_rows.hpp"

namespace kernel::config_detail::registry_rows {

std::vector<VariableSpec> ops_rows() {
  using S = Settings;
  return {
      stored_in(&S::http_port, port(),
                {.name = env_var::KERNEL_HTTP_PORT,
                 .default_value = "8080",
                 .description = "Port of the health, metrics and admin endpoints; 0 picks a free port, off disables"}),
      stored_in(&S::http_address, ip_address(),
                {.name = env_var::KERNEL_HTTP_ADDRESS,
                 .default_value = "0.0.0.0",
                 .description = "Address the health, metrics and admin endpoints listen on: 0.0.0.0 all interfaces, "
                                "127.0.0.1 this host only, :: all interfaces with IPv6"}),
      stored_in(&S::admin_token, verbatim(),
                {.name = env_var::KERNEL_ADMIN_TOKEN,
                 .secret = true,
                 .description = "Bearer token for the admin endpoints; unset turns them off"}),
  };
}

}  // namespace kernel::config_detail::registry_rows
