#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, the two legs side by side (one core each), so CI
# stays within its budget. Each leg's output goes to var/test-logs/<leg>.log and is printed when
# the leg ends; the exit status is non-zero when either leg fails.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/test-logs
python=.venv/bin/python
declare -A pids
for leg in sqlite postgresql; do
  "$python" -m pytest --db "$leg" -p no:cacheprovider "$@" >"var/test-logs/$leg.log" 2>&1 &
  pids[$leg]=$!
done
status=0
for leg in sqlite postgresql; do
  if wait "${pids[$leg]}"; then result=passed; else result=FAILED; status=1; fi
  echo "===================== $leg leg: $result (log: var/test-logs/$leg.log) ====================="
  tail -n 60 "var/test-logs/$leg.log"
done
exit $status
