#include <doctest/doctest.h>

#include "loop/commit_tracker.hpp"

namespace commit_tracker_test {

using kernel::detail::CommitTracker;

TEST_CASE("the commit point is the end of the contiguous completed prefix") {
  CommitTracker tracker;
  auto& first = tracker.begin(10);
  auto& second = tracker.begin(11);
  auto& third = tracker.begin(12);
  CHECK_FALSE(tracker.commit_offset());

  SUBCASE("acknowledgements out of order") {
    for (auto* entry : {&first, &second, &third}) {
      entry->pending_acks = 1;
      entry->handled = true;
    }
    third.pending_acks = 0;  // the last one is acknowledged first
    CHECK_FALSE(tracker.advance());
    CHECK_FALSE(tracker.commit_offset());
    first.pending_acks = 0;
    CHECK(tracker.advance() == 11);
    CHECK(tracker.in_flight() == 2);
    second.pending_acks = 0;
    CHECK(tracker.advance() == 13);
    CHECK(tracker.empty());
    CHECK(tracker.commit_offset() == 13);
  }

  SUBCASE("a handled message with outputs pending holds everything after it") {
    first.handled = true;
    second.handled = true;
    second.pending_acks = 2;
    third.handled = true;
    CHECK(tracker.advance() == 11);
    CHECK(tracker.pending_acks() == 2);
    second.pending_acks = 1;
    CHECK_FALSE(tracker.advance());
    CHECK(tracker.commit_offset() == 11);
    second.pending_acks = 0;
    CHECK(tracker.advance() == 13);
  }

  SUBCASE("a failed output blocks the commit until it is dead-lettered") {
    first.handled = true;
    first.output_failed = true;
    second.handled = true;
    third.handled = true;
    CHECK_FALSE(tracker.advance());
    // The dead letter is written and acknowledged.
    first.output_failed = false;
    first.pending_acks = 1;
    CHECK_FALSE(tracker.advance());
    first.pending_acks = 0;
    CHECK(tracker.advance() == 13);
  }

  SUBCASE("a message not handled yet (waiting for a retry) holds its successors") {
    second.handled = true;
    third.handled = true;
    CHECK_FALSE(tracker.advance());
    first.handled = true;
    CHECK(tracker.advance() == 13);
  }
}

TEST_CASE("entries survive pushes and pops around them, and are found by offset") {
  CommitTracker tracker;
  auto& kept = tracker.begin(5);
  kept.pending_acks = 1;
  kept.handled = true;
  for (int offset = 7; offset < 1000; offset += 2) tracker.begin(offset).handled = true;
  CHECK(tracker.find(5) == &kept);
  CHECK(tracker.find(6) == nullptr);
  CHECK(tracker.find(999)->offset == 999);
  CHECK(tracker.first_from(6)->offset == 7);  // the next one after a gap
  CHECK(tracker.first_from(5) == &kept);
  CHECK(tracker.first_from(1000) == nullptr);
  kept.pending_acks = 0;
  CHECK(tracker.advance() == 1000);  // gaps in offsets (compaction, markers) are fine
}

TEST_CASE(
    "a partition assigned back after a loss starts with the progress it had: it is committed until more completes") {
  CommitTracker tracker;
  tracker.resume_at(1959);
  CHECK(tracker.commit_offset() == 1959);
  auto& next = tracker.begin(1959);
  CHECK_FALSE(tracker.advance());
  CHECK(tracker.commit_offset() == 1959);  // nothing new complete: still the resumed point
  next.handled = true;
  CHECK(tracker.advance() == 1960);
}

}  // namespace commit_tracker_test
