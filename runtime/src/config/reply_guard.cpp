#include "config/reply_guard.hpp"

#include <algorithm>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"
#include "kernel/env_vars.hpp"

namespace kernel {

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Greedy with one backtrack point (the last `*`): linear in practice, at worst
  // pattern x text, both bounded (a topic name is at most 249 characters).
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

ReplyGuard::ReplyGuard(const Settings& s) : prefix_(s.topic_prefix), patterns_(s.reply_topics) {
  for (const auto& topic : kernel_topics(s)) {
    if (topic.use != KernelTopic::Use::allowed) own_.push_back(topic.name);
  }
}

std::string ReplyGuard::refusal(std::string_view topic) const {
  if (topic.starts_with('_')) {
    return "it is an internal topic (a name starting with _): replies never go there";
  }
  if (std::find(own_.begin(), own_.end(), topic) != own_.end()) {
    return "it is one of this kernel's own topics (input, output, dead-letter, error or retry): replies never go "
           "there";
  }
  if (!topic.starts_with(prefix_)) {
    return "it does not start with KAFKA_TOPIC_PREFIX (" + prefix_ + ")";
  }
  const auto rest = topic.substr(prefix_.size());
  for (const auto& pattern : patterns_) {
    if (glob_match(pattern, rest)) return {};
  }
  std::string allowed;
  for (const auto& pattern : patterns_) allowed += (allowed.empty() ? "" : ",") + pattern;
  return std::string("it matches no pattern of ") + env_var::KERNEL_REPLY_TOPICS + " (" +
         (allowed.empty() ? "empty" : allowed) + ")";
}

}  // namespace kernel
