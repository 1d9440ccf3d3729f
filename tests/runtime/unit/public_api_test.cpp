// The public API a handler author sees: sealed where it must be, convenient where it can be.
#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <utility>

// First and alone: what a Context brings by itself. It names spdlog::logger without spdlog's
// headers; kernel.hpp brings them, for handlers to log with.
#include "kernel/context.hpp"

#if defined(SPDLOG_API) || defined(SPDLOG_VERSION)
#error "kernel/context.hpp includes spdlog"
#endif

namespace public_api_test {
template <class T>
concept complete = requires {
  sizeof(T);
};
static_assert(!complete<spdlog::logger>);
}  // namespace public_api_test

#include "kernel/config.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/jsonl.hpp"
#include "kernel/kernel.hpp"
#include "kernel/requester.hpp"
#include "kernel/testing.hpp"

// Stand-ins for the runtime's plumbing. Qualified lookup in kernel::detail reaches them only when
// no public header declares the real name there, so each check below proves the name undeclared.
namespace public_api_test::absent {
struct ContextAccess;
struct KernelMetrics;
struct CompletionHook;
struct TopicCheck;
struct ProduceRefusal;
}  // namespace public_api_test::absent
namespace kernel::detail {
using namespace public_api_test::absent;
}  // namespace kernel::detail
// The same for what kernel/config.hpp no longer holds (runtime/src/config/settings.hpp): qualified
// lookup in kernel reaches a stand-in only when no public header declares the name there.
namespace public_api_test::absent_config {
struct SecurityProtocol;
struct SaslMechanism;
struct Acks;
struct Compression;
struct StartOffset;
struct LogLevel;
struct LogFormat;
struct Ordering;
struct DeliveryGuarantee;
struct DedupWindow;
struct FromKernel;
struct RdkafkaClients;
struct RdkafkaProperty;
struct VariableSpec;
struct Marker {};
inline constexpr Marker config_registry{};
inline constexpr Marker config_registry_json{};
inline constexpr Marker config_registry_markdown{};
inline constexpr Marker kernel_variables{};
}  // namespace public_api_test::absent_config
namespace kernel {
using namespace public_api_test::absent_config;
}  // namespace kernel

namespace public_api_test {

// Nothing of librdkafka's C API comes with a public header (only declared types).
#if defined(RD_KAFKA_VERSION) || defined(_RDKAFKA_MOCK_H_)
#error "a public kernel header includes librdkafka/rdkafka.h or rdkafka_mock.h"
#endif

namespace {

// The runtime's way into a Context is not declared, so nothing befriends it; nor is the type of
// the metrics it reaches, nor what an attempt leaves for the runtime's verdict.
static_assert(std::is_same_v<kernel::detail::ContextAccess, absent::ContextAccess>);
static_assert(std::is_same_v<kernel::detail::KernelMetrics, absent::KernelMetrics>);
static_assert(std::is_same_v<kernel::detail::CompletionHook, absent::CompletionHook>);
static_assert(std::is_same_v<kernel::detail::TopicCheck, absent::TopicCheck>);
static_assert(std::is_same_v<kernel::detail::ProduceRefusal, absent::ProduceRefusal>);

// Unqualified lookup in a class derived from Context finds Context's members, private ones too,
// before the enclosing namespace's: these find the stand-ins only if Context has no such members.
using absent::ProduceRefusal;
using absent::TopicCheck;
struct DerivedFromContext : kernel::Context {
  static_assert(std::is_same_v<TopicCheck, absent::TopicCheck>);
  static_assert(std::is_same_v<ProduceRefusal, absent::ProduceRefusal>);
};

// What the runtime keeps of a Context is a type a handler cannot use.
static_assert(!complete<kernel::detail::ContextState>);

// A handler's own metrics: Context::metrics() is the kernel's Metrics (not the runtime's
// KernelMetrics), whose families and registry are declared only; its handles are made only by
// it, and KernelSpec declares them at start.
static_assert(std::is_same_v<decltype(std::declval<kernel::Context&>().metrics()), kernel::Metrics&>);
static_assert(!complete<kernel::detail::OwnMetricsState>);
static_assert(!complete<kernel::detail::OwnFamily>);
static_assert(!std::is_constructible_v<kernel::Counter, kernel::detail::OwnFamily&>);
static_assert(!std::is_copy_constructible_v<kernel::Metrics>);
static_assert(std::is_same_v<decltype(kernel::KernelSpec::metrics), std::function<void(kernel::Metrics&)>>);
template <class M>
concept counts_by_label = requires(M& metrics) {
  metrics.counter("orders_total", "Orders", {"country"}).inc({"NL"});
  metrics.counter("orders_total", "Orders", {"country"}).add({"NL"}, 2.0);
  metrics.gauge("depth", "Depth").set(1.0);
  metrics.histogram("seconds", "Seconds", {"route"}, {0.1, 1.0}).observe({"a"}, 0.2);
};
static_assert(counts_by_label<kernel::Metrics>);

// kernel.hpp gives a handler a logger it can log with.
template <class C>
concept can_log = requires(C& context) {
  context.log().info("handled {}", 1);
};
static_assert(can_log<kernel::Context>);

// A Message adopts a consumed librdkafka message only inside the runtime.
template <class M>
concept can_adopt = requires(kernel::detail::MessagePtr raw) {
  M::adopt(std::move(raw));
};
template <class M>
concept can_adopt_raw_pointer = requires(rd_kafka_message_s* raw) {
  M::adopt(raw);
};
static_assert(!can_adopt<kernel::Message>);
static_assert(!can_adopt_raw_pointer<kernel::Message>);
static_assert(!std::is_constructible_v<kernel::Message, kernel::detail::MessagePtr>);

// A handler gets a Context&: the runtime's plumbing is out of its reach.
template <class C>
concept can_begin_attempt = requires(C& context) {
  context.begin_attempt(2);
};
template <class C>
concept can_set_input = requires(C& context, const kernel::Message* message) {
  context.set_input(message);
};
template <class C>
concept can_set_producer_middleware = requires(C& context) {
  context.set_producer_middleware(std::vector<kernel::ProducerMiddleware>{});
};
template <class C>
concept can_set_metrics = requires(C& context) {
  context.set_metrics(nullptr);
};
template <class C>
concept can_read_metrics = requires(const C& context) {
  context.metrics().input_topic("t");  // the runtime's KernelMetrics, were it reachable
};
template <class C>
concept can_take_produced = requires(C& context) {
  context.take_produced();
};

static_assert(!can_begin_attempt<kernel::Context>);
static_assert(!can_set_input<kernel::Context>);
static_assert(!can_set_producer_middleware<kernel::Context>);
static_assert(!can_set_metrics<kernel::Context>);
static_assert(!can_read_metrics<kernel::Context>);
static_assert(!can_take_produced<kernel::Context>);
// A test's context may start attempts and install producer middleware, nothing more.
static_assert(can_begin_attempt<kernel::testing::TestContext>);
static_assert(can_set_producer_middleware<kernel::testing::TestContext>);
static_assert(!can_set_input<kernel::testing::TestContext>);
static_assert(!can_set_metrics<kernel::testing::TestContext>);

// kernel/config.hpp gives load, describe, redact and the settings; the runtime's own uses of them
// (pipeline topics and the produce guard, the transactional.id, the handler-choice check) live
// under runtime/src/config/. Each probe calls one unqualified, so only argument-dependent lookup
// on kernel::Settings could find it: true again the day a public header declares it.
template <class S>
concept reaches_pipeline_naming = requires(const S& settings) {
  pipeline_naming(settings);
};
template <class S>
concept reaches_pipeline_topic = requires(const S& settings) {
  pipeline_topic(settings, "input");
};
template <class S>
concept reaches_pipeline_output_topic = requires(const S& settings) {
  pipeline_output_topic(settings, "audit");
};
template <class S>
concept reaches_retry_topic = requires(const S& settings) {
  retry_topic(settings, 1);
};
template <class S>
concept reaches_kernel_topics = requires(const S& settings) {
  kernel_topics(settings);  // and with it KernelTopic
};
template <class S>
concept reaches_transactional_id = requires(const S& settings) {
  transactional_id(settings);
};
template <class C>
concept reaches_handler_choice_problems = requires(const C& choice) {
  handler_choice_problems("k", choice);
};

static_assert(!reaches_pipeline_naming<kernel::Settings>);
static_assert(!reaches_pipeline_topic<kernel::Settings>);
static_assert(!reaches_pipeline_output_topic<kernel::Settings>);
static_assert(!reaches_retry_topic<kernel::Settings>);
static_assert(!reaches_kernel_topics<kernel::Settings>);
static_assert(!reaches_transactional_id<kernel::Settings>);
static_assert(!reaches_handler_choice_problems<kernel::HandlerChoice>);

// context.trace() is a small value a handler reads (and copies) without the runtime's types: the
// ids as text, the flags, and the traceparent for its own outgoing calls.
static_assert(std::is_same_v<decltype(std::declval<const kernel::Context&>().trace()), const kernel::TraceContext&>);
static_assert(std::is_trivially_copyable_v<kernel::TraceContext>);
static_assert(sizeof(kernel::TraceContext) <= 56);
static_assert(std::is_same_v<decltype(std::declval<const kernel::TraceContext&>().trace_id()), std::string_view>);
static_assert(std::is_same_v<decltype(std::declval<const kernel::TraceContext&>().traceparent()), std::string>);
// kernel/config.hpp declares Settings without its fields, nor the closed sets of values they take:
// the runtime, its tools and its tests read them (config/settings.hpp); a kernel reads its own
// settings through KernelValues.
static_assert(!complete<kernel::Settings>);
static_assert(std::is_same_v<kernel::SecurityProtocol, absent_config::SecurityProtocol>);
static_assert(std::is_same_v<kernel::SaslMechanism, absent_config::SaslMechanism>);
static_assert(std::is_same_v<kernel::Acks, absent_config::Acks>);
static_assert(std::is_same_v<kernel::Compression, absent_config::Compression>);
static_assert(std::is_same_v<kernel::StartOffset, absent_config::StartOffset>);
static_assert(std::is_same_v<kernel::LogLevel, absent_config::LogLevel>);
static_assert(std::is_same_v<kernel::LogFormat, absent_config::LogFormat>);
static_assert(std::is_same_v<kernel::Ordering, absent_config::Ordering>);
static_assert(std::is_same_v<kernel::DeliveryGuarantee, absent_config::DeliveryGuarantee>);
static_assert(std::is_same_v<kernel::DedupWindow, absent_config::DedupWindow>);
// Nor the registry's rows (config/registry.hpp), which new-kernel and the runtime read: a kernel
// names a variable through env_var.
static_assert(std::is_same_v<kernel::FromKernel, absent_config::FromKernel>);
static_assert(std::is_same_v<kernel::RdkafkaClients, absent_config::RdkafkaClients>);
static_assert(std::is_same_v<kernel::RdkafkaProperty, absent_config::RdkafkaProperty>);
static_assert(std::is_same_v<kernel::VariableSpec, absent_config::VariableSpec>);
static_assert(std::is_same_v<decltype(kernel::config_registry), const absent_config::Marker>);
static_assert(std::is_same_v<decltype(kernel::config_registry_json), const absent_config::Marker>);
static_assert(std::is_same_v<decltype(kernel::config_registry_markdown), const absent_config::Marker>);
static_assert(std::is_same_v<decltype(kernel::kernel_variables), const absent_config::Marker>);
// What a kernel author reads its settings with stays.
static_assert(complete<kernel::KernelValues>);
static_assert(complete<kernel::Config>);

// A requester owns a reply consumer and a thread: moved, never copied.
static_assert(!std::is_copy_constructible_v<kernel::Requester>);
static_assert(std::is_nothrow_move_constructible_v<kernel::Requester>);

// One concept for what became of a message and the class of an error.
static_assert(std::is_same_v<kernel::Outcome::Kind, kernel::ErrorClass>);

// A chain on a temporary stays an rvalue, so produce() moves it.
static_assert(std::is_same_v<decltype(kernel::Outgoing{}.key("k").json(nullptr)), kernel::Outgoing&&>);
static_assert(std::is_same_v<decltype(std::declval<kernel::Outgoing&>().key("k")), kernel::Outgoing&>);

}  // namespace

TEST_CASE("an Outgoing built on a temporary is moved, not copied, into produce()") {
  kernel::testing::TestContext context;
  std::string big(1 << 20, 'x');
  const auto* data = big.data();
  context.produce(kernel::Outgoing{}.key("k1").text(std::move(big)).event_type("e"));
  REQUIRE(context.produced().size() == 1);
  CHECK(context.produced()[0].value().data() == data);  // the same buffer: never copied
  CHECK(context.produced()[0].key() == "k1");
}

TEST_CASE("an output keeps the input's key, null included, without a copy by hand") {
  const auto keyed = kernel::testing::make_message({{"id", 1}}, "order-7");
  const auto unkeyed = kernel::testing::make_message({{"id", 1}});
  CHECK(kernel::Outgoing{}.key(keyed.key()).key() == "order-7");
  CHECK_FALSE(kernel::Outgoing{}.key("was set").key(unkeyed.key()).key().has_value());
  const std::string_view view = "from a view";
  CHECK(kernel::Outgoing{}.key(view).key() == "from a view");
  const std::string text = "from a string";
  CHECK(kernel::Outgoing{}.key(text).key() == "from a string");
}

TEST_CASE("one Headers type: messages, outputs and test helpers share it") {
  const auto message = kernel::testing::make_message({{"id", 1}}, std::nullopt, {{"tenant", "acme"}});
  const kernel::Headers& in = message.headers();
  CHECK(in.get("tenant") == "acme");
  const auto output = kernel::Outgoing{}.header("tenant", std::string(*in.get("tenant")));
  const kernel::Headers& out = output.headers();
  CHECK(out == kernel::Headers{{"tenant", "acme"}});
  kernel::Headers with_null;
  with_null.add("a", "1").add_null("b");
  CHECK(with_null.is_null(1));
  CHECK_FALSE(with_null.is_null(0));
  CHECK(with_null[1].first == "b");
}

TEST_CASE("outcome kinds and error classes read the same") {
  CHECK(kernel::to_string(kernel::Outcome::Kind::success) == "success");
  CHECK(kernel::to_string(kernel::ErrorClass::transient) == "transient");
  CHECK(kernel::PermanentError("x").error_class() == kernel::Outcome::Kind::permanent);
}

}  // namespace public_api_test
