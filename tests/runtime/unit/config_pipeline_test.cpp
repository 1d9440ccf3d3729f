// Pipeline naming: the convention, KERNEL_TOPIC_PATTERN and its variables, precedence, errors;
// and the produce guard's whitelist.
#include <doctest/doctest.h>

#include <algorithm>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"

#include "config_problems.hpp"

namespace config_pipeline_test {

using namespace kernel;

namespace {

const KernelDefaults orders{"orders-enricher", {"orders"}, std::string("orders.enriched")};

Config load(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  return Config::load(orders, env, RunMode::production, "/nonexistent-dir/.env");
}

Environment step(Environment env = {}) {
  env.try_emplace(env_var::KERNEL_PIPELINE, "orders");
  env.try_emplace(env_var::KERNEL_STEP, "enrich");
  return env;
}

/// A copy: Config owns its Settings.
Settings settings_of(Environment env) { return load(std::move(env)).settings(); }

std::vector<std::string> problems_of(Environment env) {
  return config_problems::problems_from([&] { load(std::move(env)); });
}

std::string only_problem(Environment env) {
  return config_problems::only_problem_from([&] { load(std::move(env)); });
}

using config_problems::contains;

}  // namespace

TEST_CASE("pipeline naming: the convention names every topic and the group") {
  const auto config = load(step());
  const auto& s = config.settings();
  CHECK(pipeline_naming(s));
  CHECK(s.input_topics == std::vector<std::string>{"pipeline.orders.step.enrich.input"});
  CHECK(s.output_topic == "pipeline.orders.step.enrich.output");
  CHECK(s.dlq_topic == "pipeline.orders.step.enrich.dead-letter");
  CHECK(s.error_topic == "pipeline.orders.step.enrich.error");
  CHECK(s.group_id == "orders-consumer-group");
  CHECK(retry_topic(s, 2) == "pipeline.orders.step.enrich.retry.2");
  CHECK(pipeline_output_topic(s, "international") == "pipeline.orders.step.enrich.output.international");
  CHECK(config.source_of(env_var::KAFKA_TOPIC) == "pipeline");
  CHECK(config.source_of(env_var::KAFKA_ERROR_TOPIC) == "pipeline");
}

TEST_CASE("pipeline naming: a named output is ....output.<name> unless KAFKA_OUTPUT_TOPIC_<NAME> says") {
  KernelDefaults router = orders;
  router.outputs = {{"international", "orders.intl"}, {"audit", "orders.audit"}};
  const auto load_router = [&](Environment env) {
    env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
    return Config::load(router, env, RunMode::production, "/nonexistent-dir/.env");
  };
  const auto config =
      load_router(step({{"KAFKA_OUTPUT_TOPIC_AUDIT", "audit.v2"}, {env_var::KAFKA_TOPIC_PREFIX, "staging."}}));
  const auto& s = config.settings();
  CHECK(s.kernel_values.output_topic("international") == "pipeline.orders.step.enrich.output.international");
  CHECK(s.kernel_values.output_topic("audit") == "audit.v2");
  CHECK(config.source_of("KAFKA_OUTPUT_TOPIC_INTERNATIONAL") == "pipeline");
  CHECK(config.source_of("KAFKA_OUTPUT_TOPIC_AUDIT") == "env");
  CHECK(contains(config.describe(),
                 "KAFKA_OUTPUT_TOPIC_INTERNATIONAL=pipeline.orders.step.enrich.output.international  # pipeline\n"));
  // The prefix applies as to every topic: the start-up check and the guard see the full name.
  const auto topics = kernel_topics(s);
  CHECK(std::any_of(topics.begin(), topics.end(), [](const KernelTopic& topic) {
    return topic.name == "staging.pipeline.orders.step.enrich.output.international";
  }));
  CHECK(ProduceGuard(s).refusal("staging.pipeline.orders.step.enrich.output.international").empty());
  CHECK(pipeline_output_topic(s, "international") == "staging.pipeline.orders.step.enrich.output.international");

  // Without pipeline naming, the topic compiled into the spec.
  const auto plain = load_router({});
  CHECK(plain.settings().kernel_values.output_topic("international") == "orders.intl");
  CHECK(plain.source_of("KAFKA_OUTPUT_TOPIC_INTERNATIONAL") == "code");
}

TEST_CASE("pipeline naming: a kernel without an output gets no output topic") {
  const KernelDefaults consumer{"audit-log", {"payments"}, std::nullopt};
  const auto config = Config::load(consumer, step({{env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092"}}),
                                   RunMode::production, "/nonexistent-dir/.env");
  CHECK_FALSE(config.settings().output_topic);
  CHECK(config.settings().input_topics == std::vector<std::string>{"pipeline.orders.step.enrich.input"});
}

TEST_CASE("pipeline naming: off without KERNEL_PIPELINE and KERNEL_STEP") {
  const auto config = load({});
  const auto& s = config.settings();
  CHECK_FALSE(pipeline_naming(s));
  CHECK(s.input_topics == std::vector<std::string>{"orders"});
  CHECK_FALSE(s.error_topic);
  CHECK(retry_topic(s, 1) == "orders-enricher.retry.1");
  CHECK_FALSE(pipeline_output_topic(s, "international"));
}

TEST_CASE("pipeline naming: precedence is environment, then convention, then the kernel's code") {
  SUBCASE("an environment setting wins over the convention") {
    const auto config = load(step({{env_var::KAFKA_OUTPUT_TOPIC, "audit"},
                                   {env_var::KAFKA_CONSUMER_GROUP, "mine"},
                                   {env_var::KAFKA_DLQ_TOPIC, "parked"},
                                   {env_var::KAFKA_ERROR_TOPIC, "errors"}}));
    const auto& s = config.settings();
    CHECK(s.output_topic == "audit");
    CHECK(s.group_id == "mine");
    CHECK(s.dlq_topic == "parked");
    CHECK(s.error_topic == "errors");
    CHECK(s.input_topics == std::vector<std::string>{"pipeline.orders.step.enrich.input"});
    CHECK(config.source_of(env_var::KAFKA_OUTPUT_TOPIC) == "env");
  }
  SUBCASE("the convention wins over the compiled-in topics") {
    const auto s = settings_of(step());
    CHECK(s.input_topics.front() != "orders");
    CHECK(s.output_topic != "orders.enriched");
  }
  SUBCASE("KAFKA_TOPIC_PREFIX applies to convention topics, not to the group") {
    const auto s = settings_of(step({{env_var::KAFKA_TOPIC_PREFIX, "staging."}}));
    CHECK(s.input_topics == std::vector<std::string>{"staging.pipeline.orders.step.enrich.input"});
    CHECK(s.error_topic == "staging.pipeline.orders.step.enrich.error");
    CHECK(s.group_id == "orders-consumer-group");
    CHECK(pipeline_topic(s, "output") == "staging.pipeline.orders.step.enrich.output");
  }
}

TEST_CASE("pipeline naming: KERNEL_TOPIC_PATTERN and its variables") {
  SUBCASE("every variable") {
    const auto s =
        settings_of(step({{env_var::KERNEL_CLUSTER, "eu1"},
                          {env_var::KERNEL_TOPIC_PATTERN, "${clusterName}.${pipelineName}.${stepName}.${kind}"}}));
    CHECK(s.input_topics == std::vector<std::string>{"eu1.orders.enrich.input"});
    CHECK(s.dlq_topic == "eu1.orders.enrich.dead-letter");
    CHECK(retry_topic(s, 3) == "eu1.orders.enrich.retry.3");
  }
  SUBCASE("the seed's legacy prefix") {
    const auto s =
        settings_of(step({{env_var::KERNEL_TOPIC_PATTERN, "yappy.pipeline.${pipelineName}.step.${stepName}.${kind}"}}));
    CHECK(s.output_topic == "yappy.pipeline.orders.step.enrich.output");
  }
  SUBCASE("topic settings use the same variables, ${kind} being their own") {
    const auto s = settings_of(step({{env_var::KERNEL_CLUSTER, "eu1"},
                                     {env_var::KAFKA_TOPIC, "${clusterName}.raw-orders,legacy.${kind}"},
                                     {env_var::KAFKA_OUTPUT_TOPIC, "${pipelineName}.${stepName}.${kind}"},
                                     {env_var::KAFKA_CONSUMER_GROUP, "${pipelineName}-${stepName}"}}));
    CHECK(s.input_topics == std::vector<std::string>{"eu1.raw-orders", "legacy.input"});
    CHECK(s.output_topic == "orders.enrich.output");
    CHECK(s.group_id == "orders-enrich");
  }
}

TEST_CASE("pipeline naming: configuration errors, one line each, all at once") {
  SUBCASE("KERNEL_PIPELINE without KERNEL_STEP, and the reverse") {
    CHECK(contains(only_problem({{env_var::KERNEL_PIPELINE, "orders"}}),
                   "KERNEL_PIPELINE=\"orders\": is set without KERNEL_STEP"));
    CHECK(contains(only_problem({{env_var::KERNEL_STEP, "enrich"}}),
                   "KERNEL_STEP=\"enrich\": is set without KERNEL_PIPELINE"));
  }
  SUBCASE("an unknown variable in the pattern") {
    const auto problem = only_problem(step({{env_var::KERNEL_TOPIC_PATTERN, "${pipeline}.${kind}"}}));
    CHECK(contains(problem, env_var::KERNEL_TOPIC_PATTERN));
    CHECK(contains(problem, "unknown variable ${pipeline}"));
  }
  SUBCASE("a pattern without ${kind}") {
    CHECK(contains(only_problem(step({{env_var::KERNEL_TOPIC_PATTERN, "p.${pipelineName}.${stepName}"}})),
                   "has no ${kind}"));
  }
  SUBCASE("a pattern that yields an invalid topic name") {
    CHECK(contains(only_problem(step({{env_var::KERNEL_TOPIC_PATTERN, "p/${pipelineName}.${kind}"}})),
                   "yields topic \"p/orders.input\""));
  }
  SUBCASE("${clusterName} without KERNEL_CLUSTER") {
    CHECK(contains(only_problem(step({{env_var::KERNEL_TOPIC_PATTERN, "${clusterName}.${pipelineName}.${kind}"}})),
                   "needs KERNEL_CLUSTER"));
  }
  SUBCASE("an unknown variable in a topic setting") {
    CHECK(contains(only_problem(step({{env_var::KAFKA_OUTPUT_TOPIC, "${cluster}.out"}})),
                   "KAFKA_OUTPUT_TOPIC=\"${cluster}.out\": unknown variable ${cluster}"));
  }
  SUBCASE("a pipeline name that cannot be part of a topic") {
    CHECK(contains(only_problem(step({{env_var::KERNEL_PIPELINE, "my orders"}})), "KERNEL_PIPELINE=\"my orders\""));
  }
  SUBCASE("all at once") {
    const auto problems = problems_of({{env_var::KERNEL_PIPELINE, "orders"},
                                       {env_var::KERNEL_TOPIC_PATTERN, "${nope}"},
                                       {env_var::KERNEL_ALLOWED_TOPICS, "*"}});
    CHECK(problems.size() == 3);
  }
}

TEST_CASE("produce guard: KERNEL_ALLOWED_TOPICS") {
  SUBCASE("a bare * is refused") {
    CHECK(contains(only_problem({{env_var::KERNEL_ALLOWED_TOPICS, "audit,*"}}), "a bare * would allow every topic"));
  }
  SUBCASE("only a trailing .* is a wildcard") {
    CHECK(contains(only_problem({{env_var::KERNEL_ALLOWED_TOPICS, "audit*"}}), "only a trailing .* is a wildcard"));
  }
  SUBCASE("off without pipeline naming or a whitelist") {
    const ProduceGuard guard(load({}).settings());
    CHECK_FALSE(guard.active());
    CHECK(guard.refusal("anything").empty());
  }
  SUBCASE("exact names and prefixes, never prefixed by KAFKA_TOPIC_PREFIX") {
    const ProduceGuard guard(
        load({{env_var::KERNEL_ALLOWED_TOPICS, "audit,metrics.*"}, {env_var::KAFKA_TOPIC_PREFIX, "dev."}}).settings());
    CHECK(guard.active());
    CHECK(guard.refusal("audit").empty());
    CHECK(guard.refusal("metrics.orders").empty());
    CHECK(guard.refusal("dev.orders.enriched").empty());  // its own output
    CHECK(guard.refusal("dev.orders-enricher.dlq").empty());
    CHECK_FALSE(guard.refusal("dev.audit").empty());
    CHECK_FALSE(guard.refusal("metricsx").empty());
    CHECK_FALSE(guard.refusal("orders").empty());  // not even its input: that would be a loop
  }
}

TEST_CASE("produce guard: under pipeline naming") {
  const auto settings =
      load(step({{env_var::KERNEL_ALLOWED_TOPICS, "pipeline.billing.step.invoice.input"}})).settings();
  const ProduceGuard guard(settings);
  REQUIRE(guard.active());
  SUBCASE("its own step's topics") {
    CHECK(guard.refusal("pipeline.orders.step.enrich.output").empty());
    CHECK(guard.refusal("pipeline.orders.step.enrich.output.international").empty());
    CHECK(guard.refusal("pipeline.orders.step.enrich.error").empty());
    CHECK(guard.refusal("pipeline.orders.step.enrich.retry.1").empty());
  }
  SUBCASE("a whitelisted cross-pipeline topic") { CHECK(guard.refusal("pipeline.billing.step.invoice.input").empty()); }
  SUBCASE("another pipeline's topic is refused unless whitelisted") {
    const auto why = guard.refusal("pipeline.billing.step.pay.input");
    CHECK(contains(why, "topic of pipeline billing"));
    CHECK(contains(why, env_var::KERNEL_ALLOWED_TOPICS));
  }
  SUBCASE("another step of its own pipeline, or any other topic, is refused") {
    CHECK_FALSE(guard.refusal("pipeline.orders.step.route.input").empty());
    CHECK_FALSE(guard.refusal("pipeline.orders.step.enrich.input").empty());
    CHECK_FALSE(guard.refusal("audit").empty());
  }
  SUBCASE("a declared output of another pipeline must be whitelisted") {
    CHECK(contains(only_problem(step({{env_var::KAFKA_OUTPUT_TOPIC, "pipeline.billing.step.pay.input"}})),
                   "writing across pipelines must be explicit"));
    const auto allowed = load(step({{env_var::KAFKA_OUTPUT_TOPIC, "pipeline.billing.step.pay.input"},
                                    {env_var::KERNEL_ALLOWED_TOPICS, "pipeline.billing.step.pay.input"}}));
    CHECK(ProduceGuard(allowed.settings()).refusal("pipeline.billing.step.pay.input").empty());
  }
}

TEST_CASE("kernel topics: everything read or written, once, for the start-up check") {
  const auto settings =
      load(step({{env_var::KERNEL_ALLOWED_TOPICS, "audit,metrics.*"}, {env_var::KERNEL_RETRY_TOPICS, "1s,10s"}}))
          .settings();
  std::vector<std::string> names;
  for (const auto& topic : kernel_topics(settings)) names.push_back(topic.name);
  CHECK(names == std::vector<std::string>{"pipeline.orders.step.enrich.input", "pipeline.orders.step.enrich.output",
                                          "pipeline.orders.step.enrich.dead-letter",
                                          "pipeline.orders.step.enrich.error", "pipeline.orders.step.enrich.retry.1",
                                          "pipeline.orders.step.enrich.retry.2", "audit",
                                          "pipeline.orders.step.enrich.control"});
}

TEST_CASE("configuration: durations take days") {
  const auto s = settings_of({{env_var::KERNEL_ERROR_TOPIC_RETENTION, "2d"}});
  CHECK(s.error_topic_retention == std::chrono::hours(48));
  CHECK(load({}).settings().error_topic_retention == std::chrono::hours(7 * 24));
}

}  // namespace config_pipeline_test
