#include "kernel/context.hpp"

#include "kernel/errors.hpp"

namespace kernel {

Context::Context(std::string kernel_name, std::optional<std::string> output_topic,
                 std::shared_ptr<spdlog::logger> logger)
    : kernel_name_(std::move(kernel_name)),
      output_topic_(std::move(output_topic)),
      logger_(std::move(logger)) {}

void Context::produce(Outgoing message) {
  if (message.topic().empty() && !output_topic_) {
    throw PermanentError(
        "produce() without a topic, and this kernel has no output topic: pass .topic(...) or "
        "set KAFKA_OUTPUT_TOPIC");
  }
  produced_.push_back(std::move(message));
}

std::string_view content_type_header(ContentType type) noexcept {
  switch (type) {
    case ContentType::json: return "application/json";
    case ContentType::text: return "text/plain; charset=utf-8";
    case ContentType::bytes: return "application/octet-stream";
  }
  return "application/octet-stream";
}

}  // namespace kernel
