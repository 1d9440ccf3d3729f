#pragma once
// The error callback's common part for every librdkafka client the runtime owns (the loop's
// consumer and producer, kernel::Producer): which reports are news and at which level they are
// logged. What a fatal error does is the owner's (the loop stops, the producer refuses).
#include <string_view>

#include <spdlog/logger.h>

namespace kernel::detail {

enum class ClientErrorKind {
  fatal,   // RD_KAFKA_RESP_ERR__FATAL: not logged here; the client is unusable
  logged,  // logged (secrets masked); librdkafka retries by itself
};

/// Logs `reason` for `client` at debug when librdkafka has logged it itself and reconnects on its
/// own (a transport failure, a name not resolved, and all brokers down unless
/// `brokers_down_is_news`), else at warn. Returns `fatal`, without logging, for a fatal error.
ClientErrorKind log_client_error(spdlog::logger& log, std::string_view client, int err, const char* reason,
                                 bool brokers_down_is_news);

}  // namespace kernel::detail
