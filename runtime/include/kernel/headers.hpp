#pragma once
/// Kafka message headers, one type wherever they appear: a consumed Message, an Outgoing
/// message, a JSON Lines record and the testing helpers.
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kernel {

/// Headers in wire order. A name may repeat; get() returns the last value. A header sent
/// without a value (null, which Kafka allows) reads as an empty string; is_null() tells it
/// from one sent with an empty value.
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;
  Headers() = default;
  Headers(std::initializer_list<Entry> entries) : entries_(entries) {}
  /// `null_values`: indices of the entries whose value is null.
  Headers(std::vector<Entry> entries, std::vector<std::size_t> null_values = {})  // NOLINT: implicit on purpose
      : entries_(std::move(entries)), null_values_(std::move(null_values)) {}

  /// Appends a header.
  Headers& add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  /// Appends a header without a value (null).
  Headers& add_null(std::string name) {
    null_values_.push_back(entries_.size());
    entries_.emplace_back(std::move(name), std::string());
    return *this;
  }

  /// Removes every header named `name`; returns how many there were.
  std::size_t erase(std::string_view name);

  std::optional<std::string_view> get(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  const Entry& operator[](std::size_t index) const noexcept { return entries_[index]; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }
  /// Whether entry `index` was sent without a value (rd_kafka_header_get_all gives NULL).
  bool is_null(std::size_t index) const noexcept;

  bool operator==(const Headers&) const = default;

 private:
  std::vector<Entry> entries_;
  std::vector<std::size_t> null_values_;  // indices into entries_; almost always empty
};

/// Header names the runtime reads from a message (the standard ones it writes: docs/reference.md).
namespace header {
/// The topic a request's reply goes to, named in full (Context::reply(), kernel::Requester).
inline constexpr std::string_view reply_to = "reply-to";
/// What ties a reply to its request, and the records of one flow to each other.
inline constexpr std::string_view correlation_id = "correlation-id";
}  // namespace header

}  // namespace kernel
