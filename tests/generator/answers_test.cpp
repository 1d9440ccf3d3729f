// The naming rules of docs/generator.md, one problem per line.
#include <doctest/doctest.h>

#include "answers.hpp"
#include "errors.hpp"

using namespace new_kernel;

namespace {
const std::vector<PatternInfo> patterns{{"consumer", "", false}, {"transform", "", true}, {"enrichment", "", true}};

Answers answers(std::string name, std::vector<std::string> topics) {
  Answers a;
  a.name = std::move(name);
  a.input_topics = std::move(topics);
  return a;
}
}  // namespace

TEST_CASE("valid kernel names are accepted") {
  for (const auto* name : {"a", "orders", "order-enricher", "k8s-2", "a-b-c-1"}) {
    CAPTURE(name);
    CHECK(check_name(name).empty());
  }
  CHECK(check_name(std::string(63, 'a')).empty());
}

TEST_CASE("a name with several bad characters is one line naming each, with a corrected name") {
  const auto problems = check_name("Orders_Enricher");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("contains 'O', '_', 'E'") != std::string::npos);
  CHECK(problems[0].find("(e.g. orders-enricher)") != std::string::npos);
  CHECK(check_name("9lives")[0].find("(e.g. k-9lives)") != std::string::npos);
}

TEST_CASE("invalid kernel names are refused with what would be accepted") {
  struct Case {
    std::string name;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"", "the kernel name is empty"},
      {"My-Kernel", "contains 'M'"},
      {"1kernel", "starts with '1'"},
      {"-kernel", "starts with '-'"},
      {"kernel-", "ends with a dash"},
      {"my--kernel", "doubled dash"},
      {"my_kernel", "contains '_'"},
      {"my kernel", "contains a space"},
      {std::string(64, 'a'), "64 characters long: at most 63"},
      {"delete", "C++ keyword `delete`"},
      {"co-await", "C++ keyword `co_await`"},
      {"install", "target CMake or CTest defines"},
      {"list-install-components", "target CMake or CTest defines"},
      {"kernel", "reserved for the runtime"},
      {"runtime", "reserved for the runtime"},
      {"upgrade", "is a new-kernel command (upgrade, check, diff)"},
      {"check", "is a new-kernel command (upgrade, check, diff)"},
      {"diff", "is a new-kernel command (upgrade, check, diff)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto problems = check_name(c.name);
    REQUIRE_FALSE(problems.empty());
    std::string all;
    for (const auto& problem : problems) {
      CHECK(problem.find('\n') == std::string::npos);
      all += problem + "\n";
    }
    CHECK(all.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("topic names follow Kafka's rules") {
  CHECK(check_topic("--topic", "orders.v1_eu-west").empty());
  CHECK(check_topic("--topic", std::string(249, 'x')).empty());
  CHECK_FALSE(check_topic("--topic", std::string(250, 'x')).empty());
  CHECK_FALSE(check_topic("--topic", "").empty());
  CHECK_FALSE(check_topic("--topic", ".").empty());
  CHECK_FALSE(check_topic("--topic", "..").empty());
  const auto problems = check_topic("--topic", "orders/eu");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "--topic topic \"orders/eu\" contains '/': use letters, digits, '.', '_' and '-', 1 to 249 characters");
}

TEST_CASE("descriptions are one line of UTF-8") {
  CHECK(check_description("Adds \"quotes\", $dollars, `ticks` and café").empty());
  CHECK_FALSE(check_description("two\nlines").empty());
  CHECK_FALSE(check_description("\xff\xfe").empty());
  CHECK_FALSE(check_description(std::string(201, 'x')).empty());
}

TEST_CASE("defaults are filled in") {
  const auto consumer = complete_and_check(answers("audit", {"orders"}), patterns);
  CHECK(consumer.pattern == "consumer");
  CHECK(consumer.dlq_topic == "audit.dlq");
  CHECK(consumer.consumer_group == "audit");
  CHECK(consumer.directory == "audit");
  CHECK_FALSE(consumer.description.empty());

  auto with_output = answers("mapper", {"orders"});
  with_output.output_topic = "orders.mapped";
  CHECK(complete_and_check(with_output, patterns).pattern == "transform");
}

TEST_CASE("every problem is reported at once, one per line") {
  auto bad = answers("Bad_Name", {"ok", "not ok", "ok"});
  bad.pattern = "enrichment";
  bad.consumer_group = "a group";
  try {
    complete_and_check(bad, patterns);
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    const std::string text = error.what();
    CHECK(error.exit_code() == 64);
    CHECK(text.find("name \"Bad_Name\"") != std::string::npos);
    CHECK(text.find("--topic topic \"not ok\" contains a space") != std::string::npos);
    CHECK(text.find("--topic ok is given twice") != std::string::npos);
    CHECK(text.find("--group \"a group\" contains a space") != std::string::npos);
    CHECK(text.find("--pattern enrichment produces messages: give --output-topic TOPIC") != std::string::npos);
  }
}

TEST_CASE("an output or dead-letter topic that is also an input is refused") {
  auto loop = answers("loop", {"orders"});
  loop.output_topic = "orders";
  CHECK_THROWS_WITH_AS(complete_and_check(loop, patterns),
                       doctest::Contains("would consume its own output"), UsageError);
  auto dlq = answers("loop", {"orders"});
  dlq.dlq_topic = "orders";
  CHECK_THROWS_WITH_AS(complete_and_check(dlq, patterns), doctest::Contains("dead letters need a topic"),
                       UsageError);
}

TEST_CASE("an unknown pattern lists the known ones") {
  auto unknown = answers("x", {"orders"});
  unknown.pattern = "sideways";
  CHECK_THROWS_WITH_AS(complete_and_check(unknown, patterns),
                       "--pattern sideways: unknown; choose one of consumer, transform, enrichment", UsageError);
}
