// Kafka's rules for topic names, judged once: the configuration, the pipeline convention,
// kernel-dev-broker, kernel-admin and new-kernel (which links kernel_config for it) all word a
// bad name the same way.
#include <string>

#include "kernel/config.hpp"

namespace kernel {

namespace {
constexpr std::size_t max_topic_length = 249;

bool is_topic_character(char c) {
  // By hand rather than std::isalnum, which a program's locale could widen.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}
}  // namespace

std::string character_name(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (c == ' ') return "a space";
  if (byte < 0x20 || byte == 0x7f) {
    constexpr const char* digits = "0123456789abcdef";
    return std::string("control character 0x") + digits[byte >> 4] + digits[byte & 0xf];
  }
  if (byte >= 0x80) return "a non-ASCII character";
  return std::string("'") + c + "'";
}

std::string topic_name_problem(std::string_view topic) {
  if (topic.empty()) return "is empty: a topic name has 1 to 249 characters";
  if (topic.size() > max_topic_length) {
    return "is " + std::to_string(topic.size()) + " characters long: at most " + std::to_string(max_topic_length);
  }
  if (topic == "." || topic == "..") return "is not allowed by Kafka ('.' and '..' are reserved)";
  for (const char c : topic) {
    if (!is_topic_character(c)) return "contains " + character_name(c) + ": use letters, digits, '.', '_' and '-'";
  }
  return {};
}

}  // namespace kernel
