// The kernel's name, the topics it uses unless its configuration names others, and its
// handler. Everything else is configuration (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "handler.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "order-router";
  spec.version = ORDER_ROUTER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Routes orders to their region.";
  spec.input_topics = {"pipeline.orders.step.route.input"};
  spec.output_topic = "pipeline.orders.step.route.output";
  spec.handler = order_router::handle;
  return kernel::run(spec, argc, argv);
}
