// postgres-sink: stores orders in PostgreSQL, one multi-row upsert per batch (README.md).
#include <kernel/kernel.hpp>

#include "order_store.hpp"
#include "sink.hpp"

int main(int argc, char** argv) {
  postgres_sink::OrderStore store;  // one connection, opened on first use

  kernel::KernelSpec spec;
  spec.name = "postgres-sink";
  spec.description = "upserts orders into PostgreSQL, one statement per batch, keyed on the event id";
  spec.input_topics = {"orders"};
  spec.settings = {{.name = "DATABASE_URL",
                    .description = "PostgreSQL URL: postgresql://user:password@host:5432/db?connect_timeout=5",
                    .secret = true}};
  spec.batch_handler = [&store](kernel::Batch& batch, kernel::Context& context) {
    postgres_sink::store_orders(batch, context, store);
  };
  // A database outage fails every batch alike: the circuit breaker (5 consecutive failures by
  // default) must open before a batch runs out of attempts, or the outage fills the
  // dead-letter topic with good orders. 6 attempts keep that true on a single partition.
  spec.retry.max_retries = 5;
  return kernel::run(spec, argc, argv);
}
