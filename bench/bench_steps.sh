#!/usr/bin/env bash
# How long a learner waits for `workshop check N` (run in the stand-in VM right after
# step N, five times: median and max), how long each step's replay takes, and the
# whole replay (provisioning the stand-in VM included). No thresholds: figures only,
# for bench/README.md.   Usage: bench/bench_steps.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python=${PYTHON:-.venv/bin/python}
start=$(date +%s)
status=0  # a failed replay still prints the figures it got, and its status
REPLAY_TIMINGS="$out" "$python" -m pytest -q -p no:cacheprovider \
    tests/replay/test_replay.py "$@" || status=$?
end=$(date +%s)
echo
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, $(uname -r)"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %16s %13s\n' step replay_s check_median_s check_max_s
"$python" - "$out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "step" in r:
        print(f"{r['step']:<6} {r['replay_s']:>12} {r['check_median_s']:>16} {r['check_max_s']:>13}")
    else:
        print(f"workshop status, {r['status']}: median {r['median_s']} s, max {r['max_s']} s")
PY
echo "whole replay test module (VM provisioning, every step and its mistakes): $((end - start)) s"
exit "$status"
