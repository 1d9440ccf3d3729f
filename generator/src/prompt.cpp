#include "prompt.hpp"

#include <unistd.h>

#include <string>

namespace new_kernel {

bool interactive_terminal() noexcept { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1; }

bool ask(std::istream& in, std::ostream& out, const Question& question, Answers& answers, const Patterns& patterns) {
  const auto default_value = question.default_value(answers, patterns);
  std::string prompt(question.prompt);
  if (question.choices != nullptr) {
    std::string choices;
    for (const auto& choice : question.choices(patterns)) choices += (choices.empty() ? "" : ", ") + choice;
    prompt += " (" + choices + ")";
  }
  if (!default_value.empty()) prompt += " [" + default_value + "]";
  prompt += ": ";
  while (true) {
    out << prompt << std::flush;
    std::string line;
    if (!std::getline(in, line)) {
      out << "\n";  // the cursor is still after the prompt
      return false;
    }
    const auto first = line.find_first_not_of(" \t");
    const auto typed =
        first == std::string::npos ? std::string() : line.substr(first, line.find_last_not_of(" \t") - first + 1);
    Answers candidate = answers;
    question.store(candidate, typed.empty() ? default_value : typed);
    const auto problems = question.check(candidate, patterns);
    if (problems.empty()) {
      answers = std::move(candidate);
      return true;
    }
    for (const auto& problem : problems) out << "  " << problem << "\n";
  }
}

}  // namespace new_kernel
