#!/usr/bin/env bash
# Run one named stage of a pipeline and report its wall time.
#   scripts/stage.sh NAME CMD [ARGS...]
# Prints "==> stage NAME", runs CMD, prints "<== stage NAME: 12.3 s" (or "... FAILED (exit N)")
# and exits with CMD's status. With STAGE_LOG=FILE set, appends "NAME<TAB>SECONDS<TAB>STATUS"
# to FILE so a caller can print a summary.
set -uo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 NAME CMD [ARGS...]" >&2
    exit 2
fi
name=$1
shift

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "==> stage ${name}"
start=$(now)
"$@"
status=$?
secs=$(elapsed "$start" "$(now)")
if [[ $status -eq 0 ]]; then
    echo "<== stage ${name}: ${secs} s"
else
    echo "<== stage ${name}: ${secs} s FAILED (exit ${status})" >&2
fi
if [[ -n ${STAGE_LOG:-} ]]; then
    printf '%s\t%s\t%s\n' "$name" "$secs" "$status" >>"$STAGE_LOG"
fi
exit "$status"
