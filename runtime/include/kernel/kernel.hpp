#pragma once
/// Everything a kernel needs, in one include.
#include "kernel/config.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/handler.hpp"
#include "kernel/message.hpp"
#include "kernel/middleware.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/run.hpp"
