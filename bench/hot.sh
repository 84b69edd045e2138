#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/hot.sh: what a traced access costs on a patched hot site (issue 10,
# docs/design.md "Hot sites"): tests/progs/hotloop (N rounds of a 4-byte
# store and a 4-byte load, 6-byte instructions, on a traced memfd)
# natively, under mmscope on the fault path (--hot=off) and with its two
# sites patched (--hot=16), side by side in each repetition; a bare
# SIGSEGV round trip (bench/segv_baseline) for scale.  Section 11 of
# bench/RESULTS.md (replaced if there, else appended; `make bench-hot`).
#
# Knobs: BENCH_REPS (5), BENCH_ROUNDS (200000), BENCH_OUT.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-5}
N=${BENCH_ROUNDS:-200000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
PROG=$B/tests/progs/hotloop
SEGV=$B/bench/segv_baseline
MMSCOPE=$B/mmscope
. "$(dirname "$0")/lib.sh"
bench_need bench/hot.sh "$PROG" "$MMSCOPE" "$SEGV"
bench_init mmscope-hbench

ns_of() { # ns_of CMD...: wall nanoseconds of CMD
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || problem "failed: $*"
	t1=$(date +%s%N)
	echo $((t1 - t0))
}
MAP=(--map '/memfd:mmscope-hot*')
CMD[native]="$PROG $N"
CMD[off]="$MMSCOPE run -q -f -o $WORK/t --hot=off ${MAP[*]} -- $PROG $N"
CMD[hot]="$MMSCOPE run -q -f -o $WORK/t --hot=16 ${MAP[*]} -- $PROG $N"
CMD[segv]="$SEGV mixed $((2 * N))"

log "bench: 11. hot sites ($REPS repetitions of $N rounds)"
for rep in $(seq "$REPS"); do
	nat=$(ns_of "$PROG" "$N")
	off=$(ns_of "$MMSCOPE" run -q -f -o "$WORK/t" --hot=off "${MAP[@]}" -- "$PROG" "$N")
	hot=$(ns_of "$MMSCOPE" run -q -f -o "$WORK/t" --hot=16 "${MAP[@]}" -- "$PROG" "$N")
	grep -q "hot sites: 2 patched" "$WORK/t/agent.log" || problem "the two sites were not patched"
	seg=$(ns_of "$SEGV" mixed $((2 * N)))
	add native "$nat"
	add off "$off"
	add hot "$hot"
	add segv "$seg"
	# per access, the native run (startup included) taken away
	add off_per $(((off - nat) / (2 * N)))
	add hot_per $(((hot - nat) / (2 * N)))
	add ratio "$(awk -v a="$off" -v b="$hot" -v n="$nat" 'BEGIN { printf "%.1f", (a - n) / (b - n) }')"
done

section() {
cat <<EOS

## 11. Hot sites: patched instead of faulting

Measured $(date -u +%Y-%m-%d) by \`bench/hot.sh\`, $REPS times each, side by
side in every repetition: tests/progs/hotloop, $N rounds of a 4-byte store
and a 4-byte load (6-byte instructions) on a traced memfd, $((2 * N))
traced accesses, natively, on the fault path (\`--hot=off\`) and with both
sites patched after 16 faults (\`--hot=16\`, experimental).  Per access:
the whole run less the native run, over the accesses; recording
included (every access is a record of the trace).

| run | whole run, ms (spread) | per access, ns |
|---|---|---|
| native | $(median native 1000000) ($(spread native 1000000)) | — |
| mmscope, fault path (\`--hot=off\`) | $(median off 1000000) ($(spread off 1000000)) | $(median off_per) |
| mmscope, patched (\`--hot=16\`) | $(median hot 1000000) ($(spread hot 1000000)) | **$(median hot_per)** |
| fault path / patched, per access | | **$(median ratio)×** |
| bare SIGSEGV round trips, $((2 * N)) | $(median segv 1000000) ($(spread segv 1000000)) | |

The goal of issue 10 is ≤ 100 ns per access; this first step does not
reach it: mms_hot_enter runs the engine's general path (region lookup,
out-of-line re-execution, coalescing recorder, clock_gettime).

| figure | command |
|---|---|
| native | \`$(show_cmd "${CMD[native]}")\` |
| off | \`$(show_cmd "${CMD[off]}")\` |
| hot | \`$(show_cmd "${CMD[hot]}")\` |
| segv | \`$(show_cmd "${CMD[segv]}")\` |

Problems found:
$(if [ -s "$PROBLEMS" ]; then cat "$PROBLEMS"; else echo "none."; fi)
EOS
}
section | sed '1{/^$/d}' | put_section 11 "$OUT"
log "bench: section 11 written to $OUT"
[ ! -s "$PROBLEMS" ]
