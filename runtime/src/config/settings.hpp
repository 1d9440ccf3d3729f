#pragma once
// Settings: every effective, typed setting of a configuration, field by field, and the closed
// sets of values some take. Kept out of the public kernel/config.hpp, which only declares it:
// a kernel reads its own settings through KernelValues; the runtime, its tools and its tests
// read these fields (Config::settings()).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"
#include "kernel/kernel_settings.hpp"

namespace kernel {

/// Settings whose values form a closed set. to_string() gives the text a user writes and
/// librdkafka reads ("SASL_SSL", "all", "snappy", "earliest", "info", "json").
enum class SecurityProtocol { plaintext, ssl, sasl_plaintext, sasl_ssl };
enum class SaslMechanism { plain, scram_sha_256, scram_sha_512 };
/// `none` (0) exists only to be refused by name: at-least-once needs acknowledgements.
enum class Acks { all, leader, none };
enum class Compression { none, gzip, snappy, lz4, zstd };
enum class StartOffset { earliest, latest };
enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };
/// KERNEL_ORDERING: which messages never run at the same time (docs/concurrency.md).
enum class Ordering { key, partition, none };
/// KERNEL_DELIVERY: commits as today, or outputs and offsets in one Kafka transaction.
enum class DeliveryGuarantee { at_least_once, exactly_once };
/// KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY: an output's subject is `<topic>-value` or its record's full name.
enum class SubjectStrategy { topic, record };
std::string_view to_string(SecurityProtocol value);
std::string_view to_string(SaslMechanism value);
std::string_view to_string(Acks value);
std::string_view to_string(Compression value);
std::string_view to_string(StartOffset value);
std::string_view to_string(LogLevel value);
std::string_view to_string(LogFormat value);
std::string_view to_string(Ordering value);
std::string_view to_string(DeliveryGuarantee value);
std::string_view to_string(SubjectStrategy value);

/// KERNEL_DEDUP_WINDOW: deduplicate() remembers at most `count` completed event ids, each for
/// at most `age` after it completed (middleware.hpp).
struct DedupWindow {
  std::size_t count = 0;
  std::chrono::milliseconds age{};
  bool operator==(const DedupWindow&) const = default;
};

/// Effective, typed settings. A default-constructed Settings holds the registry's defaults
/// (docs/configuration.md), which are written only there.
struct Settings {
  Settings();

  std::string kernel_name;
  std::string bootstrap_servers;            ///< empty only before validation
  bool embedded = false;                    ///< KAFKA_BOOTSTRAP_SERVERS=embedded (or --dev, --samples)
  std::vector<std::string> input_topics;    ///< prefix applied
  std::optional<std::string> output_topic;  ///< prefix applied
  std::string dlq_topic;                    ///< prefix applied
  std::string topic_prefix;
  bool allow_output_to_input{};  ///< KERNEL_ALLOW_OUTPUT_TO_INPUT
  bool batch_handler = false;    ///< KernelDefaults::batch_handler: the settings were checked for batches
  std::optional<HandlerChoice> handler_choice;  ///< KernelDefaults::handler_choice
  std::string group_id;
  std::string client_id;

  // TLS and SASL, decoded PEM text held in memory only.
  std::string ca_cert_pem, client_cert_pem, client_key_pem, client_key_password;
  std::optional<SaslMechanism> sasl_mechanism;  ///< nullopt: no SASL asked for
  std::string sasl_username, sasl_password;
  SecurityProtocol security_protocol{};  ///< derived from the above unless given

  bool idempotence{};
  Acks acks{};
  int max_attempts{};
  std::chrono::milliseconds linger{};
  Compression compression{};

  StartOffset start_offset{};
  long long fetch_min_bytes{};
  long long fetch_max_bytes{};
  std::chrono::milliseconds fetch_max_wait{};
  std::chrono::milliseconds commit_interval{};
  std::chrono::milliseconds heartbeat_interval{};
  std::chrono::milliseconds session_timeout{};
  std::chrono::milliseconds rebalance_timeout{};
  int max_retries{};
  std::string instance_id;
  int max_poll_records{};

  DeliveryGuarantee delivery{};    ///< KERNEL_DELIVERY (docs/exactly-once.md)
  std::string kernel_instance_id;  ///< KERNEL_INSTANCE_ID; empty: this host's name
  std::string transactional_id;    ///< KERNEL_TRANSACTIONAL_ID; empty: derived (transactional_id())

  LogLevel log_level{};
  LogFormat log_format{};
  std::chrono::milliseconds shutdown_timeout{};
  std::chrono::milliseconds startup_timeout{};
  std::chrono::milliseconds retry_backoff{};
  std::chrono::milliseconds retry_backoff_max{};
  double retry_multiplier{};
  double retry_jitter{};
  /// KERNEL_RETRY_TOPICS: the delay of each retry topic (empty: retries in place).
  std::vector<std::chrono::milliseconds> retry_topics;
  int breaker_threshold{};  ///< 0: breaker off
  std::chrono::milliseconds breaker_cooldown{};
  std::chrono::milliseconds breaker_cooldown_max{};
  std::optional<std::chrono::milliseconds> handler_timeout;  ///< nullopt: no deadline
  int batch_size{};                                          ///< KERNEL_BATCH_SIZE (batch_handler)
  std::chrono::milliseconds batch_timeout{};                 ///< KERNEL_BATCH_TIMEOUT (batch_handler)
  int concurrency{};                                         ///< KERNEL_CONCURRENCY: worker threads (1: none)
  Ordering ordering{};                                       ///< KERNEL_ORDERING
  DedupWindow dedup_window;                                  ///< KERNEL_DEDUP_WINDOW

  std::optional<int> http_port;  ///< nullopt: off; 0: pick a free port (ops)
  std::string http_address;      ///< IPv4 or IPv6 address the endpoints listen on (ops)
  std::string admin_token;       ///< empty: admin endpoints off (ops)
  int metrics_max_series{};      ///< KERNEL_METRICS_MAX_SERIES: series per metric of the kernel's own
  bool client_metrics{};         ///< KERNEL_CLIENT_METRICS: librdkafka's statistics as metrics
  std::chrono::milliseconds client_metrics_interval{};  ///< KERNEL_CLIENT_METRICS_INTERVAL

  // Pipeline naming and topics (docs/pipelines.md).
  std::string pipeline;                    ///< KERNEL_PIPELINE; with step, turns pipeline naming on
  std::string step;                        ///< KERNEL_STEP
  std::string cluster;                     ///< KERNEL_CLUSTER, the ${clusterName} of topic patterns
  std::string topic_pattern;               ///< KERNEL_TOPIC_PATTERN
  std::optional<std::string> error_topic;  ///< prefix applied; nullopt: no error topic
  /// KERNEL_ALLOWED_TOPICS as written: exact names and `prefix.*`, never prefixed.
  std::vector<std::string> allowed_topics;
  bool create_topics{};                 ///< KERNEL_CREATE_TOPICS
  std::optional<int> topic_partitions;  ///< nullopt: as many as the first input topic
  int topic_replication{};
  std::chrono::milliseconds error_topic_retention{};

  /// KAFKA_PROPERTY_* pass-through, with the client(s) each applies to.
  struct Passthrough {
    std::string property, value, variable;
    bool consumer = true, producer = true;
  };
  std::vector<Passthrough> passthrough;

  /// The kernel's own settings and named outputs as declared (KernelSpec::settings, ::outputs),
  /// and their values; output topics there are without KAFKA_TOPIC_PREFIX.
  std::vector<KernelSetting> kernel_settings;
  std::vector<KernelOutput> named_outputs;
  KernelValues kernel_values;

  // Schema registry (docs/interop.md#schema-registry); TLS from the KAFKA_CA_CERT/CLIENT_* above.
  std::string schema_registry_url;  ///< empty: no registry
  std::string schema_registry_user, schema_registry_password;
  SubjectStrategy subject_strategy{};
  /// KERNEL_REPLY_TOPICS: where a reply's reply-to may point, glob patterns after KAFKA_TOPIC_PREFIX.
  std::vector<std::string> reply_topics;
};

}  // namespace kernel
