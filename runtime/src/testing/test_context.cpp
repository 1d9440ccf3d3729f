#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "core/context_access.hpp"
#include "core/current_exception.hpp"
#include "kernel/metrics.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/testing.hpp"

namespace kernel::testing {

Message make_raw_message(std::string value, std::optional<std::string> key, Headers headers, std::string topic,
                         std::int32_t partition, std::int64_t offset) {
  return Message(std::move(topic), partition, offset, std::move(key), std::move(value), std::move(headers));
}

Message make_message(const nlohmann::json& value, std::optional<std::string> key, Headers headers, std::string topic,
                     std::int32_t partition, std::int64_t offset) {
  return make_raw_message(value.dump(), std::move(key), std::move(headers), std::move(topic), partition, offset);
}

Message make_msgpack_message(const nlohmann::json& value, std::optional<std::string> key, Headers headers,
                             std::string topic, std::int32_t partition, std::int64_t offset) {
  if (!headers.contains("content-type")) {
    headers.add("content-type", std::string(content_type_header(ContentType::msgpack)));
  }
  std::string encoded;
  nlohmann::json::to_msgpack(value, encoded);
  return make_raw_message(std::move(encoded), std::move(key), std::move(headers), std::move(topic), partition, offset);
}

namespace {
std::shared_ptr<spdlog::logger> test_logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  return std::make_shared<spdlog::logger>(name, sink);
}
}  // namespace

TestContext::TestContext(std::string kernel_name, std::optional<std::string> output_topic, int attempt)
    : Context(kernel_name, std::move(output_topic), test_logger(kernel_name)) {
  begin_attempt(attempt);
}

void TestContext::begin_attempt(int attempt) noexcept { detail::ContextAccess::begin_attempt(*this, attempt); }

void TestContext::set_producer_middleware(std::vector<ProducerMiddleware> middleware) {
  detail::ContextAccess::set_producer_middleware(*this, std::move(middleware));
}

void TestContext::set_kernel_values(std::shared_ptr<const KernelValues> values) noexcept {
  detail::ContextAccess::set_kernel_values(*this, std::move(values));
}

TestContext::TestContext(const KernelSpec& spec, const Environment& settings)
    : TestContext(spec.name, spec.output_topic) {
  // As run() reads them, from `settings` alone: a unit test does not depend on the machine's
  // environment or on a .env file (the empty path names none).
  const KernelDefaults kernel{spec.name, spec.input_topics, spec.output_topic, spec.settings, spec.outputs};
  set_kernel_values(std::make_shared<const KernelValues>(load_kernel_values(kernel, settings, {})));
  if (spec.metrics) spec.metrics(metrics());  // as the runtime declares them at start
}

Outcome call(const Handler& handler, const Message& message, Context& context) {
  return Chain(handler, {})(message, context);
}

Outcome call(const Handler& handler, const std::vector<ConsumerMiddleware>& middleware, const Message& message,
             Context& context) {
  auto& actions = detail::ContextAccess::completion_actions(context);
  actions.clear();  // only this call's
  Outcome outcome = Chain(handler, middleware)(message, context);
  // Concluded as the loop would conclude it: a completed call runs what waited for that
  // (deduplicate() marks its id).
  if (outcome.kind == Outcome::Kind::success || outcome.kind == Outcome::Kind::business) {
    for (auto& hook : actions) hook.complete();
  }
  actions.clear();
  return outcome;
}

Outcome call(const BatchHandler& handler, Batch& batch, Context& context) {
  try {
    handler(batch, context);
  } catch (...) {
    return detail::outcome_of_current_exception();
  }
  return Outcome::success();
}

std::string describe(const Outcome& outcome) {
  if (outcome.ok()) return "success";
  std::string text = std::string(to_string(outcome.kind)) + " (" + std::string(to_string(outcome.reason)) + ")";
  if (!outcome.error_type.empty()) text += " " + outcome.error_type;
  return text + ": " + outcome.message;
}

}  // namespace kernel::testing
