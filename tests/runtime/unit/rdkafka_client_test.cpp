// The one place clients are created: a client, or librdkafka's refusal as an error_code in the
// kernel category with librdkafka's own words.
#include <doctest/doctest.h>

#include <librdkafka/rdkafka.h>

#include "kernel/detail/rdkafka_client.hpp"

namespace rdkafka_client_test {

using namespace kernel::detail;

namespace {

ConfPtr conf_with(std::initializer_list<std::pair<const char*, const char*>> properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [name, value] : properties) {
    REQUIRE(rd_kafka_conf_set(conf.get(), name, value, error, sizeof error) == RD_KAFKA_CONF_OK);
  }
  return conf;
}

}  // namespace

TEST_CASE("rdkafka client: a valid configuration gives a client that owns it") {
  auto conf = conf_with({{"client.id", "factory-test"}});
  const auto client = create_client(ClientType::producer, conf);
  REQUIRE(client);
  CHECK_FALSE(client.error);
  CHECK(conf == nullptr);
  CHECK(rd_kafka_type(client.handle.get()) == RD_KAFKA_PRODUCER);
}

TEST_CASE("rdkafka client: a refused configuration gives an error in the kernel category and stays its owner's") {
  // Idempotence allows at most 5 requests in flight; only rd_kafka_new checks it.
  auto conf = conf_with({{"enable.idempotence", "true"}, {"max.in.flight", "10"}});
  const auto client = create_client(ClientType::producer, conf);
  CHECK_FALSE(client);
  CHECK(conf != nullptr);
  REQUIRE(client.error);
  CHECK(client.error.category().name() == std::string("kernel"));
  CHECK(client.error.message() == rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(client.error.value())));
  CHECK(client.message.find("max.in.flight") != std::string::npos);
}

TEST_CASE("rdkafka client: librdkafka's codes keep their value and description") {
  const auto code = kernel::make_rdkafka_error_code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  CHECK(code.value() == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  CHECK(code.message() == rd_kafka_err2str(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
  CHECK(&code.category() == &kernel::kernel_category());
  CHECK_FALSE(kernel::make_rdkafka_error_code(RD_KAFKA_RESP_ERR_NO_ERROR));
}

}  // namespace rdkafka_client_test
