// What an outcome means (loop/disposition.hpp): the table in docs/failure-handling.md ("What
// an outcome means") is read from the page itself; every combination of its columns matches
// exactly one row, and decide() answers what that row says. Changing either the page or the
// function alone fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "docs_pages.hpp"
#include "kernel/errors.hpp"
#include "loop/disposition.hpp"

namespace disposition_test {

using namespace kernel;
using namespace kernel::detail;
using namespace std::chrono_literals;
using Action = Disposition::Action;

namespace {

/// One row of the table: each condition column's alternatives (empty: `any`), and its meaning.
struct Row {
  std::string text;
  std::vector<std::vector<std::string>> conditions;
  std::string means;
};

/// The condition columns, in the page's order, and the words each may use.
struct Column {
  std::string name;
  std::vector<std::string> words;
};
const std::vector<Column> condition_columns = {
    {"outcome", {"success", "business error", "permanent", "transient", "late", "fatal"}},
    {"read from", {"input topic", "retry topic", "last retry topic"}},
    {"attempt", {"retries left", "none left"}},
    {"retry topics", {"on", "off"}},
    {"circuit", {"closed", "open"}},
    {"error topic", {"set", "unset"}},
};

/// A cell's alternatives ("transient or late"), each a word its column knows; `any`: none.
std::vector<std::string> alternatives(const std::string& cell, const Column& column, const std::string& row) {
  if (cell == "any") return {};
  std::vector<std::string> words;
  for (std::size_t start = 0;;) {
    const auto end = cell.find(" or ", start);
    words.push_back(cell.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 4;
  }
  for (const auto& word : words) {
    const bool known = std::find(column.words.begin(), column.words.end(), word) != column.words.end();
    REQUIRE_MESSAGE(known, "failure-handling.md, column \"", column.name, "\": unknown \"", word, "\" in ", row);
  }
  return words;
}

/// The rows of the first table after the page's "What an outcome means" heading.
std::vector<Row> outcome_table() {
  std::istringstream text(docs_pages::read_doc("failure-handling.md"));
  std::string line;
  while (std::getline(text, line) && line != "## What an outcome means") {
  }
  REQUIRE_MESSAGE(text, "failure-handling.md has no section \"## What an outcome means\"");
  while (std::getline(text, line) && !line.starts_with("|")) {
  }
  std::vector<std::string> header;
  for (const auto& column : condition_columns) header.push_back(column.name);
  header.push_back("what it means");
  REQUIRE(docs_pages::cells_of(line) == header);
  std::getline(text, line);  // | --- | ...
  std::vector<Row> rows;
  while (std::getline(text, line) && line.starts_with("|")) {
    const auto cells = docs_pages::cells_of(line);
    REQUIRE_MESSAGE(cells.size() == header.size(), "failure-handling.md: a row of ", cells.size(), " cells: ", line);
    Row row{line, {}, cells.back()};
    for (std::size_t i = 0; i < condition_columns.size(); ++i) {
      row.conditions.push_back(alternatives(cells[i], condition_columns[i], line));
    }
    rows.push_back(std::move(row));
  }
  REQUIRE_FALSE(rows.empty());
  return rows;
}

/// One combination of the columns: what decide() is given.
struct Case {
  Attempt attempt;
  FailurePolicy policy;
  Circuit circuit;
};

constexpr double draw = 0.25;  // any value in [0, 1): the jitter's place is passed in

/// Every combination, each with the variants the table does not tell apart (a permanent
/// failure's reason, a retry_after): attempts at, below and past the limit, and with three
/// retry topics each place a message can be read from.
std::vector<Case> every_case() {
  using std::chrono::milliseconds;
  const std::optional<milliseconds> retry_afters[] = {std::nullopt, milliseconds(50), milliseconds(1h)};
  std::vector<Case> cases;
  for (auto outcome : {OutcomeClass::success, OutcomeClass::business_error, OutcomeClass::permanent,
                       OutcomeClass::transient, OutcomeClass::late, OutcomeClass::fatal}) {
    for (int topics : {0, 3}) {
      for (int origin = 0; origin <= topics; ++origin) {
        for (int number = 1; number <= 5; ++number) {
          for (auto circuit : {Circuit::closed, Circuit::open}) {
            for (bool error_topic : {false, true}) {
              for (auto reason : {FailureReason::processing_error, FailureReason::validation_error}) {
                for (auto retry_after : retry_afters) {
                  const FailurePolicy policy{3, topics, error_topic, Backoff{200ms, 30s, 2.0, 0.2}};
                  cases.push_back({{outcome, number, origin, reason, retry_after}, policy, circuit});
                }
              }
            }
          }
        }
      }
    }
  }
  return cases;
}

/// The word a case has in each condition column.
std::vector<std::string> words_of(const Case& c) {
  static const char* const outcomes[] = {"success", "business error", "permanent", "transient", "late", "fatal"};
  const auto& attempt = c.attempt;
  return {outcomes[static_cast<int>(attempt.outcome)],
          attempt.origin == 0                       ? "input topic"
          : attempt.origin == c.policy.retry_topics ? "last retry topic"
                                                    : "retry topic",
          attempt.number <= c.policy.max_retries ? "retries left" : "none left",
          c.policy.retry_topics > 0 ? "on" : "off",
          c.circuit == Circuit::open ? "open" : "closed",
          c.policy.error_topic ? "set" : "unset"};
}

bool matches(const Row& row, const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& allowed = row.conditions[i];
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), words[i]) == allowed.end()) return false;
  }
  return true;
}

std::string describe(const std::vector<std::string>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) text += (i ? ", " : "") + condition_columns[i].name + ": " + words[i];
  return text;
}

/// What a row's last cell says, for this case.
Disposition meaning(const Row& row, const Case& c) {
  const auto& attempt = c.attempt;
  const auto& means = row.means;
  if (means == "complete: send its outputs") return {.action = Action::complete};
  if (means == "complete: send nothing") return {.action = Action::complete_without_outputs};
  if (means == "complete: publish it to the error topic") return {.action = Action::publish_to_error_topic};
  if (means == "stop the kernel") return {.action = Action::stop};
  if (means == "dead-letter with its own reason") return {.action = Action::dead_letter, .reason = attempt.reason};
  if (means == "hold for the breaker, retries unspent") {
    return {.action = Action::hold_for_breaker, .next_attempt = attempt.number};
  }
  if (means == "retry in place after the backoff") {
    return {.action = Action::retry_in_place,
            .next_attempt = attempt.number + 1,
            .delay = c.policy.backoff.delay_after(attempt.retry_after, attempt.number, draw)};
  }
  if (means == "move to the next retry topic") {
    return {.action = Action::move_to_retry_topic, .retry_topic = attempt.origin + 1};
  }
  static const std::regex dead_letter_as("dead-letter: `([a-z_]+)`");
  if (std::smatch named; std::regex_match(means, named, dead_letter_as)) {
    for (auto reason : all_failure_reasons) {
      if (to_string(reason) == named[1].str()) return {.action = Action::dead_letter, .reason = reason};
    }
  }
  FAIL("failure-handling.md: \"", means, "\" is not a disposition this test knows, in ", row.text);
  return {};
}

std::string describe(const Disposition& d) {
  static const char* const actions[] = {"complete",
                                        "complete_without_outputs",
                                        "publish_to_error_topic",
                                        "retry_in_place",
                                        "hold_for_breaker",
                                        "move_to_retry_topic",
                                        "dead_letter",
                                        "stop"};
  std::ostringstream text;
  text << actions[static_cast<int>(d.action)] << " next_attempt " << d.next_attempt << " delay " << d.delay.count()
       << " ms, retry topic " << d.retry_topic << ", reason " << to_string(d.reason);
  return text.str();
}

/// At most the first 20 of `problems`, one a line (a broken table breaks many combinations).
std::string first_of(const std::set<std::string>& problems) {
  std::string text;
  int shown = 0;
  for (const auto& problem : problems) {
    if (++shown > 20) break;
    text += "\n  " + problem;
  }
  return text;
}

}  // namespace

TEST_CASE("every combination of the outcome table's columns matches exactly one of its rows") {
  const auto rows = outcome_table();
  std::vector<int> used(rows.size(), 0);
  std::set<std::string> problems;
  for (const auto& c : every_case()) {
    const auto words = words_of(c);
    std::vector<std::size_t> matched;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (matches(rows[i], words)) matched.push_back(i);
    }
    if (matched.size() != 1) problems.insert(describe(words) + ": " + std::to_string(matched.size()) + " rows match");
    for (auto i : matched) ++used[i];
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (used[i] == 0) problems.insert("no combination reaches " + rows[i].text);
  }
  CHECK_MESSAGE(problems.empty(), problems.size(), " problems:", first_of(problems));
}

TEST_CASE("decide() answers what the outcome table in failure-handling.md says, for every combination") {
  const auto rows = outcome_table();
  std::set<std::string> problems;
  std::size_t checked = 0;
  for (const auto& c : every_case()) {
    const auto words = words_of(c);
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return matches(r, words); });
    if (row == rows.end()) continue;  // the test above reports it
    const auto decided = decide(c.attempt, c.policy, c.circuit, draw);
    const auto expected = meaning(*row, c);
    ++checked;
    if (decided == expected) continue;
    problems.insert(describe(words) + " (attempt " + std::to_string(c.attempt.number) + ", origin " +
                    std::to_string(c.attempt.origin) + "): decide() says " + describe(decided) + "; the table says " +
                    describe(expected) + ", in " + row->text);
  }
  CHECK(checked > 0);
  CHECK_MESSAGE(problems.empty(), problems.size(), " differences:", first_of(problems));
}

}  // namespace disposition_test
