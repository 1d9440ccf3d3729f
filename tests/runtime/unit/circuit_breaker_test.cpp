#include <doctest/doctest.h>

#include "loop/circuit_breaker.hpp"

namespace circuit_breaker_test {

using kernel::detail::CircuitBreaker;
using State = CircuitBreaker::State;
using namespace std::chrono_literals;

namespace {
const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;

void fail(CircuitBreaker& breaker, int times, CircuitBreaker::Clock::time_point now = t0) {
  for (int i = 0; i < times; ++i) breaker.transient_failure(now);
}
}  // namespace

TEST_CASE("circuit breaker: opens after the threshold of consecutive transient failures") {
  CircuitBreaker breaker(3, 10s, 5min);
  CHECK(breaker.enabled());
  CHECK_FALSE(breaker.transient_failure(t0));
  CHECK_FALSE(breaker.transient_failure(t0));
  CHECK(breaker.state() == State::closed);
  CHECK(breaker.transient_failure(t0) == State::open);
  CHECK(breaker.tripped());
  CHECK(breaker.open_until() == t0 + 10s);
  CHECK(breaker.transitions() == 1);
  // Failures of calls still finishing while open change nothing.
  CHECK_FALSE(breaker.transient_failure(t0 + 1s));
  CHECK(breaker.open_until() == t0 + 10s);
}

TEST_CASE("circuit breaker: a success, permanent or business error resets the count") {
  CircuitBreaker breaker(3, 10s, 5min);
  fail(breaker, 2);
  CHECK(breaker.consecutive_failures() == 2);
  CHECK_FALSE(breaker.answered());
  CHECK(breaker.consecutive_failures() == 0);
  fail(breaker, 2);
  CHECK(breaker.state() == State::closed);
  fail(breaker, 1);
  CHECK(breaker.state() == State::open);
}

TEST_CASE("circuit breaker: half-open after the cooldown lets exactly one probe through") {
  CircuitBreaker breaker(2, 10s, 5min);
  fail(breaker, 2);
  CHECK_FALSE(breaker.take_probe());  // open: nothing goes through
  CHECK_FALSE(breaker.tick(t0 + 9999ms));
  CHECK(breaker.tick(t0 + 10s) == State::half_open);
  CHECK(breaker.take_probe());
  CHECK_FALSE(breaker.take_probe());
  breaker.probe_abandoned();
  CHECK(breaker.take_probe());

  SUBCASE("probe success closes") {
    CHECK(breaker.answered() == State::closed);
    CHECK(breaker.cooldown() == 10s);
    CHECK(breaker.transitions() == 3);
  }
  SUBCASE("probe failure reopens for twice as long") {
    CHECK(breaker.transient_failure(t0 + 10s) == State::open);
    CHECK(breaker.open_until() == t0 + 30s);
    CHECK(breaker.cooldown() == 20s);
    // And the cooldown starts over once a probe succeeds.
    breaker.tick(t0 + 30s);
    CHECK(breaker.answered() == State::closed);
    fail(breaker, 2, t0 + 40s);
    CHECK(breaker.open_until() == t0 + 50s);
  }
}

TEST_CASE("circuit breaker: an answer while open waits for the probe") {
  CircuitBreaker breaker(1, 10s, 5min);
  fail(breaker, 1);
  CHECK_FALSE(breaker.answered());
  CHECK(breaker.state() == State::open);
}

TEST_CASE("circuit breaker: the doubled cooldown stops at the cap") {
  CircuitBreaker breaker(1, 10s, 35s);
  auto now = t0;
  fail(breaker, 1, now);
  const std::chrono::seconds expected[] = {20s, 35s, 35s};
  for (const auto cooldown : expected) {
    now = breaker.open_until();
    REQUIRE(breaker.tick(now) == State::half_open);
    REQUIRE(breaker.transient_failure(now) == State::open);
    CHECK(breaker.cooldown() == cooldown);
    CHECK(breaker.open_until() == now + cooldown);
  }
}

TEST_CASE("circuit breaker: threshold 0 turns it off") {
  CircuitBreaker breaker(0, 10s, 5min);
  CHECK_FALSE(breaker.enabled());
  fail(breaker, 1000);
  CHECK(breaker.state() == State::closed);
  CHECK_FALSE(breaker.tripped());
  CHECK_FALSE(breaker.tick(t0 + 1h));
  CHECK(breaker.transitions() == 0);
}

}  // namespace circuit_breaker_test
