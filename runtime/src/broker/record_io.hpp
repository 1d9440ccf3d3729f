#pragma once
// Producing JSON Lines records to a topic and reading a topic back, outside any group: used
// by the dev broker's --seed, --samples, and the test fixture.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::detail {

/// A plain client for tools (no callbacks); throws std::runtime_error.
HandlePtr make_plain_client(rd_kafka_type_t type, const std::string& servers,
                            const std::vector<std::pair<std::string, std::string>>& properties = {});

/// Where one produced record landed.
struct RecordPosition {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

/// Produces the records and waits for every acknowledgement. Returns, per partition, the
/// offset after the last record written; `positions`, if given, receives each record's
/// partition and offset, in the order of `records`. Throws std::runtime_error.
std::map<std::int32_t, std::int64_t> produce_records(const std::string& servers, const std::string& topic,
                                                     const std::vector<jsonl::Record>& records,
                                                     std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                                     std::vector<RecordPosition>* positions = nullptr);

/// Reads a topic from the beginning of every partition until `at_least` records arrived and
/// the end is reached, or `timeout` passes (then returns what it has). `give_up`, if given, is
/// asked whenever every partition has been read to its end: true returns what arrived so far.
std::vector<jsonl::Record> read_topic(const std::string& servers, const std::string& topic, std::size_t at_least,
                                      std::chrono::milliseconds timeout, const std::function<bool()>& give_up = {});

}  // namespace kernel::detail
