#!/usr/bin/env bash
# make demo: trace a small "driver" poking a register block in /dev/shm,
# then show the trace three ways.
set -euo pipefail
B=${B:-build}
out=$(mktemp -d /tmp/mmscope-demo.XXXXXX)
echo "== mmscope run -o $out/trace.d --map '/dev/shm/mmscope-demo-*' -- $B/tests/progs/demo_device"
"$B/mmscope" run -o "$out/trace.d" --map '/dev/shm/mmscope-demo-*' -- "$B/tests/progs/demo_device"
echo
echo "== mmscope show $out/trace.d"
"$B/mmscope" show "$out/trace.d"
echo
echo "== mmscope show --format=mmiotrace $out/trace.d | head -12"
"$B/mmscope" show --format=mmiotrace "$out/trace.d" | head -12
echo
echo "== mmscope show --format=json $out/trace.d | grep access | head -3"
"$B/mmscope" show --format=json "$out/trace.d" | grep '"access"' | head -3
echo
echo "(trace kept in $out/trace.d)"
