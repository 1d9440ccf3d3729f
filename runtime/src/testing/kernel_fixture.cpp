#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "http/operations.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/testing.hpp"
#include "log/logging.hpp"
#include "loop/kernel_loop.hpp"
#include "run/kernel_defaults.hpp"
#include "run/samples.hpp"
#include "run/topics.hpp"

namespace kernel::testing {

struct KernelFixture::State {
  KernelSpec spec;
  std::optional<Config> config;
  std::unique_ptr<EmbeddedBroker> broker;
  std::unique_ptr<detail::Operations> operations;  // outlives the loop, which reports to it
  std::unique_ptr<detail::KernelLoop> loop;
  std::thread thread;
  std::mutex exit_mutex;
  std::condition_variable ended;
  bool finished = false;  // guarded by exit_mutex
  int exit_code = 0;      // likewise

  // What the waits need to know to fail at once instead of waiting out their timeout: the
  // end of what send() wrote, whether the kernel has handled and committed all of it, and the
  // dead letters it wrote. The hooks fill these on the loop thread.
  std::mutex mutex;
  std::map<std::int32_t, std::int64_t> sent_ends;
  bool settled = true;
  std::vector<jsonl::Record> dead_letters;
  std::chrono::steady_clock::time_point next_settle_check{};

  detail::LoopHooks hooks();
  /// Loop thread: has every message send() wrote been handled and committed?
  void check_settled();
  /// The dead letters that explain a wait that cannot succeed, or "" while it still may.
  std::string hopeless_because();
};

detail::LoopHooks KernelFixture::State::hooks() {
  detail::LoopHooks hooks;
  hooks.on_delivered = [this](const rd_kafka_message_t* message, bool dead_letter) {
    if (!dead_letter) return;
    auto record = jsonl::from_rdkafka(message);
    std::lock_guard lock(mutex);
    dead_letters.push_back(std::move(record));
  };
  hooks.should_stop = [this] {
    check_settled();
    return false;
  };
  return hooks;
}

void KernelFixture::State::check_settled() {
  const auto now = std::chrono::steady_clock::now();
  if (!loop || now < next_settle_check) return;
  next_settle_check = now + std::chrono::milliseconds(20);  // a map copy per loop turn is waste
  const auto committed = loop->committed_offsets();
  const auto& input = config->settings().input_topics.front();
  std::lock_guard lock(mutex);
  bool all = loop->in_flight() == 0 && loop->pending_outputs() == 0;
  for (const auto& [partition, end] : sent_ends) {
    const auto found = committed.find({input, partition});
    all = all && found != committed.end() && found->second >= end;
  }
  settled = all;
}

namespace {
std::string header_or(const jsonl::Record& record, std::string_view name, std::string fallback = "") {
  for (const auto& [key, value] : record.headers) {
    if (key == name) return value;
  }
  return fallback;
}

std::string count_of(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}
}  // namespace

std::string KernelFixture::State::hopeless_because() {
  std::lock_guard lock(mutex);
  if (!settled || dead_letters.empty()) return "";
  std::string out = "every message sent was handled and " + count_of(dead_letters.size(), "message") +
                    (dead_letters.size() == 1 ? " was" : " were") + " dead-lettered:";
  for (const auto& letter : dead_letters) {
    out += " " + header_or(letter, "dlq-original-topic", "?") + "[" + header_or(letter, "dlq-original-partition", "?") +
           "]@" + header_or(letter, "dlq-original-offset", "?");
    if (letter.key) out += " key \"" + *letter.key + "\"";
    out += ": " + header_or(letter, "dlq-failure-reason", "unknown reason");
    if (auto message = header_or(letter, "dlq-error-message"); !message.empty()) out += " (" + message + ")";
    out += ";";
  }
  out.pop_back();
  return out;
}

KernelFixture::KernelFixture(KernelSpec spec, Environment environment, std::chrono::milliseconds startup_timeout)
    : state_(std::make_unique<State>()) {
  state_->spec = std::move(spec);
  environment.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "embedded");
  environment.try_emplace(env_var::KERNEL_LOG_LEVEL, "warn");
  environment.try_emplace(env_var::KERNEL_HTTP_PORT, "off");  // "0" for a test that uses the endpoints
  std::random_device random;
  environment.try_emplace(env_var::KAFKA_CONSUMER_GROUP, state_->spec.name + "-test-" + std::to_string(random()));
  // A path that never exists: tests do not read the working directory's .env.
  state_->config.emplace(
      Config::load(detail::defaults_of(state_->spec), environment, RunMode::dev, "/nonexistent/kernel-fixture/.env"));
  const auto& settings = state_->config->settings();
  auto log = detail::make_logger(state_->spec.name, std::string(to_string(settings.log_level)),
                                 std::string(to_string(settings.log_format)), state_->config->secret_value_redactor());
  if (settings.embedded) state_->broker = detail::start_embedded_broker(*state_->config, *log);

  state_->operations = detail::Operations::start_if_enabled(settings, state_->spec.version, log);
  // The brokers and topics, checked as a kernel's start checks them under --dev (what is
  // missing is created).
  if (const int code = detail::verify_topics(*state_->config, detail::MissingTopics::create, log); code != 0) {
    throw std::runtime_error("kernel did not start: brokers or topics unavailable (exit " + std::to_string(code) +
                             "; the log line above says why)");
  }
  state_->loop = std::make_unique<detail::KernelLoop>(*state_->config, state_->spec, log, state_->hooks(),
                                                      detail::publication_of(state_->operations.get()));
  try {
    state_->loop->start();
  } catch (const detail::StartupError& error) {
    throw std::runtime_error(std::string("kernel did not start: ") + error.what());
  }
  state_->thread = std::thread([state = state_.get()] {
    const int code = state->loop->run();
    std::lock_guard lock(state->exit_mutex);
    state->exit_code = code;
    state->finished = true;
    state->ended.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + startup_timeout;
  while (!state_->loop->joined()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      state_->loop->request_stop();
      state_->thread.join();
      throw std::runtime_error("kernel did not join its group within the start-up timeout");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
}

KernelFixture::~KernelFixture() {
  if (state_ && state_->loop) {
    state_->loop->request_stop();
    if (state_->thread.joinable()) state_->thread.join();
  }
}

int KernelFixture::stop() {
  state_->loop->request_stop();
  if (state_->thread.joinable()) state_->thread.join();
  std::lock_guard lock(state_->exit_mutex);
  return state_->exit_code;
}

std::optional<int> KernelFixture::wait_for_exit(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->exit_mutex);
  if (!state_->ended.wait_for(lock, timeout, [this] { return state_->finished; })) return std::nullopt;
  return state_->exit_code;
}

void KernelFixture::send(const nlohmann::json& value, std::optional<std::string> key, Headers headers) {
  send_raw(value.dump(), std::move(key), std::move(headers));
}

void KernelFixture::send_msgpack(const nlohmann::json& value, std::optional<std::string> key, Headers headers) {
  if (!headers.contains("content-type")) {
    headers.add("content-type", std::string(content_type_header(ContentType::msgpack)));
  }
  std::string encoded;
  nlohmann::json::to_msgpack(value, encoded);
  send_raw(std::move(encoded), std::move(key), std::move(headers));
}

void KernelFixture::send_raw(std::string value, std::optional<std::string> key, Headers headers) {
  jsonl::Record record;
  record.key = std::move(key);
  record.value = std::move(value);
  record.headers = std::move(headers);
  const auto ends =
      detail::produce_records(bootstrap_servers(), state_->config->settings().input_topics.front(), {record});
  std::lock_guard lock(state_->mutex);
  for (const auto& [partition, end] : ends) {
    auto& known = state_->sent_ends[partition];
    known = std::max(known, end);
  }
  state_->settled = false;
}

std::vector<jsonl::Record> KernelFixture::read_topic(const std::string& topic, std::size_t at_least,
                                                     std::chrono::milliseconds timeout) {
  return detail::read_topic(bootstrap_servers(), topic, at_least, timeout);
}

namespace {
std::vector<jsonl::Record> require(std::vector<jsonl::Record> records, std::size_t count, const std::string& topic,
                                   const std::string& because = "") {
  if (records.size() < count) {
    throw std::runtime_error("expected " + count_of(count, "message") + " on " + topic + ", got " +
                             std::to_string(records.size()) + (because.empty() ? "" : ": " + because));
  }
  return records;
}
}  // namespace

std::vector<jsonl::Record> KernelFixture::outputs(std::size_t count, std::chrono::milliseconds timeout) {
  const auto& output = state_->config->settings().output_topic;
  if (!output) throw std::logic_error("this kernel has no output topic");
  // Gives up as soon as everything sent was handled with dead letters among it: the outputs
  // awaited will not come.
  auto records = detail::read_topic(bootstrap_servers(), *output, count, timeout,
                                    [this] { return !state_->hopeless_because().empty(); });
  const auto because = records.size() < count ? state_->hopeless_because() : std::string();
  return require(std::move(records), count, *output, because);
}

std::vector<jsonl::Record> KernelFixture::dead_letters(std::size_t count, std::chrono::milliseconds timeout) {
  const auto& dlq = state_->config->settings().dlq_topic;
  return require(read_topic(dlq, count, timeout), count, dlq);
}

const std::string& KernelFixture::bootstrap_servers() const { return state_->config->settings().bootstrap_servers; }

const Config& KernelFixture::config() const { return *state_->config; }

int KernelFixture::http_port() const { return state_->operations ? state_->operations->port() : -1; }

rd_kafka_mock_cluster_s* KernelFixture::mock_cluster() const {
  return state_->broker ? state_->broker->cluster() : nullptr;
}

}  // namespace kernel::testing
