#pragma once
/// The entry a kernel's main() calls:
///
///   int main(int argc, char** argv) { return kernel::run(spec, argc, argv); }
///
/// It parses the command line (--dev, --samples FILE, --print-config [--format
/// env|markdown|json], --health-check, --version, --help),
/// loads the configuration, runs the consumer loop until SIGINT/SIGTERM and returns the exit
/// code docs/reference.md lists (0, 1, 64, 69, 70, 77, 78, 130, 143).
#include <optional>
#include <string>
#include <vector>

#include "kernel/config.hpp"
#include "kernel/handler.hpp"
#include "kernel/kernel_settings.hpp"

namespace kernel {

struct KernelSpec {
  std::string name;                         ///< kernel name: group, client id, `source` header
  std::string version = "0.1.0";
  std::string description;
  std::vector<std::string> input_topics;    ///< defaults for KAFKA_TOPIC
  std::optional<std::string> output_topic;  ///< default for KAFKA_OUTPUT_TOPIC
  /// The kernel's own settings, read from <NAME>_<SETTING> (docs/kernel-settings.md) and
  /// through Context::setting<T>(); a name starting kafka- or kernel- is refused with them.
  std::vector<KernelSetting> settings = {};
  /// Named outputs, each overridable by KAFKA_OUTPUT_TOPIC_<NAME>; Context::produce_to() writes
  /// to them. output_topic stays the default output's.
  std::vector<KernelOutput> outputs = {};
  Handler handler;
  std::vector<ConsumerMiddleware> middleware;  ///< run in this order, outermost first
  /// Wraps each produce, in this order, outermost first (see kernel/middleware.hpp).
  std::vector<ProducerMiddleware> producer_middleware;
};

/// Exit codes (docs/reference.md, "Exit codes").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;        ///< FatalError, or work left at the shutdown deadline
inline constexpr int usage = 64;
inline constexpr int unavailable = 69;
inline constexpr int software = 70;      ///< fatal librdkafka error
inline constexpr int no_permission = 77; ///< authentication or TLS refused
inline constexpr int config = 78;
}  // namespace exit_code

int run(const KernelSpec& spec, int argc, char** argv);

/// The kernel's own settings and named outputs as run() will read them (the environment, then
/// ./.env), for main() to use before run(). Throws ConfigError listing every problem (run()
/// exits 78 on the same ones).
KernelValues load_settings(const KernelSpec& spec);

}  // namespace kernel
