#pragma once
// kernel-admin dlq: what a dead letter says about itself (its dlq-* headers), and which dead
// letters a command takes (--reason, --key, --since, --until).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failure.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::tools::dlq {

/// The value of the last header `name` (a null header counts as absent).
std::optional<std::string> header_of(const jsonl::Record& record, std::string_view name);
/// When it was dead-lettered: `dlq-failed-at`, else the record's own timestamp; nullopt when
/// it has neither.
std::optional<std::int64_t> failed_at_ms(const jsonl::Record& record);

/// The values `dlq-failure-reason` takes (the FailureReason names).
const std::vector<std::string>& failure_reasons();

/// A TIME argument: an instant (RFC 3339 with a zone, core/rfc3339.hpp), or a duration before
/// now (`30m`, `2h`, `7d`).
struct TimeArgument {
  std::string text;           ///< as typed
  std::int64_t epoch_ms = 0;  ///< resolved when the command starts
  bool relative = false;      ///< a duration ago: the instant moves with the clock
};
/// Throws Failure (64) naming `option` and what it accepts.
TimeArgument parse_time_argument(std::string_view option, const std::string& text, std::int64_t now_ms);

/// What a command does with one dead letter.
enum class Verdict {
  take,      ///< every filter matches
  excluded,  ///< a filter refuses it, and always will
  not_yet,   ///< only `--until <duration>` refuses it: newer than that, it qualifies later
};

/// --reason (any of), --key, --since, --until, all of which must match.
struct Filter {
  std::vector<std::string> reasons;
  std::optional<std::string> key;
  std::optional<TimeArgument> since, until;

  /// Throws Failure (64) for a reason that is not a FailureReason name.
  void check() const;
  Verdict judge(const jsonl::Record& record) const;
  /// The filters in one canonical line (`reason=a,b key=... since=2h`); empty without any.
  /// An instant is written in UTC milliseconds so that two spellings of it are one filter;
  /// a duration as typed, so that `--since 2h` today and tomorrow are one filter.
  std::string canonical() const;
};

/// The consumer group that remembers what `dlq replay` sent from `source` to `target` (empty:
/// each record's original topic) with `filter`:
/// `kernel-admin.dlq-replay.<source>.<target or "original">.<filters>`, where `<filters>` is
/// `all`, or the first 16 hex digits of the SHA-256 of Filter::canonical().
std::string replay_group(const std::string& source, const std::string& target, const Filter& filter);

}  // namespace kernel::tools::dlq
