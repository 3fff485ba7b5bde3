#!/usr/bin/env bash
# CI (issue 15): the reference suite on 2 workers (`interlock run -j 2`) and as 2 shards merged
# (`INTERLOCK_SHARD=i/2 behave`, then `interlock merge`) passes the same scenarios as a serial
# run: the same summary line, and as many Allure results and JUnit test cases.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

summary() { grep -E '^[0-9]+ scenarios? passed' "$1" | tail -1 | sed -E 's/ \([0-9]+ flaky\)//'; }
results() { find "$1" -name '*-result.json' | wc -l; }
cases() { cat "$1"/*.xml | grep -o '<testcase ' | wc -l; }

echo "ci-scale: serial run"
rm -rf reports/junit
$BIN/behave -f progress > "$work/serial.log" 2>&1 || { tail -50 "$work/serial.log"; exit 1; }
serial=$(summary "$work/serial.log")
serial_results=$(results reports/allure-results)
serial_cases=$(cases reports/junit)
echo "ci-scale: serial: $serial ($serial_results results)"

echo "ci-scale: 2 workers"
rm -rf reports/junit
$BIN/interlock run -j 2 -f progress > "$work/parallel.log" 2>&1 \
    || { tail -80 "$work/parallel.log"; exit 1; }
grep -E '^interlock: .*(runs alone on the shared stack|worker\(s\))' "$work/parallel.log" || true
parallel=$(summary "$work/parallel.log")
echo "ci-scale: 2 workers: $parallel ($(results reports/allure-results) results)"
[ "$parallel" = "$serial" ] || { echo "ci-scale: 2 workers differ from the serial run"; exit 1; }
[ "$(results reports/allure-results)" = "$serial_results" ] \
    || { echo "ci-scale: 2 workers wrote another number of results"; exit 1; }
[ "$(cases reports/junit)" = "$serial_cases" ] \
    || { echo "ci-scale: 2 workers wrote another number of JUnit test cases"; exit 1; }

for i in 1 2; do
    echo "ci-scale: shard $i/2"
    rm -rf reports/junit
    INTERLOCK_SHARD=$i/2 $BIN/behave -f progress > "$work/shard-$i.log" 2>&1 \
        || { tail -50 "$work/shard-$i.log"; exit 1; }
    mkdir -p "$work/shards/$i"
    cp -r reports/allure-results reports/junit "$work/shards/$i/"
    cp reports/durations-shard-$i-of-2.json "$work/shards/$i/"  # each shard records its own
    summary "$work/shard-$i.log"
done
$BIN/interlock merge "$work/shards/1" "$work/shards/2" --into "$work/merged"
merged_results=$(results "$work/merged/allure-results")
echo "ci-scale: 2 shards merged: $merged_results results, $(cases "$work/merged/junit") test cases"
[ "$merged_results" = "$serial_results" ] \
    || { echo "ci-scale: the merged shards hold $merged_results results, not $serial_results"; exit 1; }
[ "$(cases "$work/merged/junit")" = "$serial_cases" ] \
    || { echo "ci-scale: the merged shards hold another number of JUnit test cases"; exit 1; }
echo "ci-scale: the same scenarios serially, on 2 workers and as 2 shards"
