#include "log/client_errors.hpp"

#include <librdkafka/rdkafka.h>

#include "kernel/config.hpp"  // mask_secrets

namespace kernel::detail {

ClientErrorKind log_client_error(spdlog::logger& log, std::string_view client, int err, const char* reason,
                                 bool brokers_down_is_news) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) return ClientErrorKind::fatal;
  // Transport errors: librdkafka logs each connection failure itself and reconnects on its own;
  // repeating them here would double every line.
  const bool logged_elsewhere = code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__RESOLVE ||
                                (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !brokers_down_is_news);
  log.log(logged_elsewhere ? spdlog::level::debug : spdlog::level::warn, "{}: {}", client,
          kernel::mask_secrets(reason ? reason : ""));
  return ClientErrorKind::logged;
}

}  // namespace kernel::detail
