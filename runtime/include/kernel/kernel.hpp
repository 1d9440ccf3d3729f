#pragma once
/// Everything a handler author uses, in one include: Message, Batch, Headers, Context, Outgoing,
/// Outcome and the errors, middleware, the kernel's own metrics, KernelSpec and run(). Loading a
/// configuration, a kernel's own settings and secret masking are in <kernel/config.hpp>, for code
/// that asks for them.
#include <spdlog/logger.h>  // Context::log()'s type, which context.hpp only declares

#include "kernel/batch.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/handler.hpp"
#include "kernel/headers.hpp"
#include "kernel/message.hpp"
#include "kernel/metrics.hpp"
#include "kernel/middleware.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/run.hpp"
#include "kernel/trace.hpp"
