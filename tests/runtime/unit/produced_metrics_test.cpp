// kernel_messages_produced_total keeps a series per topic for the first topics only: replies go
// where their requests say, and one series per requester's topic would grow without bound.
#include <doctest/doctest.h>

#include <string>

#include "ops/kernel_metrics.hpp"

namespace produced_metrics_test {

using kernel::detail::KernelMetrics;

std::size_t produced_series(KernelMetrics& metrics) {
  for (const auto& family : metrics.registry().Collect()) {
    if (family.name == "kernel_messages_produced_total") return family.metric.size();
  }
  return 0;
}

TEST_CASE("topics past the bound share the series topic=\"(other)\"") {
  KernelMetrics metrics(3);
  for (std::size_t n = 0; n < KernelMetrics::max_produced_topics + 50; ++n) {
    metrics.produced("gateway.replies." + std::to_string(n)).Increment();
  }
  CHECK(produced_series(metrics) == KernelMetrics::max_produced_topics + 1);
  CHECK(metrics.produced("(other)").Value() == 50);
  // A topic seen before the bound keeps its own series.
  metrics.produced("gateway.replies.0").Increment();
  CHECK(metrics.produced("gateway.replies.0").Value() == 2);
}

}  // namespace produced_metrics_test
