// jsonl::is_valid_utf8 (declared with JSON Lines, whose choice between text and base64 it
// makes), on the runtime's one UTF-8 decoder. Compiled into kernel_config, so that new-kernel
// judges a description's bytes by the same rule.
#include "core/utf8.hpp"

#include "kernel/jsonl.hpp"

namespace kernel::jsonl {

bool is_valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const auto character = detail::decode_utf8(text, i);
    if (!character) return false;
    i += character->length;
  }
  return true;
}

}  // namespace kernel::jsonl
