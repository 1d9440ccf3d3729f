#pragma once
/// The one place librdkafka clients are created (rd_kafka_new), for start-up, topic checks,
/// the tools, the embedded broker and the configuration check, and the `kernel` error category
/// its failures (and librdkafka's other codes) are reported in.
#include <string>
#include <system_error>

#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel {

/// The `kernel` error category: librdkafka's rd_kafka_resp_err_t values (negative ones are the
/// client's own, positive ones the broker's), with librdkafka's description as the message.
const std::error_category& kernel_category() noexcept;

/// A librdkafka error code (rd_kafka_resp_err_t, as an int so that no C header is needed) in
/// the kernel category; 0 (RD_KAFKA_RESP_ERR_NO_ERROR) is no error.
std::error_code make_rdkafka_error_code(int rdkafka_code) noexcept;

}  // namespace kernel

namespace kernel::detail {

enum class ClientType { consumer, producer };

/// A client, or why there is none: `error` in the kernel category and librdkafka's own words
/// (what rd_kafka_new wrote), which name the property at fault.
struct ClientResult {
  HandlePtr handle;
  std::error_code error;
  std::string message;

  explicit operator bool() const noexcept { return static_cast<bool>(handle); }
};

/// Creates a client from `conf` (rd_kafka_new). On success the client owns the configuration
/// and `conf` is empty; on failure `conf` is left to its owner, as librdkafka leaves it.
ClientResult create_client(ClientType type, ConfPtr& conf);

}  // namespace kernel::detail
