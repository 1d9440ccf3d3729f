#pragma once
// Text and typed values, both ways (values.cpp): the parsers, the formats, and the
// small text helpers the configuration's files share. Part of kernel_config.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/parsed.hpp"

namespace kernel::config_detail {

/// Each parser returns the value, or what would be accepted.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);
Parsed<long long> parse_size(std::string_view text);
Parsed<bool> parse_bool(std::string_view text);
Parsed<long long> parse_integer(std::string_view text);
Parsed<double> parse_number(std::string_view text);
/// Raw PEM, base64 of PEM, or PEM with literal `\n`; nullopt when it is none of these.
std::optional<std::string> decode_pem(std::string_view text);
/// What is wrong with one KAFKA_BOOTSTRAP_SERVERS entry ([proto://]host[:port]), or "".
std::string broker_problem(std::string_view broker);

std::string format_duration(std::chrono::milliseconds value);
std::string format_size(long long bytes);
std::string format_number(double value);
std::string trim(std::string_view text);
std::vector<std::string> split_list(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view separator);
/// `text` in a Markdown table cell: `|` escaped, `<` and `>` as entities.
std::string markdown_cell(std::string_view text);
std::string upper(std::string_view text);
/// Levenshtein distance: insertions, deletions and substitutions that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate nearest to `name` (edit distance), for "did you mean" suggestions.
std::string closest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace kernel::config_detail
