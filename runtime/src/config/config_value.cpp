// Config as a value: its Settings live behind a pointer so that kernel/config.hpp only declares
// them, and a copy copies them (run(), the tools and the tests copy and move configurations).
#include "config/settings.hpp"

namespace kernel {

Config::Config() : settings_(std::make_unique<Settings>()) {}

Config::Config(const Config& other)
    : settings_(other.settings_ ? std::make_unique<Settings>(*other.settings_) : nullptr),
      sources_(other.sources_),
      warnings_(other.warnings_),
      keep_alive_(other.keep_alive_),
      secret_values_(other.secret_values_),
      certificate_location_(other.certificate_location_) {}

Config::Config(Config&& other) noexcept = default;

Config& Config::operator=(const Config& other) {
  if (this != &other) *this = Config(other);
  return *this;
}

Config& Config::operator=(Config&& other) noexcept = default;

Config::~Config() = default;

}  // namespace kernel
