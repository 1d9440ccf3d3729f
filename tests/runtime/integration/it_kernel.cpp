// A kernel for the process-level integration tests. What it does is driven by each message:
//   {"n": 7}                                   forwarded as {"n": 7, "attempt": 1}, same key
//   {"n": 7, "fail": "transient", "times": 2}  fails transiently on the first 2 attempts
//   {"n": 7, "fail": "permanent"|"business"|"fatal"}
//   {"n": 7, "hang": true}                     never returns (a call stuck on a dependency)
//   anything that is not JSON                  dead-lettered (deserialization_error)
//   {"n": 7, "to": "topic"}                    also produced to "topic" (after the output);
//                                              with "swallow": true the handler catches a refusal
//   {"n": 7, "reply": true}                    a request: answered with context.reply() (its
//                                              "n" and "attempt"), no output
//   {"n": 7, "country": "NL"}                  counted in it_kernel_orders_total{country}, the
//   {"n": 7, "countries": ["NL", ...]}         kernel's own metric (each value of the list once)
// IT_HANDLE_DELAY_US slows each message down (simulated work); IT_INSTANCE, when set, is added
// to each output as "by" so a test running several members can tell whose output it is;
// IT_BAD_METRIC declares a metric under a name Prometheus refuses (the kernel must not start).
// IT_LOG_EACH, when set, has the handler log a line per message through its context's logger.
#include <chrono>
#include <cstdlib>
#include <thread>

#include <kernel/kernel.hpp>

namespace {

const long handle_delay_us = [] {
  const char* value = std::getenv("IT_HANDLE_DELAY_US");
  return value ? std::atol(value) : 0L;
}();

const char* const instance = std::getenv("IT_INSTANCE");
const bool log_each = std::getenv("IT_LOG_EACH") != nullptr;

kernel::Counter* orders = nullptr;  // declared at start (KernelSpec::metrics)

void count_orders(const nlohmann::json& document) {
  if (const auto country = document.find("country"); country != document.end() && country->is_string()) {
    orders->inc({country->get_ref<const std::string&>()});
  }
  if (const auto countries = document.find("countries"); countries != document.end() && countries->is_array()) {
    for (const auto& each : *countries) {
      if (each.is_string()) orders->inc({each.get_ref<const std::string&>()});
    }
  }
}

void handle(const kernel::Message& message, kernel::Context& context) {
  auto document = message.json();
  if (log_each) context.log().info("handling n={}", document.value("n", -1));
  if (handle_delay_us >= 1'000'000)
    context.log().info("handling n={}: working for {} us", document.value("n", -1), handle_delay_us);
  if (handle_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(handle_delay_us));
  if (document.value("hang", false)) {
    context.log().info("handling n={}: hanging", document.value("n", -1));
    // Simulates a call stuck on a dependency that never answers: it does not return.
    while (true) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  const auto fail = document.value("fail", std::string());
  if (fail == "transient" && context.attempt() <= document.value("times", 1000)) {
    throw kernel::TransientError("dependency unavailable");
  }
  if (fail == "permanent") throw kernel::PermanentError("rejected by the test");
  if (fail == "business") throw kernel::BusinessError("nothing to do");
  if (fail == "fatal") throw kernel::FatalError("cannot go on");
  count_orders(document);
  nlohmann::json out{{"n", document.value("n", -1)}, {"attempt", context.attempt()}};
  if (instance) out["by"] = instance;
  if (document.value("reply", false)) {
    context.reply(kernel::Outgoing{}.json(out));
    return;
  }
  kernel::Outgoing output;
  if (auto key = message.key()) output.key(std::string(*key));
  context.produce(std::move(output.json(out)));
  if (const auto to = document.value("to", std::string()); !to.empty()) {
    kernel::Outgoing extra;
    extra.topic(to).json(out);
    if (auto key = message.key()) extra.key(std::string(*key));
    try {
      context.produce(std::move(extra));
    } catch (const kernel::PermanentError& refused) {
      if (!document.value("swallow", false)) throw;
      context.log().warn("ignoring: {}", refused.what());  // the runtime must still dead-letter
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "it-kernel";
  spec.input_topics = {"it.in"};
  spec.output_topic = "it.out";
  spec.handler = handle;
  spec.metrics = [](kernel::Metrics& metrics) {
    orders = &metrics.counter("orders_total", "Orders handled, by country", {"country"});
    if (std::getenv("IT_BAD_METRIC")) metrics.gauge("queue-depth", "A name with a dash");
  };
  return kernel::run(spec, argc, argv);
}
