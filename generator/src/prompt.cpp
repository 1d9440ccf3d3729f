#include "prompt.hpp"

#include <unistd.h>

#include <sstream>

namespace new_kernel {

bool interactive_terminal() noexcept { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1; }

std::optional<std::string> ask(std::istream& in, std::ostream& out, const std::string& question,
                               const std::string& default_value,
                               const std::function<std::vector<std::string>(const std::string&)>& check) {
  while (true) {
    out << question;
    if (!default_value.empty()) out << " [" << default_value << "]";
    out << ": " << std::flush;
    std::string answer;
    if (!std::getline(in, answer)) {
      out << "\n";
      return std::nullopt;
    }
    const auto first = answer.find_first_not_of(" \t");
    answer = first == std::string::npos ? "" : answer.substr(first, answer.find_last_not_of(" \t") - first + 1);
    if (answer.empty()) answer = default_value;
    const auto problems = check(answer);
    if (problems.empty()) return answer;
    for (const auto& problem : problems) out << "  " << problem << "\n";
  }
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return items;
}

}  // namespace new_kernel
