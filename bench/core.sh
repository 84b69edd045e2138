#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/core.sh: what a core that includes the device costs (issue 9,
# docs/core.md): tests/progs/crashme dying of SIGSEGV natively, under
# mmscope with --core=off and with the default --core=on, side by side in
# each repetition; and `mmscope dump` of the same program waiting, whose
# time is how long the program stands still.  Section 10 of
# bench/RESULTS.md (replaced if there, else appended; `make bench` runs
# it, `make bench-core` alone).
#
# Knobs: BENCH_REPS (7), BENCH_OUT.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-7}
OUT=${BENCH_OUT:-bench/RESULTS.md}
PROG=$B/tests/progs/crashme
MMSCOPE=$B/mmscope
. "$(dirname "$0")/lib.sh"
bench_need bench/core.sh "$PROG" "$MMSCOPE"
bench_init mmscope-cbench

ms_of() { # ms_of CMD...: wall milliseconds of CMD (its status ignored)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
MAPS=(--map '/memfd:mmscope-crash-ram*' --device '/memfd:mmscope-crash-dev*')
CMD[native]="$PROG segv"
CMD[off]="$MMSCOPE run -q -f -o $WORK/t --core=off ${MAPS[*]} -- $PROG segv"
CMD[on]="$MMSCOPE run -q -f -o $WORK/t ${MAPS[*]} -- $PROG segv"
CMD[dump]="$MMSCOPE dump $WORK/w -o $WORK/running.core"

log "bench: 10. core dumps ($REPS repetitions)"
for rep in $(seq "$REPS"); do
	add native "$(ms_of bash -c "ulimit -c 0; exec $PROG segv")"
	add off "$(ms_of "$MMSCOPE" run -q -f -o "$WORK/t" --core=off "${MAPS[@]}" -- "$PROG" segv)"
	[ -z "$(ls "$WORK"/t/core.* 2>/dev/null)" ] || problem "--core=off wrote a core"
	add on "$(ms_of "$MMSCOPE" run -q -f -o "$WORK/t" "${MAPS[@]}" -- "$PROG" segv)"
	core=$(ls "$WORK"/t/core.* 2>/dev/null | head -n1)
	[ -n "$core" ] || { problem "no core written in repetition $rep"; continue; }
	add size "$(stat -c %s "$core")"
	add disk "$(($(stat -c %b "$core") * 512))"
	add extra "$(($(tail -n1 "$S/on") - $(tail -n1 "$S/off")))"
done
# a running program: opened with --gdb, so the dump is all that is timed
"$MMSCOPE" run -q -f -o "$WORK/w" --gdb="unix:$WORK/w.sock" "${MAPS[@]}" -- "$PROG" wait \
	>"$WORK/wait.out" 2>&1 &
waiter=$!
disown "$waiter"
for _ in $(seq 200); do grep -q WAITING "$WORK/wait.out" 2>/dev/null && break; sleep 0.05; done
grep -q WAITING "$WORK/wait.out" || problem "crashme wait did not start"
for rep in $(seq "$REPS"); do
	add dump "$(ms_of $MMSCOPE dump "$WORK/w" -o "$WORK/running.core")"
	[ -s "$WORK/running.core" ] || problem "mmscope dump wrote nothing"
	add dsize "$(stat -c %s "$WORK/running.core" 2>/dev/null || echo 0)"
done
kill -0 "$waiter" 2>/dev/null || problem "the program did not go on after the dumps"
kill -9 "$waiter" 2>/dev/null
pkill -9 -f "$PROG wait" 2>/dev/null
wait 2>/dev/null

section() {
cat <<EOS

## 10. Core dumps that include the device

Measured $(date -u +%Y-%m-%d) by \`bench/core.sh\`, $REPS times each,
side by side in every repetition: tests/progs/crashme (three threads, a
traced RAM memfd and a "device" memfd, 8 KiB each) dies of SIGSEGV,
natively, under mmscope with \`--core=off\`, and under mmscope writing
its core (the default).  Wall time of the whole run, milliseconds.

| run | ms (spread) |
|---|---|
| native (\`ulimit -c 0\`) | $(median native) ($(spread native)) |
| mmscope, \`--core=off\` | $(median off) ($(spread off)) |
| mmscope, core written | $(median on) ($(spread on)) |
| the core's cost (on − off, per repetition) | **$(median extra)** ($(spread extra)) |
| core size, MiB: apparent / on disk | $(median size 1048576) / $(median disk 1048576) |

Most of the apparent size is the two workers' 8 MiB thread stacks,
almost all untouched: pages of zeros are holes in the file, as in the
kernel's own cores.  A \`mmscope dump\` of the same program waiting
(\`crashme wait\`, connection opened with \`--gdb\`, so opening it is not
timed): the program stands still for at most this long.

| mmscope dump of a running program | ms (spread) |
|---|---|
| whole command: connect, stop, write, resume | **$(median dump)** ($(spread dump)) |
| core size, MiB | $(median dsize 1048576) |

| figure | command |
|---|---|
| native | \`$(show_cmd "${CMD[native]}")\` |
| off | \`$(show_cmd "${CMD[off]}")\` |
| on | \`$(show_cmd "${CMD[on]}")\` |
| dump | \`$(show_cmd "${CMD[dump]}")\` |

Problems found:
$(if [ -s "$PROBLEMS" ]; then cat "$PROBLEMS"; else echo "none."; fi)
EOS
}
section | sed '1{/^$/d}' | put_section 10 "$OUT"
log "bench: section 10 written to $OUT"
[ ! -s "$PROBLEMS" ]
