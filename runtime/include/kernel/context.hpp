#pragma once
/// What a handler gets besides the message: a way to produce, the kernel's name, a logger,
/// and which attempt this is. Outputs are collected during the attempt and sent by the
/// runtime only when the handler succeeds, so a retried attempt never sends twice.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "kernel/outgoing.hpp"

namespace kernel {

class Context {
 public:
  Context(std::string kernel_name, std::optional<std::string> output_topic,
          std::shared_ptr<spdlog::logger> logger);

  /// Queues a message; sent (with the standard headers) once the handler succeeds.
  /// Without a topic it goes to the kernel's output topic; without either it throws
  /// PermanentError.
  void produce(Outgoing message);

  const std::string& kernel_name() const noexcept { return kernel_name_; }
  const std::optional<std::string>& output_topic() const noexcept { return output_topic_; }
  spdlog::logger& log() const noexcept { return *logger_; }
  /// 1 for the first attempt, 2 for the first retry, ...
  int attempt() const noexcept { return attempt_; }

  /// What this attempt produced so far (the runtime and tests read it).
  const std::vector<Outgoing>& produced() const noexcept { return produced_; }
  std::vector<Outgoing> take_produced() noexcept { return std::move(produced_); }
  /// Starts a new attempt: forgets what the previous one produced.
  void begin_attempt(int attempt) noexcept {
    attempt_ = attempt;
    produced_.clear();
  }

 private:
  std::string kernel_name_;
  std::optional<std::string> output_topic_;
  std::shared_ptr<spdlog::logger> logger_;
  int attempt_ = 1;
  std::vector<Outgoing> produced_;
};

}  // namespace kernel
