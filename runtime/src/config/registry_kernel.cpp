// The registry's rows for the kernel's own behaviour: delivery guarantee, pipeline naming and
// topics, logging, timeouts, retries and the circuit breaker, batches, concurrency and
// deduplication (registry_rows.hpp). Part of kernel_config.
#include "config/registry_rows.hpp"

namespace kernel::config_detail::registry_rows {

namespace {

/// Written once: the row's default, and the part a value giving only the count or the age keeps.
constexpr std::string_view dedup_window_default = "10000,10m";

// Outputs of aborted transactions (a crashed or fenced instance's) are never read.
std::optional<std::string> read_committed_if_exactly_once(const Settings& s) {
  if (s.delivery != DeliveryGuarantee::exactly_once) return std::nullopt;
  return "read_committed";
}

// Empty when unset: the runtime derives the id (transactional_id.cpp), which needs SHA-256,
// and kernel::config links no crypto library.
std::optional<std::string> transactional_id_if_exactly_once(const Settings& s) {
  if (s.delivery != DeliveryGuarantee::exactly_once) return std::nullopt;
  return s.transactional_id;
}

}  // namespace

std::vector<VariableSpec> kernel_rows() {
  using S = Settings;
  return {
      stored_in(&S::delivery, choice<DeliveryGuarantee>(),
                {.name = env_var::KERNEL_DELIVERY,
                 .default_value = "at_least_once",
                 .description = "at_least_once, or exactly_once: outputs, dead letters and retry records written in "
                                "a Kafka transaction that also commits the inputs' offsets, read_committed "
                                "consumer; needs KAFKA_PRODUCER_IDEMPOTENCE (docs/exactly-once.md)",
                 .rdkafka = {{.name = "isolation.level",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = read_committed_if_exactly_once}}}),
      stored_in(&S::kernel_instance_id, text(),
                {.name = env_var::KERNEL_INSTANCE_ID,
                 .description = "Stable id of this instance, part of the derived transactional.id; unset: the host "
                                "name (a pod name in a StatefulSet keeps it across restarts)"}),
      stored_in(&S::transactional_id, text(),
                {.name = env_var::KERNEL_TRANSACTIONAL_ID,
                 .description = "transactional.id under exactly_once; unset: <group>.<inputs>.<instance id>, "
                                "<inputs> the sorted input topics joined by + (the first 16 hex digits of their "
                                "SHA-256 beyond 100 characters). A second instance with the same id fences the "
                                "first",
                 .rdkafka = {{.name = "transactional.id",
                              .clients = RdkafkaClients::transactional_producer,
                              .value = transactional_id_if_exactly_once}}}),
      stored_in(&S::allow_output_to_input, boolean(),
                {.name = env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT,
                 .default_value = "false",
                 .description = "Allow the output topic to be one of the input topics (the kernel then consumes its "
                                "own outputs: the handler must end that loop); refused at start otherwise"}),
      stored_in(&S::pipeline, text(),
                {.name = env_var::KERNEL_PIPELINE,
                 .description = "Pipeline this kernel is a step of; with KERNEL_STEP, names its topics and group by "
                                "KERNEL_TOPIC_PATTERN and turns the produce guard on (docs/pipelines.md)"}),
      stored_in(&S::step, text(),
                {.name = env_var::KERNEL_STEP, .description = "Name of this kernel's step in KERNEL_PIPELINE"}),
      stored_in(&S::cluster, text(),
                {.name = env_var::KERNEL_CLUSTER, .description = "Cluster name, the ${clusterName} of topic patterns"}),
      stored_in(&S::topic_pattern, text(),
                {.name = env_var::KERNEL_TOPIC_PATTERN,
                 .default_value = "pipeline.${pipelineName}.step.${stepName}.${kind}",
                 .description = "Topic names under pipeline naming; ${kind} is input, output, dead-letter, error or "
                                "retry.<n>; ${clusterName}, ${pipelineName} and ${stepName} may also be used in "
                                "any topic setting"}),
      stored_in(&S::allowed_topics, topic_list(),
                {.name = env_var::KERNEL_ALLOWED_TOPICS,
                 .description = "Produce guard whitelist: topics (or prefix.* for every topic starting prefix.) a "
                                "handler may write besides its own; written as the brokers know them "
                                "(KAFKA_TOPIC_PREFIX is not added); setting it turns the guard on"}),
      stored_in(&S::create_topics, boolean(),
                {.name = env_var::KERNEL_CREATE_TOPICS,
                 .default_value = "false",
                 .description = "Create the topics the kernel uses that are missing at start, instead of exiting "
                                "69"}),
      stored_in(&S::topic_partitions, optional_of(whole_number(1, " (partitions)")),
                {.name = env_var::KERNEL_TOPIC_PARTITIONS,
                 .description = "Partitions of the topics the kernel creates; defaults to the first input topic's"}),
      stored_in(&S::topic_replication, whole_number(1, " (replicas)"),
                {.name = env_var::KERNEL_TOPIC_REPLICATION,
                 .default_value = "3",
                 .description = "Replication factor of the topics the kernel creates, capped at the brokers "
                                "available"}),
      stored_in(&S::error_topic_retention, duration(Zero::refused),
                {.name = env_var::KERNEL_ERROR_TOPIC_RETENTION,
                 .default_value = "7d",
                 .description = "Retention (retention.ms) of the error and dead-letter topics the kernel creates"}),
      stored_in(&S::log_level, choice<LogLevel>(),
                {.name = env_var::KERNEL_LOG_LEVEL,
                 .default_value = "info",
                 .description = "Least severe log level written"}),
      stored_in(&S::log_format, choice<LogFormat>(),
                {.name = env_var::KERNEL_LOG_FORMAT,
                 .default_value = "text",
                 .description = "Log format: text, or json with one object per line"}),
      stored_in(&S::shutdown_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_SHUTDOWN_TIMEOUT,
                 .default_value = "25s",
                 .description = "Time to finish in-flight work, flush and commit after SIGTERM before exiting 1"}),
      stored_in(&S::startup_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_STARTUP_TIMEOUT,
                 .default_value = "30s",
                 .description = "Time for the brokers to answer and the topics to exist at start before exiting 69"}),
      stored_in(&S::retry_backoff, duration(Zero::refused),
                {.name = env_var::KERNEL_RETRY_BACKOFF,
                 .default_value = "200ms",
                 .description = "First delay of an in-place retry"}),
      stored_in(&S::retry_backoff_max, duration(Zero::refused),
                {.name = env_var::KERNEL_RETRY_BACKOFF_MAX,
                 .default_value = "30s",
                 .description = "Longest delay between in-place retries"}),
      stored_in(&S::retry_multiplier, number([](double value, std::string_view) {
        return value < 1.0 ? std::string("expected 1.0 or more") : std::string();
      }),
                {.name = env_var::KERNEL_RETRY_MULTIPLIER,
                 .default_value = "2.0",
                 .description = "Growth of the retry delay per attempt (at least 1)"}),
      stored_in(&S::retry_jitter, number([](double value, std::string_view example) {
        return value < 0.0 || value > 1.0 ? "expected a fraction from 0 to 1, e.g. " + std::string(example)
                                          : std::string();
      }),
                {.name = env_var::KERNEL_RETRY_JITTER,
                 .default_value = "0.2",
                 .description = "Random fraction (0 to 1) added to or taken from each retry delay"}),
      stored_in(
          &S::retry_topics, rising_durations(),
          {.name = env_var::KERNEL_RETRY_TOPICS,
           .description = "Comma-separated delays (1s,10s,1m) of non-blocking retry topics: a transient failure "
                          "moves to <kernel>.retry.1, .retry.2, ... (the prefix applies), then to the dead-letter "
                          "topic; KAFKA_CONSUMER_MAX_RETRIES is then ignored. Unset: retries in place"}),
      stored_in(&S::breaker_threshold, whole_number(0, " (consecutive transient failures; 0 turns the breaker off)"),
                {.name = env_var::KERNEL_BREAKER_THRESHOLD,
                 .default_value = "5",
                 .description = "Consecutive transient failures across the kernel that open the circuit breaker "
                                "(every partition paused); 0 turns the breaker off"}),
      stored_in(&S::breaker_cooldown, duration(Zero::refused),
                {.name = env_var::KERNEL_BREAKER_COOLDOWN,
                 .default_value = "10s",
                 .description = "How long the circuit stays open before one message goes through as a probe"}),
      stored_in(&S::breaker_cooldown_max, duration(Zero::refused),
                {.name = env_var::KERNEL_BREAKER_COOLDOWN_MAX,
                 .default_value = "5m",
                 .description = "Longest open period: each failed probe doubles the last one up to this"}),
      stored_in(&S::handler_timeout, optional_of(duration(Zero::refused)),
                {.name = env_var::KERNEL_HANDLER_TIMEOUT,
                 .description = "Handler deadline (context.deadline()); a call returning past it is a transient "
                                "failure (timeout); one still running at 3x it (at most the rebalance timeout) fails "
                                "/healthz; unset: no deadline"}),
      stored_in(&S::batch_size, whole_number(1, " (messages per batch)"),
                {.name = env_var::KERNEL_BATCH_SIZE,
                 .default_value = "500",
                 .description = "Most messages of one partition per batch_handler call (1 to "
                                "KAFKA_MAX_POLL_RECORDS); unused by a single-message handler"}),
      stored_in(&S::batch_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_BATCH_TIMEOUT,
                 .default_value = "100ms",
                 .description = "A partition's batch is handed to batch_handler when full or this long after its "
                                "first message arrived"}),
      stored_in(&S::concurrency,
                checked(whole_number(1, " and at most 1024 (worker threads)"),
                        [](int value, std::string_view) {
                          return value > 1024 ? std::string("expected at most 1024 (worker threads)") : std::string();
                        }),
                {.name = env_var::KERNEL_CONCURRENCY,
                 .default_value = "1",
                 .description = "Handler calls run on this many worker threads (1-1024); the poll loop stays on one "
                                "thread. Above 1 the handler must be thread-safe; each call gets its own Context "
                                "(docs/concurrency.md)"}),
      stored_in(&S::ordering, choice<Ordering>(),
                {.name = env_var::KERNEL_ORDERING,
                 .default_value = "key",
                 .description = "key: messages with the same key (null key: same partition) never run at the same "
                                "time and keep their order; partition: one at a time per partition; none: any order"}),
      stored_in(&S::dedup_window, dedup_window(dedup_window_default),
                {.name = env_var::KERNEL_DEDUP_WINDOW,
                 .default_value = std::string(dedup_window_default),
                 .description = "What kernel::middleware::deduplicate() remembers: this many completed event ids, "
                                "each for at most this long (COUNT,AGE; either alone sets that part). Used only by "
                                "kernels that add deduplicate() (docs/duplicates-and-formats.md)"}),
  };
}

}  // namespace kernel::config_detail::registry_rows
