#include "core/refusal.hpp"

#include <string_view>

#include <librdkafka/rdkafka.h>

#include "kernel/config.hpp"

namespace kernel::detail {

std::optional<std::string> describe_refusal(int err, const char* reason, const std::string& servers) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const std::string_view text = reason ? reason : "";
  const bool handshake = code == RD_KAFKA_RESP_ERR__TRANSPORT && text.find("SSL handshake failed") != text.npos;
  if (handshake) {
    return "TLS handshake with " + servers + " failed: " + mask_secrets(text) +
           "; does the listener speak TLS? (KAFKA_SECURITY_PROTOCOL, KAFKA_CA_CERT)";
  }
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL ||
      code == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
    return "authentication or TLS refused by " + servers + ": " + mask_secrets(text);
  }
  return std::nullopt;
}

}  // namespace kernel::detail
