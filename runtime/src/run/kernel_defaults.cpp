#include "run/kernel_defaults.hpp"

#include <sstream>
#include <string>

#include "kernel/env_vars.hpp"

namespace kernel::detail {

namespace {

std::string milliseconds_text(std::chrono::milliseconds value) { return std::to_string(value.count()) + "ms"; }

std::string number_text(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

}  // namespace

KernelDefaults defaults_of(const KernelSpec& spec) {
  KernelDefaults defaults{spec.name, spec.input_topics, spec.output_topic, spec.settings, spec.outputs};
  defaults.batch_handler = static_cast<bool>(spec.batch_handler);
  auto& code = defaults.code_values;
  const auto& retry = spec.retry;
  if (retry.max_retries) code[env_var::KAFKA_CONSUMER_MAX_RETRIES] = std::to_string(*retry.max_retries);
  if (retry.backoff) code[env_var::KERNEL_RETRY_BACKOFF] = milliseconds_text(*retry.backoff);
  if (retry.backoff_max) code[env_var::KERNEL_RETRY_BACKOFF_MAX] = milliseconds_text(*retry.backoff_max);
  if (retry.multiplier) code[env_var::KERNEL_RETRY_MULTIPLIER] = number_text(*retry.multiplier);
  if (retry.jitter) code[env_var::KERNEL_RETRY_JITTER] = number_text(*retry.jitter);
  if (!retry.topics.empty()) {
    std::string delays;
    for (const auto delay : retry.topics) delays += (delays.empty() ? "" : ",") + milliseconds_text(delay);
    code[env_var::KERNEL_RETRY_TOPICS] = delays;
  }
  return defaults;
}

}  // namespace kernel::detail
