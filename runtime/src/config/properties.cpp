// Settings to librdkafka properties, per client, in a fixed order: what the runtime needs,
// then security, then KAFKA_PROPERTY_* pass-through (which may override a tuning default).
#include <algorithm>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

namespace {

std::string ms(std::chrono::milliseconds value) { return std::to_string(value.count()); }

// librdkafka's own default (1 GB per partition queue) lets a slow handler hold a lot of
// memory; 16 MB keeps a kernel's footprint modest. KAFKA_PROPERTY_* can raise it.
constexpr std::string_view queued_max_kbytes = "16384";

void add_security(const Settings& s, const std::string& certificate_location,
                  std::vector<Property>& out) {
  out.push_back({"security.protocol", s.security_protocol, "KAFKA_SECURITY_PROTOCOL"});
  if (!s.ca_cert_pem.empty()) out.push_back({"ssl.ca.pem", s.ca_cert_pem, "KAFKA_CA_CERT"});
  // The chain goes through an in-memory file: ssl.certificate.pem would send only its
  // first certificate, and a broker then cannot verify a cert issued by an intermediate.
  if (!certificate_location.empty()) {
    out.push_back({"ssl.certificate.location", certificate_location, "KAFKA_CLIENT_CERT"});
  } else if (!s.client_cert_pem.empty()) {
    out.push_back({"ssl.certificate.pem", s.client_cert_pem, "KAFKA_CLIENT_CERT"});
  }
  if (!s.client_key_pem.empty()) {
    out.push_back({"ssl.key.pem", s.client_key_pem, "KAFKA_CLIENT_KEY", true});
  }
  if (!s.client_key_password.empty()) {
    out.push_back({"ssl.key.password", s.client_key_password, "KAFKA_CLIENT_KEY_PASSWORD", true});
  }
  if (s.security_protocol.starts_with("SASL_")) {
    if (!s.sasl_mechanism.empty()) {
      out.push_back({"sasl.mechanisms", s.sasl_mechanism, "KAFKA_SASL_MECHANISM"});
    }
    if (!s.sasl_username.empty()) {
      out.push_back({"sasl.username", s.sasl_username, "KAFKA_SASL_USERNAME"});
    }
    if (!s.sasl_password.empty()) {
      out.push_back({"sasl.password", s.sasl_password, "KAFKA_SASL_PASSWORD", true});
    }
  }
}

}  // namespace

std::vector<Property> build_properties(const Settings& s, Client client,
                                       const std::string& certificate_location) {
  std::vector<Property> out{
      {"bootstrap.servers", s.bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS"},
      {"client.id", s.client_id, "KAFKA_CLIENT_ID"},
  };
  if (client == Client::consumer) {
    out.push_back({"group.id", s.group_id, "KAFKA_CONSUMER_GROUP"});
    if (!s.instance_id.empty()) {
      out.push_back({"group.instance.id", s.instance_id, "KAFKA_CONSUMER_INSTANCE_ID"});
    }
    // The kernel commits only offsets whose messages are completely handled.
    out.push_back({"enable.auto.commit", "false", ""});
    out.push_back({"enable.auto.offset.store", "false", ""});
    out.push_back({"partition.assignment.strategy", "cooperative-sticky", ""});
    out.push_back({"auto.offset.reset", s.start_offset, "KAFKA_CONSUMER_START_OFFSET"});
    out.push_back(
        {"session.timeout.ms", ms(s.session_timeout), "KAFKA_CONSUMER_SESSION_TIMEOUT"});
    out.push_back(
        {"heartbeat.interval.ms", ms(s.heartbeat_interval), "KAFKA_CONSUMER_HEARTBEAT_INTERVAL"});
    out.push_back(
        {"max.poll.interval.ms", ms(s.rebalance_timeout), "KAFKA_CONSUMER_REBALANCE_TIMEOUT"});
    out.push_back(
        {"fetch.min.bytes", std::to_string(s.fetch_min_bytes), "KAFKA_CONSUMER_MIN_BYTES"});
    out.push_back(
        {"fetch.max.bytes", std::to_string(s.fetch_max_bytes), "KAFKA_CONSUMER_MAX_BYTES"});
    out.push_back({"fetch.wait.max.ms", ms(s.fetch_max_wait), "KAFKA_CONSUMER_MAX_WAIT"});
    out.push_back({"queued.max.messages.kbytes", std::string(queued_max_kbytes), ""});
  } else {
    out.push_back(
        {"enable.idempotence", s.idempotence ? "true" : "false", "KAFKA_PRODUCER_IDEMPOTENCE"});
    out.push_back({"acks", s.acks, "KAFKA_PRODUCER_REQUIRE_ACKS"});
    // Attempts count the first send; librdkafka's retries do not.
    out.push_back(
        {"retries", std::to_string(std::max(0, s.max_attempts - 1)), "KAFKA_PRODUCER_MAX_ATTEMPTS"});
    out.push_back({"linger.ms", ms(s.linger), "KAFKA_PRODUCER_BATCH_TIMEOUT"});
    out.push_back({"compression.type", s.compression, "KAFKA_PRODUCER_COMPRESSION"});
  }
  add_security(s, certificate_location, out);

  for (const auto& p : s.passthrough) {
    if (client == Client::consumer ? !p.consumer : !p.producer) continue;
    const bool secret = is_secret_property(p.property);
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Property& existing) { return existing.name == p.property; });
    if (same != out.end()) {
      *same = {p.property, p.value, p.variable, secret};
    } else {
      out.push_back({p.property, p.value, p.variable, secret});
    }
  }
  return out;
}

}  // namespace kernel::config_detail
