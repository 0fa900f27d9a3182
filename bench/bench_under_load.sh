#!/usr/bin/env bash
# The test suite's tiers but the real VM's, with both cores kept busy by something else:
# the checks and the replay must wait for events, never for a time a slow machine can
# outrun. Not run in CI. Prints when it ran, the load, and pytest's summary.
#   bash bench/bench_under_load.sh [pytest arguments]   (default: -m "not realvm")
set -euo pipefail
cd "$(dirname "$0")/.."

command -v stress-ng >/dev/null || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng; }
workers=$(nproc)
stress-ng --cpu "$workers" --timeout 4h --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true' EXIT

args=("$@")
((${#args[@]})) || args=(-m "not realvm")
log=/var/tmp/docker-workshop-bench-under-load.log
started=$(date -u +%s)
echo "bench_under_load: $(date -u '+%F %H:%M') UTC, stress-ng --cpu $workers beside the tests"
status=0
CI=true bash tests/run "${args[@]}" 2>&1 | tee "$log" || status=$?
echo "bench_under_load: exit $status after $(( ($(date -u +%s) - started) / 60 )) min," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
