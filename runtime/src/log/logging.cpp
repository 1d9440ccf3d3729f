#include "log/logging.hpp"

#include <chrono>
#include <mutex>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <nlohmann/json.hpp>

#include "core/rfc3339.hpp"
#include "core/trace_context.hpp"
#include "kernel/config.hpp"

namespace kernel::detail {

LogScope& current_log_scope() noexcept {
  thread_local LogScope scope;
  return scope;
}

ScopedLogContext::ScopedLogContext(const std::string& topic, std::int32_t partition, std::int64_t offset) noexcept
    : saved_(current_log_scope()) {
  auto& scope = current_log_scope();
  scope.topic = &topic;
  scope.partition = partition;
  scope.offset = offset;
}

ScopedLogContext::~ScopedLogContext() { current_log_scope() = std::move(saved_); }

namespace {

void append_timestamp(spdlog::log_clock::time_point time, spdlog::memory_buf_t& out) {
  char text[rfc3339_length];
  format_rfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count(), text);
  out.append(text, text + rfc3339_length);
}

std::string_view level_word(spdlog::level::level_enum level, bool upper) {
  switch (level) {
    case spdlog::level::trace: return upper ? "TRACE" : "trace";
    case spdlog::level::debug: return upper ? "DEBUG" : "debug";
    case spdlog::level::info: return upper ? "INFO" : "info";
    case spdlog::level::warn: return upper ? "WARN" : "warn";
    case spdlog::level::err: return upper ? "ERROR" : "error";
    case spdlog::level::critical: return upper ? "FATAL" : "fatal";
    default: return upper ? "INFO" : "info";
  }
}

/// `2026-11-23T03:09:38.123Z INFO  [orders-enricher] assigned orders[0,1,2]`; a line written
/// while handling a message ends with ` trace_id=<32 hex> span_id=<16 hex>`.
class TextFormatter final : public spdlog::formatter {
 public:
  explicit TextFormatter(std::string kernel) : kernel_(std::move(kernel)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& out) override {
    append_timestamp(msg.time, out);
    out.push_back(' ');
    const auto level = level_word(msg.level, true);
    out.append(level.data(), level.data() + level.size());
    for (auto i = level.size(); i < 6; ++i) out.push_back(' ');
    out.push_back('[');
    out.append(kernel_.data(), kernel_.data() + kernel_.size());
    out.append(std::string_view("] "));
    out.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    if (const auto& current = current_trace(); current.input) {
      out.append(std::string_view(" trace_id="));
      const auto trace_id = current.handling.trace.trace_id(), span_id = current.handling.trace.span_id();
      out.append(trace_id.data(), trace_id.data() + trace_id.size());
      out.append(std::string_view(" span_id="));
      out.append(span_id.data(), span_id.data() + span_id.size());
    }
    out.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(kernel_); }

 private:
  std::string kernel_;
};

/// One JSON object per line: ts, level, kernel, msg, and topic/partition/offset and
/// trace_id/span_id when handling.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string kernel) : kernel_(std::move(kernel)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& out) override {
    spdlog::memory_buf_t ts;
    append_timestamp(msg.time, ts);
    nlohmann::ordered_json line;
    line["ts"] = std::string(ts.data(), ts.size());
    line["level"] = level_word(msg.level, false);
    line["kernel"] = kernel_;
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const auto& scope = current_log_scope();
    if (scope.topic) {
      line["topic"] = *scope.topic;
      line["partition"] = scope.partition;
      line["offset"] = scope.offset;
    }
    if (!scope.correlation_id.empty()) line["correlation_id"] = scope.correlation_id;
    if (const auto& current = current_trace(); current.input) {
      line["trace_id"] = current.handling.trace.trace_id();
      line["span_id"] = current.handling.trace.span_id();
    }
    const auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.append(text.data(), text.data() + text.size());
    out.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(kernel_); }

 private:
  std::string kernel_;
};

/// Another formatter's lines, with the message redacted: what a handler's exception or a log
/// call quotes of a secret never reaches stderr.
class RedactingFormatter final : public spdlog::formatter {
 public:
  RedactingFormatter(std::unique_ptr<spdlog::formatter> inner, LogRedactor redact)
      : inner_(std::move(inner)), redact_(std::move(redact)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& out) override {
    // The message before it is formatted: a JSON line escapes a secret's quote or backslash,
    // and the escaped text no longer matches the secret. Then the whole line, for what the
    // formatter adds beside the message (a correlation id is an input's header).
    const auto message = redact_(std::string_view(msg.payload.data(), msg.payload.size()));
    auto masked = msg;
    masked.payload = spdlog::string_view_t(message.data(), message.size());
    spdlog::memory_buf_t line;
    inner_->format(masked, line);
    const auto redacted = redact_(std::string_view(line.data(), line.size()));
    out.append(redacted.data(), redacted.data() + redacted.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingFormatter>(inner_->clone(), redact_);
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
  LogRedactor redact_;
};

spdlog::level::level_enum parse_level(const std::string& level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return spdlog::level::info;
}

// librdkafka calls its log callback from its own threads; the logger is thread-safe and
// shared, and outlives every client (clients are destroyed before run() returns).
std::mutex rdkafka_logger_mutex;
std::shared_ptr<spdlog::logger> rdkafka_logger;

void on_rdkafka_log(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard lock(rdkafka_logger_mutex);
    logger = rdkafka_logger;
  }
  if (!logger) return;
  // syslog levels: 0-3 error, 4 warning, 5-6 info/notice, 7 debug.
  const auto spd_level = level <= 3   ? spdlog::level::err
                         : level == 4 ? spdlog::level::warn
                         : level <= 6 ? spdlog::level::info
                                      : spdlog::level::debug;
  if (!logger->should_log(spd_level)) return;
  logger->log(spd_level, "librdkafka {} {}: {}", rd_kafka_name(handle), facility, kernel::mask_secrets(text));
}

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(const std::string& kernel_name, const std::string& level,
                                            const std::string& format, LogRedactor redact) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(kernel_name, sink);
  std::unique_ptr<spdlog::formatter> formatter;
  if (format == "json") {
    formatter = std::make_unique<JsonFormatter>(kernel_name);
  } else {
    formatter = std::make_unique<TextFormatter>(kernel_name);
  }
  if (redact) formatter = std::make_unique<RedactingFormatter>(std::move(formatter), std::move(redact));
  logger->set_formatter(std::move(formatter));
  logger->set_level(parse_level(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

void route_rdkafka_logs(rd_kafka_conf_t* conf, std::shared_ptr<spdlog::logger> logger) {
  {
    std::lock_guard lock(rdkafka_logger_mutex);
    rdkafka_logger = std::move(logger);
  }
  rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
}

}  // namespace kernel::detail
