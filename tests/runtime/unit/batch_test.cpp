// kernel::Batch: the messages of one batch_handler call and what the handler decided for each.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "kernel/batch.hpp"
#include "kernel/spec.hpp"
#include "kernel/testing.hpp"
#include "loop/handler_choice.hpp"

namespace batch_test {

namespace {

std::vector<kernel::Message> three_messages() {
  std::vector<kernel::Message> messages;
  for (int n = 0; n < 3; ++n) {
    messages.push_back(kernel::testing::make_message({{"n", n}}, "k" + std::to_string(n), {}, "rows", 2, 40 + n));
  }
  return messages;
}

}  // namespace

TEST_CASE("a batch gives its messages in order, by index and by iteration") {
  auto messages = three_messages();
  kernel::testing::TestContext context;
  kernel::Batch batch(messages, context);
  CHECK(batch.size() == 3);
  CHECK(batch[1].offset() == 41);
  CHECK(batch.topic() == "rows");
  CHECK(batch.partition() == 2);
  std::vector<std::int64_t> offsets;
  for (const auto& message : batch) offsets.push_back(message.offset());
  CHECK(offsets == std::vector<std::int64_t>{40, 41, 42});
  CHECK_THROWS_AS(batch[3], std::out_of_range);
}

TEST_CASE("batch.produce(i) attributes the output to message i; fail(i) classifies like a handler's exception") {
  auto messages = three_messages();
  kernel::testing::TestContext context;
  kernel::Batch batch(messages, context);
  kernel::BatchHandler handler = [](kernel::Batch& batch, kernel::Context&) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch.produce(i, kernel::Outgoing{}.json(batch[i].json()));
    }
    batch.fail(1, kernel::PermanentError("row 1 is malformed"));
    try {
      throw kernel::TransientError("row 2: lock timeout");
    } catch (...) {
      batch.fail(2, std::current_exception());
    }
  };
  const auto whole = kernel::testing::call(handler, batch, context);
  CHECK(whole.ok());
  CHECK(batch.outcome(0).ok());
  CHECK(batch.outputs(0).size() == 1);
  CHECK(context.produced().empty());  // nothing left unattributed in the context
  CHECK(batch.outcome(1).kind == kernel::Outcome::Kind::permanent);
  CHECK(batch.outcome(1).message == "row 1 is malformed");
  CHECK(batch.outcome(2).kind == kernel::Outcome::Kind::transient);
  SUBCASE("the first failure of a message counts") {
    batch.fail(1, kernel::Outcome::business("later"));
    CHECK(batch.outcome(1).kind == kernel::Outcome::Kind::permanent);
  }
  SUBCASE("a success is no failure") {
    CHECK_THROWS_AS(batch.fail(0, kernel::Outcome::success()), std::invalid_argument);
  }
}

TEST_CASE("producer middleware sees the message an output belongs to") {
  auto messages = three_messages();
  kernel::testing::TestContext context;
  std::vector<std::int64_t> inputs;
  context.set_producer_middleware(
      {[&](kernel::Outgoing& out, const kernel::Message& input, kernel::Context& ctx, const kernel::NextProduce& next) {
        inputs.push_back(input.offset());
        next(out, input, ctx);
      }});
  kernel::Batch batch(messages, context);
  batch.produce(2, kernel::Outgoing{}.text("a"));
  batch.produce(0, kernel::Outgoing{}.text("b"));
  CHECK(inputs == std::vector<std::int64_t>{42, 40});
  CHECK(batch.outputs(2).size() == 1);
  CHECK(batch.outputs(1).empty());
  CHECK(context.input() == nullptr);
}

TEST_CASE("a whole batch that throws is one Outcome") {
  auto messages = three_messages();
  kernel::testing::TestContext context;
  kernel::Batch batch(messages, context);
  const auto whole = kernel::testing::call(
      [](kernel::Batch&, kernel::Context&) { throw kernel::TransientError("database unavailable"); }, batch, context);
  CHECK(whole.kind == kernel::Outcome::Kind::transient);
  CHECK(whole.message == "database unavailable");
}

TEST_CASE("a kernel sets handler or batch_handler, exactly one") {
  kernel::KernelSpec spec;
  spec.name = "rows";
  SUBCASE("neither") {
    const auto problems = kernel::detail::handler_choice_problems(spec);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("sets neither KernelSpec::handler nor KernelSpec::batch_handler") != std::string::npos);
  }
  SUBCASE("both") {
    spec.handler = [](const kernel::Message&, kernel::Context&) {};
    spec.batch_handler = [](kernel::Batch&, kernel::Context&) {};
    const auto problems = kernel::detail::handler_choice_problems(spec);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("sets both") != std::string::npos);
  }
  SUBCASE("one") {
    spec.batch_handler = [](kernel::Batch&, kernel::Context&) {};
    CHECK(kernel::detail::handler_choice_problems(spec).empty());
  }
}

}  // namespace batch_test
