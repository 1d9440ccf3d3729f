#pragma once
// Searching everything a kernel wrote for secret values, as someone who can read its outputs
// would: every record on every topic of the embedded broker (key, value, header names and
// values), every line it logged (a JSON line's strings decoded, as a log reader sees them) and
// the bodies of its HTTP endpoints. It counts what it searched, so a test can say how much it
// looked at and check that it looked where it had to.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "broker/record_io.hpp"
#include "kernel/jsonl.hpp"

namespace secret_search {

/// Sends what this process writes to stderr (the kernel's log, librdkafka's included) to a
/// file while it lives, so the lines can be read back.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/kernel-stderr-XXXXXX";
    file_ = ::mkstemp(path);
    if (file_ < 0) throw std::runtime_error("cannot create a file for stderr");
    path_ = path;
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(file_, STDERR_FILENO);
  }
  ~StderrCapture() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(file_);
    ::unlink(path_.c_str());
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// Every line written so far.
  std::vector<std::string> lines() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::string path_;
  int file_ = -1;
  int saved_ = -1;
};

/// Every topic the brokers at `servers` have.
inline std::vector<std::string> all_topics(const std::string& servers) {
  const auto client = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, servers);
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(client.get(), 1, nullptr, &raw, 10000);
  kernel::detail::MetadataPtr metadata(raw);
  if (err) throw std::runtime_error(std::string("cannot list topics: ") + rd_kafka_err2str(err));
  std::vector<std::string> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) topics.emplace_back(metadata->topics[i].topic);
  return topics;
}

class Search {
 public:
  explicit Search(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}

  /// Every record on every topic: its key, value, and each header's name and value.
  void every_record(const std::string& servers) {
    for (const auto& topic : all_topics(servers)) {
      auto& count = records_[topic];  // a topic with no record is still listed as searched
      for (const auto& record : kernel::detail::read_topic(servers, topic, 0, std::chrono::seconds(10))) {
        const auto where = "record " + topic + "[" + std::to_string(record.partition.value_or(-1)) + "]@" +
                           std::to_string(record.offset);
        if (record.key) look(where + " key", *record.key);
        look(where + " value", record.value);
        for (const auto& [name, value] : record.headers) look(where + " header " + name, name + ": " + value);
        ++count;
        ++outputs_;
      }
    }
  }

  /// Each line; a JSON line's strings also decoded (JSON escapes a secret's quote or backslash).
  void every_line(const std::vector<std::string>& lines) {
    for (const auto& line : lines) {
      look("log line", line);
      const auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_object()) {
        for (const auto& [field, value] : parsed.items()) {
          if (value.is_string()) look("log line's " + field, value.get<std::string>());
        }
      }
      ++log_lines_;
      ++outputs_;
    }
  }

  /// The body of GET `path` on the kernel's HTTP port; false when it did not answer 200.
  bool endpoint(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    const auto response = client.Get(path);
    if (!response || response->status != 200) return false;
    look(path, response->body);
    ++endpoints_;
    ++outputs_;
    return true;
  }

  std::size_t outputs() const { return outputs_; }
  std::size_t log_lines() const { return log_lines_; }
  /// Records read on `topic` (0 when the topic does not exist).
  std::size_t records_on(const std::string& topic) const {
    const auto found = records_.find(topic);
    return found == records_.end() ? 0 : found->second;
  }
  /// Each place a secret was found, with the text around it.
  const std::vector<std::string>& leaks() const { return leaks_; }

  /// "96 outputs grepped for 2 secrets: 31 records on 7 topics, 63 log lines, 2 HTTP bodies".
  std::string summary() const {
    std::size_t records = 0;
    for (const auto& [topic, count] : records_) records += count;
    return std::to_string(outputs_) + " outputs grepped for " + std::to_string(secrets_.size()) +
           " secrets: " + std::to_string(records) + " records on " + std::to_string(records_.size()) + " topics, " +
           std::to_string(log_lines_) + " log lines, " + std::to_string(endpoints_) + " HTTP bodies";
  }

 private:
  void look(const std::string& where, std::string_view text) {
    for (const auto& secret : secrets_) {
      if (text.find(secret) == std::string_view::npos) continue;
      leaks_.push_back(where + ": " + std::string(text));
      return;  // one report per place
    }
  }

  std::vector<std::string> secrets_;
  std::map<std::string, std::size_t> records_;
  std::size_t outputs_ = 0, log_lines_ = 0, endpoints_ = 0;
  std::vector<std::string> leaks_;
};

}  // namespace secret_search
