#pragma once
/// Asking the questions of answers.hpp on a terminal.
#include <istream>
#include <ostream>

#include "answers.hpp"

namespace new_kernel {

/// Whether both standard input and standard error are terminals (prompts go to stderr so
/// that stdout stays the generator's output).
bool interactive_terminal() noexcept;

/// Asks `question` (its choices and its default in brackets) until the answer passes the
/// question's check, showing each problem on a line of its own (the lines the command line
/// gives for the same value), then stores it in `answers`. An empty answer takes the
/// default. Returns false at end of input, leaving `answers` as it was.
bool ask(std::istream& in, std::ostream& out, const Question& question, Answers& answers, const Patterns& patterns);

}  // namespace new_kernel
