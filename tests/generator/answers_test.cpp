// The naming rules of docs/generator.md, one problem per line.
#include <doctest/doctest.h>

#include <sstream>

#include <kernel/config.hpp>

#include "answers.hpp"
#include "errors.hpp"
#include "prompt.hpp"

namespace answers_test {

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
      {"upgrade", "is a new-kernel command (upgrade, check, diff, add, remove)"},
      {"check", "is a new-kernel command (upgrade, check, diff, add, remove)"},
      {"diff", "is a new-kernel command (upgrade, check, diff, add, remove)"},
      {"add", "is a new-kernel command (upgrade, check, diff, add, remove)"},
      {"remove", "is a new-kernel command (upgrade, check, diff, add, remove)"},
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
  CHECK(problems[0] == "--topic topic \"orders/eu\" contains '/': use letters, digits, '.', '_' and '-'");
}

TEST_CASE("descriptions are one line of UTF-8") {
  CHECK(check_description("Adds \"quotes\", $dollars, `ticks` and café").empty());
  CHECK_FALSE(check_description("two\nlines").empty());
  CHECK_FALSE(check_description("\xff\xfe").empty());
  CHECK_FALSE(check_description(std::string(201, 'x')).empty());
}

TEST_CASE("descriptions are checked by the runtime's UTF-8 decoder") {
  // Each once reached the files as raw bytes and the manifest as U+FFFD (its JSON writer
  // replaces what it cannot encode), so an upgrade re-rendered other text than was generated.
  const std::vector<std::pair<std::string, std::string>> invalid{{"a surrogate", "caf\xed\xa0\x80"},
                                                                 {"an overlong '/'", "a\xc0\xaf"},
                                                                 {"an overlong 3-byte '/'", "\xe0\x80\xaf"},
                                                                 {"past U+10FFFF", "\xf4\x90\x80\x80"},
                                                                 {"a 5-byte form", "\xf8\x88\x80\x80\x80"}};
  for (const auto& [what, bytes] : invalid) {
    CAPTURE(what);
    REQUIRE(check_description(bytes).size() == 1);
    CHECK(check_description(bytes).front() == "--description is not valid UTF-8");
  }
  CHECK(check_description("\xf0\x9f\x93\xa6 parcels, \xe2\x82\xac").empty());  // 4- and 3-byte characters
}

TEST_CASE("topic and group names are judged by the runtime's rule, in its words") {
  for (const std::string name : {"", ".", "..", "orders/eu", "a b", "caf\xc3\xa9"}) {
    CAPTURE(name);
    const auto problem = kernel::topic_name_problem(name);
    REQUIRE_FALSE(problem.empty());
    const auto problems = check_topic("--topic", name);
    REQUIRE(problems.size() == 1);
    CHECK(problems.front().ends_with(problem));
    CHECK(check_group(name).front().ends_with(problem));
  }
  const auto long_name = std::string(250, 'x');
  CHECK(check_topic("--topic", long_name).front().ends_with(kernel::topic_name_problem(long_name)));
  CHECK(check_topic("--topic", std::string(249, 'x')).empty());
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
  CHECK_THROWS_WITH_AS(complete_and_check(loop, patterns), doctest::Contains("would consume its own output"),
                       UsageError);
  auto dlq = answers("loop", {"orders"});
  dlq.dlq_topic = "orders";
  CHECK_THROWS_WITH_AS(complete_and_check(dlq, patterns), doctest::Contains("dead letters need a topic"), UsageError);
}

TEST_CASE("an unknown pattern lists the known ones") {
  auto unknown = answers("x", {"orders"});
  unknown.pattern = "sideways";
  CHECK_THROWS_WITH_AS(complete_and_check(unknown, patterns),
                       "--pattern sideways: unknown; choose one of consumer, transform, enrichment", UsageError);
}

// The question table: one declaration per question drives the command line's checks and
// defaults, the prompts of interactive generation and an upgrade's "new questions".

namespace {
std::vector<std::string> keys_of(const std::vector<const Question*>& list) {
  std::vector<std::string> keys;
  for (const auto* question : list) keys.emplace_back(question->key);
  return keys;
}

std::string problems_of(const Question& question, Answers given, std::string_view text) {
  question.store(given, text);
  std::string all;
  for (const auto& problem : question.check(given, patterns)) all += problem + "\n";
  return all;
}
}  // namespace

TEST_CASE("the questions are asked in the order their defaults need") {
  std::vector<std::string> keys;
  for (const auto& question : questions()) keys.emplace_back(question.key);
  CHECK(keys == std::vector<std::string>{"name", "pipeline", "step", "pattern", "input_topics", "output_topic",
                                         "description", "dlq_topic", "consumer_group", "settings", "outputs", "format",
                                         "schema", "message"});
  for (const auto& question : questions()) {
    CAPTURE(question.key);
    CHECK(find_question(question.key) == &question);
    CHECK_FALSE(question.prompt.empty());
    CHECK_FALSE(question.flag.empty());
  }
  CHECK(find_question("colour") == nullptr);
}

TEST_CASE("every question but the name has a default derived from the earlier answers") {
  // A question added later must not stop an upgrade without a terminal: it needs a default,
  // and must not join the three the command line has always required.
  const auto given = answers("orders-router", {});
  for (const auto& question : questions()) {
    CAPTURE(question.key);
    if (question.key == "name") {
      CHECK(question.required_without_terminal);
      CHECK(question.default_value(given, patterns).empty());
      continue;
    }
    if (question.key == "settings" || question.key == "outputs" || question.key == "schema" ||
        question.key == "message") {
      // The default is none: an empty answer, which the check accepts (a schema is required
      // by --format protobuf or avro: the format's check says so).
      CHECK(question.default_value(given, patterns).empty());
      CHECK(problems_of(question, given, "").empty());
      CHECK_FALSE(question.required_without_terminal);
      continue;
    }
    CHECK_FALSE(question.default_value(given, patterns).empty());
    const bool founding = question.key == "input_topics" || question.key == "output_topic";
    CHECK(question.required_without_terminal == founding);
  }
  auto with_topics = answers("orders-router", {"orders", "returns"});
  CHECK(find_question("input_topics")->default_value(given, patterns) == "orders-router.input");
  CHECK(find_question("pattern")->default_value(with_topics, patterns) == "consumer");
  with_topics.output_topic = "routed";
  CHECK(find_question("pattern")->default_value(with_topics, patterns) == "transform");
  with_topics.pattern = "enrichment";
  CHECK(find_question("description")->default_value(with_topics, patterns) ==
        "An enrichment kernel from orders, returns to routed.");
  CHECK(find_question("dlq_topic")->default_value(with_topics, patterns) == "orders-router.dlq");
  CHECK(find_question("consumer_group")->default_value(with_topics, patterns) == "orders-router");
  CHECK(find_question("output_topic")->default_value(with_topics, patterns) == "orders-router.output");
}

TEST_CASE("missing questions: the unanswered ones that apply, in order") {
  CHECK(keys_of(missing_questions(Answers{}, patterns)) ==
        std::vector<std::string>{"name", "pattern", "input_topics", "description", "dlq_topic", "consumer_group",
                                 "settings", "outputs"});
  auto enrichment = answers("enr", {"a"});
  enrichment.pattern = "enrichment";
  CHECK(keys_of(missing_questions(enrichment, patterns)) ==
        std::vector<std::string>{"output_topic", "description", "dlq_topic", "consumer_group", "settings", "outputs"});
  // An upgrade's recorded answers: nothing to ask.
  auto recorded = enrichment;
  recorded.output_topic = "enr.out";
  CHECK(missing_questions(complete_and_check(recorded, patterns), patterns).empty());
  // An output topic given without a pattern makes the default pattern a transform.
  auto with_output = answers("mapper", {"orders"});
  with_output.output_topic = "mapped";
  CHECK(keys_of(missing_questions(with_output, patterns)) ==
        std::vector<std::string>{"pattern", "description", "dlq_topic", "consumer_group", "settings", "outputs"});
  CHECK(complete_and_check(with_output, patterns).pattern == "transform");
}

TEST_CASE("an answer typed at a prompt gets the same one-line message as the flag") {
  struct Case {
    std::string key;
    std::string text;
  };
  auto given = answers("orders-router", {"orders"});
  given.output_topic = "routed";
  const std::vector<Case> cases{{"name", "Bad Name"},       {"pattern", "sideways"},
                                {"input_topics", "a b, c"}, {"input_topics", "x, x"},
                                {"output_topic", "orders"}, {"description", std::string(201, 'x')},
                                {"dlq_topic", "routed"},    {"consumer_group", "a group"}};
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.text);
    const auto& question = *find_question(c.key);
    const auto at_prompt = problems_of(question, given, c.text);
    REQUIRE_FALSE(at_prompt.empty());
    Answers flags = given;
    question.store(flags, c.text);
    try {
      complete_and_check(flags, patterns);
      FAIL("expected a UsageError");
    } catch (const UsageError& error) {
      CHECK(std::string(error.what()) + "\n" == at_prompt);
    }
  }
}

TEST_CASE("a typed list of topics is split at commas") {
  Answers given;
  find_question("input_topics")->store(given, " a, b ,c,, ");
  CHECK(given.input_topics == std::vector<std::string>{"a", "b", "c"});
  CHECK(problems_of(*find_question("input_topics"), Answers{}, " , ") ==
        "no input topic: give at least one --topic TOPIC\n");
}

TEST_CASE("ask: a bad answer is explained and asked again; Enter takes the default") {
  auto given = answers("orders-router", {"orders"});
  std::istringstream in("orders\n\n");
  std::ostringstream out;
  REQUIRE(ask(in, out, *find_question("dlq_topic"), given, patterns));
  CHECK(given.dlq_topic == "orders-router.dlq");
  CHECK(out.str() ==
        "Dead-letter topic [orders-router.dlq]: "
        "  --dlq-topic orders is also an input or output topic: dead letters need a topic of their own\n"
        "Dead-letter topic [orders-router.dlq]: ");
}

TEST_CASE("ask: the pattern question lists the choices") {
  auto given = answers("k", {"orders"});
  std::istringstream in("transform\n");
  std::ostringstream out;
  REQUIRE(ask(in, out, *find_question("pattern"), given, patterns));
  CHECK(given.pattern == "transform");
  CHECK(out.str() == "Pattern (consumer, transform, enrichment) [consumer]: ");
}

TEST_CASE("ask: end of input leaves the answers as they were") {
  auto given = answers("k", {"orders"});
  std::istringstream in("a group\n");  // refused, then nothing more
  std::ostringstream out;
  CHECK_FALSE(ask(in, out, *find_question("consumer_group"), given, patterns));
  CHECK_FALSE(given.consumer_group.has_value());
}

TEST_CASE("--pipeline and --step: a pipeline step's topics and group follow the runtime's convention") {
  Answers step;
  step.name = "order-router";
  step.pipeline = "orders";
  step.step = "route";
  SUBCASE("nothing else to ask") {
    CHECK(keys_of(missing_questions(step, patterns)) ==
          std::vector<std::string>{"pattern", "description", "dlq_topic", "consumer_group", "settings", "outputs"});
  }
  SUBCASE("defaults by convention, a transform") {
    const auto done = complete_and_check(step, patterns);
    CHECK(done.pattern == "transform");
    CHECK(done.input_topics == std::vector<std::string>{"pipeline.orders.step.route.input"});
    CHECK(done.output_topic == "pipeline.orders.step.route.output");
    CHECK(done.dlq_topic == "pipeline.orders.step.route.dead-letter");
    CHECK(done.consumer_group == "orders-consumer-group");
    CHECK(step_topic_stem(done) == "pipeline.orders.step.route");
  }
  SUBCASE("a consumer step has no output; given topics stay") {
    step.pattern = "consumer";
    step.input_topics = {"raw-orders"};
    const auto done = complete_and_check(step, patterns);
    CHECK_FALSE(done.output_topic);
    CHECK(done.input_topics == std::vector<std::string>{"raw-orders"});
  }
  SUBCASE("both or neither, with Kafka's naming rules") {
    step.step.clear();
    CHECK_THROWS_WITH(complete_and_check(step, patterns),
                      doctest::Contains("--pipeline without --step: a pipeline step needs both"));
    step.step = "route";
    step.pipeline = "my orders";
    CHECK_THROWS_WITH(complete_and_check(step, patterns),
                      doctest::Contains("--pipeline \"my orders\" contains a space"));
  }
}
TEST_CASE("--setting: every type, defaults and descriptions") {
  std::string problem;
  auto setting = parse_setting("BATCH_SIZE=int:100:rows per insert", problem);
  REQUIRE(setting);
  CHECK(setting->type == kernel::SettingType::integer);
  CHECK(setting->default_value == "100");
  CHECK(setting->description == "rows per insert");
  setting = parse_setting("URL=string::where: the service", problem);  // a description may hold ':'
  REQUIRE(setting);
  CHECK_FALSE(setting->default_value);  // empty DEFAULT: required
  CHECK(setting->description == "where: the service");
  setting = parse_setting("TOKEN=secret", problem);
  REQUIRE(setting);
  CHECK(setting->secret);
  CHECK(setting->type == kernel::SettingType::string);
  setting = parse_setting("MODE=enum(fast|safe):safe", problem);
  REQUIRE(setting);
  CHECK(setting->choices == std::vector<std::string>{"fast", "safe"});
  for (const auto* spec : {"A=double:0.5", "A=bool:yes", "A=duration:10s", "A=size:1MiB", "A=list:a,b"}) {
    CAPTURE(spec);
    CHECK(parse_setting(spec, problem));
  }
}

TEST_CASE("--setting: bad specs are one line naming the problem") {
  const auto problem_of = [](std::string_view spec) {
    std::string problem;
    CHECK_FALSE(parse_setting(spec, problem));
    CHECK(problem.find('\n') == std::string::npos);
    return problem;
  };
  CHECK(problem_of("BATCH") ==
        "--setting 'BATCH': expected NAME=TYPE[:DEFAULT[:DESCRIPTION]], e.g. "
        "'BATCH_SIZE=int:100:rows per insert'");
  CHECK(problem_of("A=float:1").find("unknown type \"float\"") != std::string::npos);
  CHECK(problem_of("A=int:x").find("default \"x\" is not a valid int") != std::string::npos);
  CHECK(problem_of("A=size:lots").find("not a valid size") != std::string::npos);
  CHECK(problem_of("A=enum()").find("empty choice") != std::string::npos);
  CHECK(problem_of("A=secret:hunter2").find("a secret has no default") != std::string::npos);
  CHECK(problem_of("a=int:1").find("capital letters") != std::string::npos);
}

TEST_CASE("--output: NAME=TOPIC") {
  std::string problem;
  const auto output = parse_output("international=orders.intl", problem);
  REQUIRE(output);
  CHECK(output->name == "international");
  CHECK(output->topic == "orders.intl");
  CHECK_FALSE(parse_output("international", problem));
  CHECK_FALSE(parse_output("Intl=t", problem));
  CHECK_FALSE(parse_output("intl=a b", problem));
  CHECK(problem == "--output topic \"a b\" contains a space: use letters, digits, '.', '_' and '-'");
}

TEST_CASE("kernel names starting kafka- or kernel- are refused") {
  CHECK(check_name("kafka-router").size() == 1);
  CHECK(check_name("kernel-router").size() == 1);
  CHECK(check_name("kafkaesque").empty());
}

}  // namespace answers_test
