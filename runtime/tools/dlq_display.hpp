#pragma once
// kernel-admin dlq: a dead letter's key and headers as a person reads them on a terminal. They
// come from whoever produced the original: every character a terminal acts on is escaped
// (core/printable_text.hpp), so a record can neither forge lines nor recolour or clear the
// screen. --json prints the bytes instead.
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace kernel::tools::dlq {

/// A key as one word: `-` for none, the text when it is plain, quoted with escapes when it is
/// empty, `-`, or holds spaces, quotes, backslashes or characters a terminal acts on, and
/// `base64:...` when it is not UTF-8.
std::string show_key(const std::optional<std::string>& key);

/// Text from a header on one line, escaped, cut after `limit` characters (with `...`).
std::string show_text(std::string_view text, std::size_t limit = std::numeric_limits<std::size_t>::max());

}  // namespace kernel::tools::dlq
