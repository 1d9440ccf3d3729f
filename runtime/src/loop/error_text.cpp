#include "loop/error_text.hpp"

namespace kernel::detail {

std::string masked_error_text(const Config& config, std::string_view text, std::size_t limit) {
  auto masked = config.redact_secret_values(text);
  if (masked.size() <= limit) return masked;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(masked[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  masked.resize(end);
  return masked;
}

}  // namespace kernel::detail
