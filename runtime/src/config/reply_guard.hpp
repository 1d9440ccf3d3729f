#pragma once
// Where a reply may go. A reply-to header comes from whoever wrote the request, so it is judged
// by a rule of its own, stricter than the produce guard a handler's outputs get: never the
// kernel's own topics (its retry topic would loop, its output or dead-letter topic would carry
// forged records), never an internal topic, and only names KERNEL_REPLY_TOPICS allows.
#include <string>
#include <string_view>
#include <vector>

namespace kernel {

struct Settings;

/// Whether `text` matches the glob `pattern`, where `*` is any run of characters (none too).
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

class ReplyGuard {
 public:
  explicit ReplyGuard(const Settings& settings);
  /// Why a reply may not go to `topic` (named in full, as the brokers know it), or "" when it may.
  std::string refusal(std::string_view topic) const;

 private:
  std::vector<std::string> own_;       // input, output, named outputs, dead-letter, error, retry
  std::string prefix_;                 // KAFKA_TOPIC_PREFIX
  std::vector<std::string> patterns_;  // KERNEL_REPLY_TOPICS, matched after the prefix
};

}  // namespace kernel
