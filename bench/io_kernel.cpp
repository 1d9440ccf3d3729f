// bench-io-kernel: a kernel whose handler waits like a call to a database or a service
// (BENCH_IO_DELAY_MS, default 5 ms) and sends the input on under its key. Used by bench/io-bound.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <kernel/kernel.hpp>

int main(int argc, char** argv) {
  const char* delay_text = std::getenv("BENCH_IO_DELAY_MS");
  const auto delay = std::chrono::milliseconds(delay_text ? std::atol(delay_text) : 5);
  kernel::KernelSpec spec;
  spec.name = "bench-io-kernel";
  spec.input_topics = {"bench.in"};
  spec.handler = [delay](const kernel::Message& message, kernel::Context& context) {
    std::this_thread::sleep_for(delay);  // the I/O wait: no CPU spent, only time
    kernel::Outgoing output;
    if (const auto key = message.key()) output.key(std::string(*key));
    context.produce(std::move(output.text(std::string(message.value()))));
  };
  return kernel::run(spec, argc, argv);
}
