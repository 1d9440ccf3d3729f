#pragma once
// Logging: spdlog on stderr, text or JSON lines, every line naming the kernel; librdkafka's
// own log lines are routed through the same logger with secrets masked.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

namespace kernel::detail {

/// Where the current thread is in the stream; JSON lines carry it as topic/partition/offset.
struct LogScope {
  const std::string* topic = nullptr;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string correlation_id;
};
LogScope& current_log_scope() noexcept;

/// Sets the log scope for the lifetime of this object.
class ScopedLogContext {
 public:
  ScopedLogContext(const std::string& topic, std::int32_t partition, std::int64_t offset) noexcept;
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogScope saved_;
};

/// "1 message", "3 messages": a count with its noun, for log lines (regular plurals only).
inline std::string count_of(std::size_t count, std::string_view noun) {
  return std::to_string(count) + ' ' + std::string(noun) + (count == 1 ? "" : "s");
}

/// Rewrites log text (the kernel's secret values become ***).
using LogRedactor = std::function<std::string(std::string_view text)>;

/// A logger writing to stderr in `format` ("text" or "json") at `level`; with `redact`, every
/// message passes through it before it is formatted, and every line after, at every level.
std::shared_ptr<spdlog::logger> make_logger(const std::string& kernel_name, const std::string& level,
                                            const std::string& format, LogRedactor redact = {});

/// Sends librdkafka's log lines for clients built from `conf` to `logger` (masked).
void route_rdkafka_logs(rd_kafka_conf_t* conf, std::shared_ptr<spdlog::logger> logger);

}  // namespace kernel::detail
