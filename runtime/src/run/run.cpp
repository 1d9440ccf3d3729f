#include "kernel/run.hpp"

#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "config/settings.hpp"
#include "http/operations.hpp"
#include "http/ops_server.hpp"
#include "kernel/embedded_broker.hpp"
#include "log/logging.hpp"
#include "loop/handler_choice.hpp"
#include "loop/kernel_loop.hpp"
#include "run/allocator.hpp"
#include "run/kernel_defaults.hpp"
#include "run/samples.hpp"
#include "run/signals.hpp"
#include "run/topics.hpp"
#include "schema/registry_instance.hpp"

namespace kernel {

namespace {

detail::KernelLoop* active_loop = nullptr;
void stop_active_loop() {
  if (active_loop) active_loop->request_stop();  // an atomic store: async-signal-safe
}

struct CommandLine {
  bool dev = false;
  bool print_config = false;
  bool health_check = false;
  bool version = false;
  bool create_topics = false;
  std::string samples;
  std::string format;  // --print-config --format: the configuration reference
};

/// --health-check: asks the running kernel's /healthz on loopback; 0 healthy, 1 otherwise.
int check_health(const KernelSpec& spec, const Environment& environment) {
  std::optional<Config> config;
  try {
    // As --dev: the check connects to nothing but the kernel's own port, so an unset
    // KAFKA_BOOTSTRAP_SERVERS must not make it fail.
    config.emplace(Config::load(detail::defaults_of(spec), environment, RunMode::dev));
  } catch (const ConfigError& error) {
    std::cout << "unhealthy: configuration error: " << error.problems().front() << "\n";
    return exit_code::failure;
  }
  const auto& port = config->settings().http_port;
  if (!port || *port == 0) {
    std::cout << "unhealthy: KERNEL_HTTP_PORT is " << (port ? "0 (a port picked at start)" : "off")
              << ", so there is no /healthz to ask; set it to the kernel's port\n";
    return exit_code::failure;
  }
  return detail::health_check(config->settings().http_address, *port, std::cout);
}

}  // namespace

namespace detail {

/// Starts the embedded broker with the kernel's topics and points the configuration at it.
std::unique_ptr<EmbeddedBroker> start_embedded_broker(Config& config, spdlog::logger& log) {
  auto broker = std::make_unique<EmbeddedBroker>();
  const auto& s = config.settings();
  create_embedded_topics(*broker, s);
  config.use_bootstrap_servers(broker->bootstrap_servers());
  log.warn(
      "using the embedded development broker on {} (in memory, lost at exit, no TLS/SASL): for "
      "development only; set KAFKA_BOOTSTRAP_SERVERS to your brokers for anything else",
      broker->bootstrap_servers());
  return broker;
}

int run_loop(KernelLoop& loop, const Settings& settings, spdlog::logger& log) {
  try {
    loop.start();
  } catch (const StartupError& error) {
    log.error("{}", error.what());
    return error.code();
  }
  std::atomic<bool> returned{false};  // the loop may also stop by itself (samples done)
  ShutdownWatchdog watchdog(
      [&loop, &returned] { return loop.stopping() || returned.load(); }, settings.shutdown_timeout,
      [&log, &settings] {
        log.error(
            "shutdown did not finish within KERNEL_SHUTDOWN_TIMEOUT ({} ms); exiting with messages "
            "uncommitted (they will be delivered again)",
            settings.shutdown_timeout.count());
        log.flush();
      });
  const int code = loop.run();
  returned.store(true);
  // Still under the watchdog: the workers' running calls are waited for here, and a hung one
  // must not keep the process alive past KERNEL_SHUTDOWN_TIMEOUT.
  loop.close();
  return code;
}

}  // namespace detail

int run(const KernelSpec& spec, int argc, char** argv) {
  CLI::App app{spec.description.empty() ? spec.name : spec.name + ": " + spec.description, spec.name};
  CommandLine cli;
  app.add_flag("--dev", cli.dev, "Development: without KAFKA_BOOTSTRAP_SERVERS, use the embedded broker");
  app.add_option("--samples", cli.samples,
                 "Run FILE's messages (JSON Lines) through the kernel on the embedded broker, print what it "
                 "produced and dead-lettered, and exit (1 when a message's fate differs from its \"expect\")")
      ->option_text("FILE");
  auto* print_config =
      app.add_flag("--print-config", cli.print_config, "Print every setting with its source, secrets hidden, and exit");
  app.add_option("--format", cli.format,
                 "With --print-config: print the kernel's whole configuration reference instead (every variable, "
                 "with this kernel's defaults), as env, markdown or json; reads no environment")
      ->check(CLI::IsMember({"env", "markdown", "json"}))
      ->needs(print_config)
      ->option_text("env|markdown|json");
  app.add_flag("--health-check", cli.health_check,
               "Ask the running kernel's /healthz on 127.0.0.1:KERNEL_HTTP_PORT; exit 0 if healthy, else 1");
  app.add_flag("--version", cli.version, "Print the version and exit");
  app.add_flag("--create-topics", cli.create_topics,
               "Create the topics the kernel uses that are missing (KERNEL_TOPIC_PARTITIONS, KERNEL_TOPIC_REPLICATION, "
               "KERNEL_ERROR_TOPIC_RETENTION) and exit; for an init container or a deploy job");
  app.footer(
      "Configuration comes from KAFKA_* and KERNEL_* environment variables (and ./.env); see --print-config.\n"
      "Exit codes: 0 ok, 1 fatal handler error or unfinished shutdown, 64 usage, 69 unavailable,\n"
      "70 librdkafka fatal error, 77 authentication/TLS refused, 78 configuration.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::cerr << spec.name << ": " << error.what() << " (see --help)\n";
    return exit_code::usage;
  }
  if (cli.version) {
    std::cout << spec.name << " " << spec.version << " (new-kernel runtime, librdkafka " << rd_kafka_version_str()
              << ", " << detail::allocator_description() << ")\n";
    return exit_code::ok;
  }

  if (!cli.format.empty()) {
    const auto format = cli.format == "env"        ? ReferenceFormat::env
                        : cli.format == "markdown" ? ReferenceFormat::markdown
                                                   : ReferenceFormat::json;
    std::cout << configuration_reference(detail::defaults_of(spec), format);
    return exit_code::ok;
  }

  const auto mode = !cli.samples.empty() ? RunMode::samples : cli.dev ? RunMode::dev : RunMode::production;
  const auto environment = process_environment();
  if (cli.health_check) return check_health(spec, environment);
  // The kernel's code (its handlers) and its configuration are checked
  // together, the same way for --print-config as for a start: every problem at once, one line each.
  std::vector<std::string> problems;
  std::optional<Config> loaded;
  try {
    auto defaults = detail::defaults_of(spec);
    defaults.handler_choice = detail::handler_choice_of(spec);
    loaded.emplace(Config::load(defaults, environment, mode));
  } catch (const ConfigError& error) {
    problems.insert(problems.end(), error.problems().begin(), error.problems().end());
  }
  if (!problems.empty()) {
    for (const auto& problem : problems) std::cerr << problem << "\n";
    return exit_code::config;
  }
  Config& config = *loaded;
  if (cli.print_config) {
    // What a start would log as warnings: checking a configuration shows them too.
    for (const auto& warning : config.warnings()) std::cerr << "warning: " << warning << "\n";
    std::cout << config.describe();
    return exit_code::ok;
  }

  const auto& settings = config.settings();
  auto log = detail::make_logger(spec.name, std::string(to_string(settings.log_level)),
                                 std::string(to_string(settings.log_format)), config.secret_value_redactor());
  for (const auto& warning : config.warnings()) log->warn("{}", warning);
  if (const int code = schema::install_registry_from(settings, *log); code != exit_code::ok) return code;

  if (mode == RunMode::samples) return detail::run_samples(spec, config, cli.samples, environment, log);
  if (cli.create_topics) {
    if (settings.embedded) {
      log->warn("--create-topics with the embedded broker creates topics that are gone at exit");
      return exit_code::ok;
    }
    const int code = detail::verify_topics(config, detail::MissingTopics::create, log);
    if (code == exit_code::ok) log->info("every topic this kernel uses exists");
    return code;
  }

  // Health, metrics and admin: bound before anything connects, so a taken port fails at once.
  std::unique_ptr<detail::Operations> operations;
  try {
    operations = detail::Operations::start_if_enabled(settings, spec.version, log);
  } catch (const detail::PortUnavailable& error) {
    log->error("{}", error.what());
    return exit_code::unavailable;
  }

  std::unique_ptr<EmbeddedBroker> broker;
  if (settings.embedded) {
    try {
      broker = detail::start_embedded_broker(config, *log);
    } catch (const std::exception& error) {
      log->error("{}", error.what());
      return exit_code::software;
    }
  }
  // --dev and KERNEL_CREATE_TOPICS create what is missing; otherwise a missing topic is exit 69.
  const auto missing =
      mode == RunMode::dev || settings.create_topics ? detail::MissingTopics::create : detail::MissingTopics::refuse;
  if (const int code = detail::verify_topics(config, missing, log); code != exit_code::ok) return code;
  std::optional<detail::KernelLoop> made;
  try {
    made.emplace(config, spec, log, detail::LoopHooks{}, detail::publication_of(operations.get()));
  } catch (const std::invalid_argument& error) {
    // A bug of the kernel's code seen at start (an invalid KernelSpec::metrics declaration).
    log->error("{}", error.what());
    return exit_code::software;
  }
  detail::KernelLoop& loop = *made;
  active_loop = &loop;
  detail::StopSignals signals(&stop_active_loop, spec.name, settings.log_format == LogFormat::json);
  const int code = detail::run_loop(loop, config.settings(), *log);
  active_loop = nullptr;
  return code;
}

KernelValues load_settings(const KernelSpec& spec) {
  return load_kernel_values(detail::defaults_of(spec), process_environment());
}

}  // namespace kernel
