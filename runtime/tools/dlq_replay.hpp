#pragma once
// kernel-admin dlq replay: sends chosen dead letters back to their original topic (or another),
// as they were before they failed, and remembers what it sent in a consumer group of its own.
#include <string>

#include "dlq_filter.hpp"
#include "dlq_reading.hpp"

namespace kernel::tools::dlq {

struct ReplayRequest {
  std::string source;  ///< the dead-letter topic (prefix applied)
  std::string target;  ///< --to (prefix applied); empty: each record's dlq-original-topic
  Filter filter;
  bool dry_run = false;
  bool again = false;  ///< replay what the group remembers as sent, too
};

/// Runs a replay; prints a summary on stdout. Throws Failure.
int replay(Connection& connection, const ReplayRequest& request);

}  // namespace kernel::tools::dlq
