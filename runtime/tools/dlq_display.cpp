#include "dlq_display.hpp"

#include "core/printable_text.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::tools::dlq {

std::string show_key(const std::optional<std::string>& key) {
  if (!key) return "-";
  if (!jsonl::is_valid_utf8(*key)) return "base64:" + jsonl::base64_encode(*key);
  const auto escaped = detail::printable_text(*key, detail::Quotes::escaped);
  // Anything escaped, and a space (columns are split on spaces), needs the quotes to read as one word.
  const bool plain = !key->empty() && *key != "-" && escaped == *key && key->find(' ') == std::string::npos;
  return plain ? *key : '"' + escaped + '"';
}

std::string show_text(std::string_view text, std::size_t limit) {
  return detail::printable_text(text, detail::Quotes::kept, limit);
}

}  // namespace kernel::tools::dlq
