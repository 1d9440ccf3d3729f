// kernel/detail/rdkafka_client.hpp: rd_kafka_new behind one function, and librdkafka's error
// codes as std::error_code.
#include "kernel/detail/rdkafka_client.hpp"

#include <array>

#include <librdkafka/rdkafka.h>

namespace kernel {

namespace {

class KernelCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kernel"; }
  std::string message(int code) const override { return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code)); }
};

}  // namespace

const std::error_category& kernel_category() noexcept {
  static const KernelCategory category;
  return category;
}

std::error_code make_rdkafka_error_code(int rdkafka_code) noexcept { return {rdkafka_code, kernel_category()}; }

}  // namespace kernel

namespace kernel::detail {

ClientResult create_client(ClientType type, ConfPtr& conf) {
  std::array<char, 512> error{};
  HandlePtr handle(rd_kafka_new(type == ClientType::consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf.get(),
                                error.data(), error.size()));
  if (!handle) {
    // rd_kafka_new sets the thread's last error for most refusals; when it does not, the
    // failure is still one.
    auto code = rd_kafka_last_error();
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) code = RD_KAFKA_RESP_ERR__FAIL;
    return {nullptr, make_rdkafka_error_code(code), error.data()};
  }
  conf.release();  // rd_kafka_new took ownership of the configuration
  return {std::move(handle), {}, {}};
}

}  // namespace kernel::detail
