// How long the loop may block in its poll (loop/poll_timeout.hpp): short while work comes back
// by itself, long otherwise, and never past the loop's own next due work.
#include <doctest/doctest.h>

#include <chrono>

#include "loop/poll_timeout.hpp"

namespace poll_timeout_test {

using namespace std::chrono_literals;
using kernel::detail::poll_timeout;
using kernel::detail::PollWait;

TEST_CASE("the poll timeout: busy or idle when nothing of the loop's own is due") {
  const auto now = PollWait::Clock::now();
  CHECK(poll_timeout(PollWait{}, now) == kernel::detail::idle_poll_ms);
  CHECK(poll_timeout(PollWait{true}, now) == kernel::detail::busy_poll_ms);
  CHECK(kernel::detail::busy_poll_ms < kernel::detail::idle_poll_ms);
}

TEST_CASE("the poll timeout ends when the earliest due work is due, rounded up") {
  const auto now = PollWait::Clock::now();
  CHECK(poll_timeout(PollWait{false, now + 30ms}, now) == 30);
  CHECK(poll_timeout(PollWait{false, now + 2300us}, now) == 3);  // wakes at or after it, never before
  CHECK(poll_timeout(PollWait{false, now + 1ns}, now) == 1);
  CHECK(poll_timeout(PollWait{true, now + 2ms}, now) == 2);
  SUBCASE("no longer than the busy or idle poll") {
    CHECK(poll_timeout(PollWait{false, now + 10s}, now) == kernel::detail::idle_poll_ms);
    CHECK(poll_timeout(PollWait{true, now + 30ms}, now) == kernel::detail::busy_poll_ms);
  }
  SUBCASE("0 once it is due or past") {
    CHECK(poll_timeout(PollWait{false, now}, now) == 0);
    CHECK(poll_timeout(PollWait{true, now - 1s}, now) == 0);
  }
}

}  // namespace poll_timeout_test
