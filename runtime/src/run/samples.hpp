#pragma once
// --samples FILE: the kernel on a throwaway embedded broker, fed the file's messages, until
// every one is handled and committed; outputs and dead letters printed as JSON Lines.
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/spec.hpp"

namespace kernel::detail {

class KernelLoop;

int run_samples(const KernelSpec& spec, Config config, const std::string& file, const Environment& environment,
                const std::shared_ptr<spdlog::logger>& log);

std::unique_ptr<EmbeddedBroker> start_embedded_broker(Config& config, spdlog::logger& log);
int run_loop(KernelLoop& loop, const Settings& settings, spdlog::logger& log);

}  // namespace kernel::detail
