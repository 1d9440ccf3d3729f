// example-bulk-sink: a file sink. Each batch of orders (up to KERNEL_BATCH_SIZE of one
// partition) becomes one append of CSV rows to a local file; a malformed order is dead-lettered
// alone, a failed write retries the whole batch (docs/batches.md). Each stored order is
// confirmed on orders.stored. It writes a file and nothing else: examples/postgres-sink is the
// same shape on a real database (an idempotent upsert, rows refused one by one, outages).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <kernel/kernel.hpp>

namespace {

struct Order {
  std::string id;
  double amount = 0;
};

void from_json(const nlohmann::json& document, Order& order) {
  document.at("id").get_to(order.id);
  document.at("amount").get_to(order.amount);
}

/// One append for the whole batch: the rows are written together or the batch fails.
void append_rows(const std::string& path, const std::string& rows) {
  std::ofstream file(path, std::ios::app | std::ios::binary);
  file << rows;
  file.flush();
  // A full disk or a vanished mount is worth retrying: the batch goes again after the backoff.
  if (!file) throw kernel::TransientError("writing " + path + " failed: " + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "example-bulk-sink";
  spec.description = "appends orders to a CSV file, one write per batch";
  spec.input_topics = {"orders"};
  spec.output_topic = "orders.stored";
  spec.settings = {
      {.name = "FILE", .default_value = "orders.csv", .description = "The CSV file the rows are appended to"}};
  spec.batch_handler = [](kernel::Batch& batch, kernel::Context& context) {
    std::string rows;
    std::vector<std::size_t> stored;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        const auto order = batch[i].as<Order>();
        rows += order.id + "," + std::to_string(order.amount) + "\n";
        stored.push_back(i);
      } catch (const kernel::KernelError& error) {
        batch.fail(i, error);  // this order only: dead-lettered with its validation error
      }
    }
    if (!rows.empty()) append_rows(context.setting<std::string>("FILE"), rows);
    for (auto i : stored) {
      batch.produce(i, kernel::Outgoing{}
                           .key(std::string(batch[i].key().value_or("")))
                           .json({{"stored", batch[i].json()["id"]}, {"offset", batch[i].offset()}}));
    }
    context.log().info("stored {} of {} orders from {}[{}]", stored.size(), batch.size(), batch.topic(),
                       batch.partition());
  };
  return kernel::run(spec, argc, argv);
}
