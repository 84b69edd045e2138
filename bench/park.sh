#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/park.sh: what a park's look at each thread's system call costs
# (src/agent/park.c: so that a wait the park's signal cut short runs
# again) beside the signal round trip the park pays anyway; section 9 of
# bench/RESULTS.md (replaced if there, else appended; `make bench` runs
# it last, `make bench-park` alone).
#
# Knobs: BENCH_REPS (5), BENCH_PARK_N (20000 of each per repetition),
# BENCH_OUT.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-5}
N=${BENCH_PARK_N:-20000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
PROG=$B/bench/park_look
MMSCOPE=$B/mmscope
. "$(dirname "$0")/lib.sh"
bench_need bench/park.sh "$PROG" "$MMSCOPE" "$B/bench/traced_loop" "$B/bench/watch_loop"
bench_init mmscope-pbench

log "bench: 9. a park's look at each thread ($REPS repetitions, $N each)"
for rep in $(seq "$REPS"); do
	o=$("$PROG" "$N") || { problem "park_look $N failed: $o"; continue; }
	add look "$(field look_ns "$o")"
	add signal "$(field signal_ns "$o")"
	add ratio "$(field ratio "$o")"
	# the hot paths with 0 and 3 more threads waiting in poll, side by side
	for idle in 0 3; do
		CMD[t$idle]="$MMSCOPE run -q -f -o $WORK/t --hot=off --map /memfd:bench* -- $B/bench/traced_loop store 20000 $idle"
		o=$(${CMD[t$idle]}) || problem "traced_loop with $idle idle threads failed"
		add "t$idle" "$(field ns_per_access "$o")"
		CMD[w$idle]="$MMSCOPE run -q -f -o $WORK/w --hw-slots=0 --watch g:8 -- $B/bench/watch_loop hit 5000 $idle"
		o=$(${CMD[w$idle]}) || problem "watch_loop with $idle idle threads failed"
		add "w$idle" "$(field ns_per_store "$o")"
	done
	add tr "$(ratio "$(tail -n1 "$S/t3")" "$(tail -n1 "$S/t0")")"
	add wr "$(ratio "$(tail -n1 "$S/w3")" "$(tail -n1 "$S/w0")")"
done

section() {
cat <<EOS

## 9. A park's look at each thread's system call

Measured $(date -u +%Y-%m-%d) with \`$(show_cmd "$PROG $N")\`, $REPS times.
Before it signals a thread, a park (the slow path's, a debugger stop's)
reads \`/proc/self/task/TID/syscall\` to know the system call the thread
waits in, so that its handler can run again a wait the signal cut short
(\`poll\`, \`epoll_wait\`, \`nanosleep\`, ...; docs/debugging.md).  Beside
it, the round trip of a signal to a thread waiting in \`poll\`, which the
park pays for that thread anyway.  Per thread and park; a program with
one thread pays neither.

| per waiting thread, per park | ns (spread) |
|---|---|
| the look: open, read, close | $(median look) ($(spread look)) |
| the signal's round trip | $(median signal) ($(spread signal)) |
| look ÷ signal | **$(median ratio)×** ($(spread ratio)) |

A park's cost per thread grows by that ratio.  The hot paths of
sections 1 and 5 make no park per access; the same run, with three more
threads waiting in \`poll\` and without:

| per access | 0 waiting threads, ns | 3 waiting threads, ns | 3 ÷ 0 (spread) |
|---|---|---|---|
| traced 4-byte store | $(median t0) | $(median t3) | **$(median tr)×** ($(spread tr)) |
| page-watch hit | $(median w0) | $(median w3) | **$(median wr)×** ($(spread wr)) |

| figure | command |
|---|---|
| traced store, 0 / 3 | \`$(show_cmd "${CMD[t0]}")\` / \`… 3\` |
| page-watch hit, 0 / 3 | \`$(show_cmd "${CMD[w0]}")\` / \`… 3\` |

Problems found:
$(if [ -s "$PROBLEMS" ]; then cat "$PROBLEMS"; else echo "none."; fi)
EOS
}
section | sed '1{/^$/d}' | put_section 9 "$OUT"
log "bench: section 9 written to $OUT"
[ ! -s "$PROBLEMS" ]
