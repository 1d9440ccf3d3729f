#!/usr/bin/env bash
# The bench_smoke test (bench/smoke.cmake): every benchmark command in its --smoke mode, one
# after the other, with the binaries of $KERNEL_BUILD_DIR as they are (KERNEL_BENCH_NO_BUILD=1).
# Each must exit 0 and print its figures: a positive `ratio=` last line (throughput, io-bound,
# exactly-once, batch) or a latency line per contender (latency). The figures themselves mean
# nothing at a few hundred messages.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
fail() {
  echo "bench/$1 --smoke: $2"
  failed=1
}
ratio_line_ok() {  # the last line is ratio=<a number above 0>
  tail -n 1 <<<"$1" | grep -Eq '^ratio=([0-9]*[1-9][0-9]*(\.[0-9]*)?|0?\.[0-9]*[1-9][0-9]*)$'
}
for b in throughput latency scaling io-bound exactly-once batch producer; do
  started=$SECONDS
  if ! out=$(bench/$b --smoke 2>&1); then
    printf '%s\n' "$out"
    fail "$b" "failed"
    continue
  fi
  printf '%s\n' "$out"
  case "$b" in
    throughput | io-bound | exactly-once | batch | producer)
      ratio_line_ok "$out" || fail "$b" "no ratio=<positive number> last line" ;;
    latency)
      for name in raw kernel-at_least_once raw-exactly_once kernel-exactly_once; do
        line="^$name p50_ms=[0-9.]+ p99_ms=[0-9.]+ p99_9_ms=[0-9.]+ .* kept_up=(yes|no) .* lost=0$"
        grep -Eq "$line" <<<"$out" ||
          fail "$b" "no p50/p99/p99.9 line for $name"
      done ;;
  esac
  echo "bench/$b --smoke: $((SECONDS - started)) s"
done
exit "$failed"
