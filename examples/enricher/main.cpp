// example-enricher: the smallest useful kernel, also the benchmark's kernel.
#include <kernel/kernel.hpp>

#include "enricher.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "example-enricher";
  spec.description = "adds enriched_by and priority to each order";
  spec.input_topics = {"orders"};
  spec.output_topic = "orders.enriched";
  spec.handler = example::enrich_order;
  return kernel::run(spec, argc, argv);
}
