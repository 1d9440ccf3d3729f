#pragma once
// Pipeline naming (docs/pipelines.md): the topics of a pipeline step by convention, every topic
// the kernel reads or writes, and the produce guard. The runtime's own (start-up, the loop, the
// topic checks); a kernel reaches its topics through Context and KernelSpec, not these.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"

namespace kernel {

/// True when KERNEL_PIPELINE and KERNEL_STEP are both set (docs/pipelines.md).
bool pipeline_naming(const Settings& settings);

/// The topic of kind `kind` (`input`, `output`, `output.<name>`, `dead-letter`, `error`,
/// `retry.<n>`) of this kernel's own pipeline step, from KERNEL_TOPIC_PATTERN, with
/// KAFKA_TOPIC_PREFIX applied. Only meaningful under pipeline naming.
std::string pipeline_topic(const Settings& settings, std::string_view kind);

/// The topic a named output writes to when KAFKA_OUTPUT_TOPIC_<NAME> does not say:
/// under pipeline naming `....output.<name>`, otherwise nullopt (the kernel's code decides).
/// Named outputs resolve here, so the convention for them lives in one place.
std::optional<std::string> pipeline_output_topic(const Settings& settings, std::string_view output_name);

/// Retry topic `n` (1-based): `....retry.<n>` under pipeline naming, else `<kernel>.retry.<n>`;
/// KAFKA_TOPIC_PREFIX applied.
std::string retry_topic(const Settings& settings, int n);

/// The kernel's control topic, where `kernel-admin pause|resume` writes fleet-wide commands:
/// `....control` under pipeline naming, else `<kernel>.control`; KAFKA_TOPIC_PREFIX applied.
std::string control_topic(const Settings& settings);

/// A topic the kernel reads or writes, and what it is for (start-up verification and creation).
struct KernelTopic {
  enum class Use { input, output, dead_letter, error, retry, allowed, control };
  std::string name;
  Use use;
};
/// Every topic the kernel reads or writes, each once: inputs, output, dead-letter, error topic,
/// the exact names of KERNEL_ALLOWED_TOPICS (prefixes cannot be checked) and the control topic.
std::vector<KernelTopic> kernel_topics(const Settings& settings);

/// The produce guard: which topics a handler may write. On with pipeline naming or a
/// KERNEL_ALLOWED_TOPICS whitelist; then a kernel may write its own step's topics, its
/// declared outputs and the whitelisted topics, and nothing else.
class ProduceGuard {
 public:
  explicit ProduceGuard(const Settings& settings);
  bool active() const noexcept { return active_; }
  /// Why `topic` (as the broker knows it, prefix included) may not be written, or "" when
  /// it may.
  std::string refusal(std::string_view topic) const;
  /// Lets `topic` through (a named output declared by the kernel).
  void allow(std::string topic) { exact_.push_back(std::move(topic)); }

 private:
  bool active_ = false;
  std::vector<std::string> exact_;
  std::vector<std::string> prefixes_;                         // from `prefix.*`, without the `*`
  std::function<bool(std::string_view)> own_step_;            // a topic of this step (any kind)
  std::function<std::string(std::string_view)> pipeline_of_;  // pipeline of a convention topic, or ""
  std::string own_pipeline_;
};

}  // namespace kernel
