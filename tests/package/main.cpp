#include <kernel/kernel.hpp>
#include <kernel/testing.hpp>

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "package-consumer";
  spec.input_topics = {"in"};
  spec.output_topic = "out";
  // A setting of its own: the configuration test checks the files list it.
  spec.settings = {{.name = "GREETING", .default_value = "hello", .description = "what it says"}};
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  // The testing header links too.
  kernel::testing::TestContext context;
  if (!kernel::testing::call(spec.handler, kernel::testing::make_message({{"a", 1}}), context).ok()) return 2;
  return kernel::run(spec, argc, argv);
}
