// A kernel for the fault tests. Each input is {"id": "..."} (extra fields ignored) and its
// output is {"id": ..., "attempt": n} with the same key. A missing or non-string "id" is a
// validation_error, a value that is not JSON a deserialization_error (the runtime's own rules).
// FAULTS_FAIL_PERCENT (default 0) makes the handler fail that share of its calls, chosen by a
// hash of (FAULTS_SEED, id, attempt) so a run is reproducible yet every attempt draws anew:
// half of the failures are transient, a quarter permanent, a quarter business. Each business
// refusal is logged as "faults: business id=<id>" so the test can count them.
// FAULTS_OUTAGE_MS (default 0: none) is a downstream outage: from the FAULTS_OUTAGE_AFTER-th
// call on, for that long, every call fails with a connection error (ECONNREFUSED); its start
// and its end (seen by the first call after it) are logged with the number of failed calls.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <system_error>

#include <kernel/kernel.hpp>

namespace {

std::uint64_t setting(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

const std::uint64_t fail_percent = setting("FAULTS_FAIL_PERCENT", 0);
const std::uint64_t seed = setting("FAULTS_SEED", 1);
const std::uint64_t outage_ms = setting("FAULTS_OUTAGE_MS", 0);
const std::uint64_t outage_after = setting("FAULTS_OUTAGE_AFTER", 0);

/// The downstream outage, on the loop thread: true while every call must fail.
bool downstream_down(kernel::Context& context) {
  using Clock = std::chrono::steady_clock;
  static std::uint64_t calls = 0, failed = 0;
  static Clock::time_point until{};
  static bool over = false;
  if (outage_ms == 0 || over) return false;
  if (++calls <= outage_after) return false;
  const auto now = Clock::now();
  if (until == Clock::time_point{}) {
    until = now + std::chrono::milliseconds(outage_ms);
    context.log().info("faults: outage started for {} ms", outage_ms);
  }
  if (now < until) {
    ++failed;
    return true;
  }
  over = true;
  context.log().info("faults: outage over after {} failed calls", failed);
  return false;
}

/// splitmix64: a well-mixed draw from (seed, id, attempt), the same on every run.
std::uint64_t draw(const std::string& id, int attempt) {
  std::uint64_t x = seed ^ (std::hash<std::string>{}(id)*0x9E3779B97F4A7C15ULL) ^ static_cast<std::uint64_t>(attempt);
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

void handle(const kernel::Message& message, kernel::Context& context) {
  const auto document = message.json();
  const auto id = document.at("id").get<std::string>();
  if (downstream_down(context)) {
    throw std::system_error(ECONNREFUSED, std::generic_category(), "pricing service");
  }
  const auto roll = draw(id, context.attempt());
  if (roll % 100 < fail_percent) {
    switch ((roll / 100) % 4) {
      case 0:
      case 1: throw kernel::TransientError("dependency unavailable (injected)");
      case 2: throw kernel::PermanentError("rejected (injected)");
      default: context.log().info("faults: business id={}", id); throw kernel::BusinessError("refused (injected)");
    }
  }
  kernel::Outgoing output;
  if (auto key = message.key()) output.key(std::string(*key));
  context.produce(std::move(output.json({{"id", id}, {"attempt", context.attempt()}})));
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "faults-kernel";
  spec.input_topics = {"faults.in"};
  spec.output_topic = "faults.out";
  spec.handler = handle;
  return kernel::run(spec, argc, argv);
}
