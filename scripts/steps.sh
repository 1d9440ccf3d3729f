# shellcheck shell=bash
# Sourced by scripts/quickstart.sh and scripts/test.sh: what they say as they go, so that a
# long run is never silent. Each step prints a line when it starts and its duration when it
# ends; a build shows one progress line per 10% and its errors, its whole output kept in a log.
steps_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
steps_tail_lines=40  # of a failed command's log: enough for a compiler error and its notes

# duration SECONDS: "1m 12s", or "12s" under a minute.
duration() {
  if [ "$1" -ge 60 ]; then echo "$(($1 / 60))m $(($1 % 60))s"; else echo "$1s"; fi
}

# step_begin TITLE ... step_end: the commands in between are the step (a failure stops the
# script, set -e, after the command has said why).
step_begin() {
  step_started=$SECONDS
  echo "== $1"
}
step_end() {
  echo "   done in $(duration $((SECONDS - step_started)))"
}

# run_logged LOG COMMAND...: runs an external command with its output (stdout and stderr) in
# LOG, showing its progress and errors (scripts/progress.py). When it fails: the end of LOG,
# which holds what surrounds the error, and where LOG is; returns the command's status.
run_logged() {
  local log=$1 status=0
  shift
  mkdir -p "$(dirname "$log")"
  "$@" 2>&1 | python3 "$steps_dir/progress.py" --log "$log" || status=$?
  if [ "$status" -ne 0 ]; then
    {
      echo "!! failed (exit $status): $*"
      echo "!! the last $steps_tail_lines lines of its output:"
      tail -n "$steps_tail_lines" "$log"
      echo "!! its whole output: $log"
    } >&2
  fi
  return "$status"
}

# run_tests_logged LOG COMMAND...: runs ctest (or a command that prints like it), its whole
# output in LOG and on stdout but for the lines announcing that a test starts: one line per
# test as it finishes, and a failing test's output (--output-on-failure) in full; when it
# fails, a summary of what failed at the end (scripts/failures.py).
run_tests_logged() {
  local log=$1 status=0
  shift
  mkdir -p "$(dirname "$log")"
  "$@" 2>&1 | tee "$log" | sed -u -E '/^ +Start +[0-9]+: /d' || status=$?
  # The end of a long run's output is what gets read first: what failed, in a few lines.
  if [ "$status" -ne 0 ]; then python3 "$steps_dir/failures.py" "$log" || true; fi
  return "$status"
}
