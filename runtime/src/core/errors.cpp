#include "kernel/errors.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

namespace kernel {

std::string_view to_string(ErrorClass error_class) noexcept {
  switch (error_class) {
    case ErrorClass::transient: return "transient";
    case ErrorClass::permanent: return "permanent";
    case ErrorClass::business: return "business";
    case ErrorClass::fatal: return "fatal";
  }
  return "permanent";
}

std::string_view to_string(FailureReason reason) noexcept {
  switch (reason) {
    case FailureReason::deserialization_error: return "deserialization_error";
    case FailureReason::validation_error: return "validation_error";
    case FailureReason::processing_error: return "processing_error";
    case FailureReason::retries_exhausted: return "retries_exhausted";
    case FailureReason::output_failed: return "output_failed";
    case FailureReason::timeout: return "timeout";
  }
  return "processing_error";
}

ErrorClass classify_message(std::string_view message) noexcept {
  // Phrases that mean "try again later" in the messages of common clients and the OS.
  static constexpr std::array<std::string_view, 7> transient_phrases = {
      "connection refused", "timeout",    "deadline exceeded", "network is unreachable",
      "broken pipe",        "i/o timeout", "temporary failure"};
  std::string lowered(message);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // "timed out" is how many libraries spell a timeout.
  if (lowered.find("timed out") != std::string::npos) return ErrorClass::transient;
  for (auto phrase : transient_phrases) {
    if (lowered.find(phrase) != std::string::npos) return ErrorClass::transient;
  }
  return ErrorClass::permanent;
}

std::string exception_type_name(const std::exception& error) {
  const char* mangled = typeid(error).name();
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled);
}

}  // namespace kernel
